package main

import (
	"bytes"
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestCompletion runs cobra's hidden __complete command, which the shell
// scripts of `spike completion` call, and checks the candidates and the
// directive it prints.
func TestCompletion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args      string
		want      []string
		directive cobra.ShellCompDirective
	}{
		{"shapes ''", []string{"burst", "hackernews", "newsletter", "producthunt", "ramp", "tenx", "viral"}, cobra.ShellCompDirectiveNoFileComp},
		{"shapes v", []string{"viral"}, cobra.ShellCompDirectiveNoFileComp},
		{"shapes burst ''", []string{"hackernews", "newsletter", "producthunt", "ramp", "tenx", "viral"}, cobra.ShellCompDirectiveNoFileComp},
		{"run ''", []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt},
		{"plan ex", []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt},
		{"find ''", []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt},
		{"run a.yaml ''", nil, cobra.ShellCompDirectiveNoFileComp},
		{"report ''", []string{"json"}, cobra.ShellCompDirectiveFilterFileExt},
		{"compare old.json ''", []string{"json"}, cobra.ShellCompDirectiveFilterFileExt},
		{"compare a.json b.json ''", nil, cobra.ShellCompDirectiveNoFileComp},
		{"run a.yaml --baseline-result ''", []string{"json"}, cobra.ShellCompDirectiveFilterFileExt},
		{"run a.yaml --out ''", nil, cobra.ShellCompDirectiveFilterDirs},
		{"demo --fix ''", []string{"cdn", "cache", "queue", "sessions", "scale"}, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace},
		{"target --fix cache,c", []string{"cache,cdn"}, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace},
		{"import har ''", []string{"har", "json"}, cobra.ShellCompDirectiveFilterFileExt},
		{"import openapi ''", []string{"yaml", "yml", "json"}, cobra.ShellCompDirectiveFilterFileExt},
		{"import har x.har --shape n", []string{"newsletter"}, cobra.ShellCompDirectiveNoFileComp},
		{"import vegeta t.txt --format ''", []string{"http", "json"}, cobra.ShellCompDirectiveNoFileComp},
		{"import curl ''", nil, cobra.ShellCompDirectiveNoFileComp},
		{"''", []string{"compare", "completion", "demo", "find", "help", "import", "plan", "report", "run", "schema", "shapes", "target"}, cobra.ShellCompDirectiveNoFileComp},
	}
	for _, tt := range tests {
		args := []string{"__complete"}
		for _, a := range strings.Fields(tt.args) {
			args = append(args, strings.Trim(a, "'"))
		}
		var out, errOut bytes.Buffer
		if code := run(context.Background(), &IOStreams{Out: &out, ErrOut: &errOut}, args); code != 0 {
			t.Errorf("spike __complete %s = exit %d (%s)", tt.args, code, errOut.String())
			continue
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		last := lines[len(lines)-1]
		var got []string
		for _, l := range lines[:len(lines)-1] {
			got = append(got, strings.SplitN(l, "\t", 2)[0])
		}
		if wantDir := ":" + strconv.Itoa(int(tt.directive)); last != wantDir {
			t.Errorf("spike __complete %s: directive %s; want %s", tt.args, last, wantDir)
		}
		if tt.args == "''" {
			// Commands are added over time; the ones listed must be there.
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("spike __complete '' = %q; want %q among them", got, w)
				}
			}
		} else if !slices.Equal(got, tt.want) {
			t.Errorf("spike __complete %s = %q; want %q", tt.args, got, tt.want)
		}
	}
}
