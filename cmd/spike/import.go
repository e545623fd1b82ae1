package main

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/google/renameio/v2"
	"github.com/spf13/cobra"

	"github.com/spikeload/spike/scenarios"
	"github.com/spikeload/spike/scenarios/importers"
)

// ImportOptions holds `spike import`'s flags and arguments.
type ImportOptions struct {
	IO *IOStreams
	// Kind is har, curl, vegeta or openapi.
	Kind string
	// Input is the file to read ("-" for standard input); for curl, the
	// commands themselves unless File is set.
	Input    string
	Commands []string
	File     string
	Output   string
	Format   string
	Opts     importers.Options
}

func newImportCmd(ios *IOStreams, runF func(*ImportOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import KIND INPUT",
		Short: "Write a scenario from a browser recording, curl commands, vegeta targets or an OpenAPI spec",
		Long: `Write a commented spike scenario from traffic you already have:

  spike import har FILE.har         a browser recording (DevTools, "Save all as HAR")
  spike import curl 'curl …' …      commands as "Copy as cURL" gives them
  spike import vegeta targets.txt   vegeta's http or JSON target formats
  spike import openapi spec.yaml    an OpenAPI 3.0 or 3.1 description (YAML or JSON)

The scenario is written to standard output, or atomically to --output. Secrets in
the input (Authorization and Cookie headers, API keys and tokens in headers,
query strings and bodies) are never copied: they become {{env "NAME"}}
references, listed at the top of the file; set those variables before spike
plan or spike run. Requests to hosts other than the main one are listed in a
comment and left out unless --include-host names them. Check the result with
spike plan, set its baseline to your normal traffic and pick a shape.

Bad input exits with code 2 and says where the problem is.`,
		Example: `  spike import har shop.har -o shop.yaml
  spike import curl "$(pbpaste)" --target http://127.0.0.1:8080 -o api.yaml
  spike import vegeta targets.txt --baseline 50 --shape burst
  spike import openapi openapi.yaml -o api.yaml`,
	}
	type kind struct {
		name, use, short string
		exts             []string
	}
	for _, k := range []kind{
		{"har", "har FILE.har", "Import a browser recording (HAR): a weighted mix of its requests", []string{"har", "json"}},
		{"curl", "curl 'curl …' ['curl …' …]", "Import curl commands (as \"Copy as cURL\" gives them)", nil},
		{"vegeta", "vegeta TARGETS", "Import vegeta targets (http or JSON format), read by vegeta's own targeters", nil},
		{"openapi", "openapi SPEC", "Import an OpenAPI 3.0 or 3.1 description: one request per operation", []string{"yaml", "yml", "json"}},
	} {
		opts := &ImportOptions{IO: ios, Kind: k.name}
		sub := &cobra.Command{
			Use:   k.use,
			Short: k.short,
			RunE: func(cmd *cobra.Command, args []string) error {
				switch {
				case k.name == "curl" && opts.File != "":
					if len(args) > 0 {
						return &flagError{fmt.Errorf("spike import curl: give commands as arguments or --file, not both")}
					}
					opts.Input = opts.File
				case k.name == "curl" && len(args) == 1 && args[0] == "-":
					opts.Input = "-"
				case k.name == "curl":
					if len(args) == 0 {
						return &flagError{fmt.Errorf("spike import curl: expected one or more curl commands (or --file FILE, or - for standard input)")}
					}
					opts.Commands = args
				case len(args) != 1:
					return &flagError{fmt.Errorf("spike import %s: expected one input file (or - for standard input), got %d argument(s)", k.name, len(args))}
				default:
					opts.Input = args[0]
				}
				if runF != nil {
					return runF(opts)
				}
				return runImport(opts)
			},
		}
		if k.exts != nil {
			sub.ValidArgsFunction = oneArg(completeExt(k.exts...))
		} else if k.name == "curl" {
			sub.ValidArgsFunction = cobra.NoFileCompletions
		}
		f := sub.Flags()
		f.StringVarP(&opts.Output, "output", "o", "", "write the scenario to `FILE` (atomically) instead of standard output")
		f.StringVar(&opts.Opts.Name, "name", "", "the scenario's name (default: from the input)")
		f.StringVar(&opts.Opts.Target, "target", "", "base URL of the target (default: the input's main host)")
		f.Float64Var(&opts.Opts.Baseline, "baseline", importers.DefaultBaseline, "today's normal traffic in req/s, written as baseline:")
		f.StringVar(&opts.Opts.Shape, "shape", importers.DefaultShape, "the preset written as shape: (see spike shapes)")
		_ = sub.RegisterFlagCompletionFunc("shape", completePresets)
		_ = sub.RegisterFlagCompletionFunc("output", completeExt("yaml", "yml"))
		if k.name != "openapi" {
			f.StringSliceVar(&opts.Opts.IncludeHosts, "include-host", nil, "also keep requests to `HOST` (repeatable; default: only the main host)")
		}
		switch k.name {
		case "curl":
			f.StringVarP(&opts.File, "file", "f", "", "read the commands from `FILE` (- for standard input)")
		case "vegeta":
			f.StringVar(&opts.Format, "format", "", "the targets' format: http or json (default: json when the file starts with {)")
			_ = sub.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"http", "json"}, cobra.ShellCompDirectiveNoFileComp))
		}
		cmd.AddCommand(sub)
	}
	return cmd
}

