package main

import (
	"fmt"

	"github.com/google/renameio/v2"
	"github.com/spf13/cobra"

	"github.com/spikeload/spike/scenarios"
)

// SchemaOptions holds `spike schema`'s flags.
type SchemaOptions struct {
	IO *IOStreams
	// Output is the file to write, or "" for standard output.
	Output string
}

func newSchemaCmd(ios *IOStreams, runF func(*SchemaOptions) error) *cobra.Command {
	opts := &SchemaOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of the scenario format, for editors",
		Long: `Print the JSON Schema (draft-07) of spike's scenario format. Editors that use
yaml-language-server (VS Code's YAML extension, Neovim, Helix, JetBrains) then
complete keys, show each field's documentation and underline mistakes while
you type. Point a scenario at it with a first line such as

  # yaml-language-server: $schema=../scenarios/schema.json

The same schema is kept in the repository as scenarios/schema.json. The schema
checks each value on its own; rules that need the whole file (duplicate request
names, the run's length after time_scale) are still checked by spike plan.`,
		Example: `  spike schema > spike-scenario.schema.json
  spike schema -o .vscode/spike.schema.json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runSchema(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "write the schema to this file instead of standard output")
	return cmd
}

func runSchema(opts *SchemaOptions) error {
	s := scenarios.JSONSchema()
	if opts.Output == "" {
		_, err := opts.IO.Out.Write(s)
		return err
	}
	if err := renameio.WriteFile(opts.Output, s, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "wrote %s\n", opts.Output)
	return nil
}
