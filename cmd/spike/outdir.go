package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// outputNames are the files a run writes into its --out folder.
var outputNames = []string{"result.json", "report.html"}

// prepareOut makes the output folder ready before a single request is sent,
// so that a run's data is never lost to an unwritable folder at its end:
// it creates out, moves an earlier run's result.json and report.html into
// out/earlier-TIMESTAMP/ (both results are kept; it says so on ios.ErrOut),
// and checks that a file can be written there. Any failure is a bad --out
// (exit 2).
func prepareOut(ios *IOStreams, out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return inputErr(fmt.Errorf("--out %s: cannot create the output folder: %w", out, err))
	}
	if st, err := os.Stat(filepath.Join(out, "result.json")); err == nil {
		earlier := filepath.Join(out, "earlier-"+st.ModTime().Format("20060102-150405"))
		for n := 2; ; n++ {
			if _, err := os.Stat(earlier); errors.Is(err, os.ErrNotExist) {
				break
			}
			earlier = filepath.Join(out, fmt.Sprintf("earlier-%s-%d", st.ModTime().Format("20060102-150405"), n))
		}
		if err := os.Mkdir(earlier, 0o755); err != nil {
			return inputErr(fmt.Errorf("--out %s holds an earlier result, which cannot be moved aside: %w", out, err))
		}
		for _, name := range outputNames {
			if err := os.Rename(filepath.Join(out, name), filepath.Join(earlier, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return inputErr(fmt.Errorf("--out %s holds an earlier result, which cannot be moved aside: %w", out, err))
			}
		}
		fmt.Fprintf(ios.ErrOut, "spike: %s held an earlier result; moved it to %s (both are kept)\n", out, earlier)
	}
	probe, err := os.CreateTemp(out, ".spike-write-check-*")
	if err != nil {
		return inputErr(fmt.Errorf("--out %s: cannot write there: %w", out, err))
	}
	name := probe.Name()
	_, werr := probe.WriteString("spike")
	cerr := probe.Close()
	os.Remove(name)
	if err := errors.Join(werr, cerr); err != nil {
		return inputErr(fmt.Errorf("--out %s: cannot write there: %w", out, err))
	}
	return nil
}

// writeResultFallback writes a result that could not be written to its
// folder into a new folder under the system's temporary directory, so that
// the measurements survive; it returns the folder.
func writeResultFallback(write func(dir string) error) (string, error) {
	dir, err := os.MkdirTemp("", "spike-result-"+time.Now().Format("20060102-150405")+"-*")
	if err != nil {
		return "", err
	}
	return dir, write(dir)
}