func runImport(opts *ImportOptions) error {
	o := opts.Opts
	if o.Baseline <= 0 {
		return usageErr("--baseline must be > 0 req/s, got %g", o.Baseline)
	}
	if !slices.ContainsFunc(scenarios.Presets(), func(p scenarios.Preset) bool { return p.Name == o.Shape }) {
		return usageErr("--shape: unknown preset %q (see spike shapes)", o.Shape)
	}
	if o.Target != "" {
		if u, err := url.Parse(o.Target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usageErr("--target must be an http(s) URL like https://staging.example.com, got %q", o.Target)
		}
	}
	if opts.Format != "" && opts.Format != importers.VegetaHTTP && opts.Format != importers.VegetaJSON {
		return usageErr("--format must be http or json, got %q", opts.Format)
	}
	var data []byte
	if opts.Commands != nil {
		o.Source = "command line"
		if o.Name == "" {
			o.Name = "curl"
		}
		data = []byte(strings.Join(opts.Commands, "\n"))
	} else {
		o.Source = opts.Input
		var err error
		if data, err = readInput(opts.IO.In, opts.Input); err != nil {
			return usageErr("%v", err)
		}
	}
	var (
		s   *importers.Scenario
		err error
	)
	r := strings.NewReader(string(data))
	switch opts.Kind {
	case "har":
		s, err = importers.HAR(r, o)
	case "curl":
		s, err = importers.Curl(string(data), o)
	case "vegeta":
		s, err = importers.Vegeta(r, opts.Format, o)
	case "openapi":
		s, err = importers.OpenAPI(r, o)
	}
	var ie *importers.InputError
	if errors.As(err, &ie) {
		return withCode(exitUsage, err)
	}
	if err != nil {
		return err
	}
	out := s.YAML()
	if opts.Output == "" {
		_, err := opts.IO.Out.Write(out)
		return err
	}
	if err := renameio.WriteFile(opts.Output, out, 0o644); err != nil {
		return err
	}
	n := fmt.Sprintf("%d requests", len(s.Requests))
	if len(s.Requests) == 1 {
		n = "1 request"
	}
	fmt.Fprintf(opts.IO.ErrOut, "wrote %s: %s to %s\n", opts.Output, n, orNone(s.Target))
	if len(s.Secrets) > 0 {
		names := make([]string, len(s.Secrets))
		for i, sec := range s.Secrets {
			names[i] = sec.Env
		}
		fmt.Fprintf(opts.IO.ErrOut, "set %s before spike plan %s\n", strings.Join(names, ", "), opts.Output)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "no target (set target:, or pass --target)"
	}
	return s
}

// readInput reads a file, or standard input for "-", up to the importers'
// size limit.
func readInput(stdin io.Reader, name string) ([]byte, error) {
	var r io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, errors.Unwrap(err))
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.IsDir() {
			return nil, fmt.Errorf("read %s: is a directory", name)
		}
		r = f
	} else if stdin == nil {
		return nil, fmt.Errorf("no standard input")
	}
	data, err := io.ReadAll(io.LimitReader(r, importers.MaxInputSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > importers.MaxInputSize {
		return nil, fmt.Errorf("%s: larger than %d MiB", name, importers.MaxInputSize>>20)
	}
	return data, nil
}
