package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/result"
	"github.com/spikeload/spike/scenarios"
)

// redacting returns a copy of ios whose Out and ErrOut mask the secrets red
// knows (see scenarios.Redactor), and whose Redactor the file writers use:
// every output of a run passes through red.
func (ios *IOStreams) redacting(red *scenarios.Redactor) *IOStreams {
	c := *ios
	c.Out, c.ErrOut, c.Redactor = red.Writer(ios.Out), red.Writer(ios.ErrOut), red
	return &c
}

// writeFileAtomic renders a file with write, passes it through filter (nil:
// none; red.Bytes masks secrets) and writes it to path atomically: a reader
// never sees a half-written file under the final name.
func writeFileAtomic(path string, filter func([]byte) []byte, write func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	data := buf.Bytes()
	if filter != nil {
		data = filter(data)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if pe := (*os.PathError)(nil); errors.As(err, &pe) {
		return &os.PathError{Op: "open", Path: path, Err: pe.Err} // name the file asked for
	} else if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// redactResult returns a copy of v (a run, or a whole result.json
// document) with its secrets masked (red nil: by key only). The copy goes
// through JSON and is masked as JSON text, so that the HTML report is
// rendered from clean data: masking the rendered HTML would also touch the
// charts' JavaScript.
func redactResult[T engine.Result | result.Document](red *scenarios.Redactor, v *T) (*T, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out T
	if err := json.Unmarshal(red.Bytes(b), &out); err != nil {
		return nil, fmt.Errorf("mask secrets in the result: %w", err)
	}
	return &out, nil
}

// maskErr is an error whose message has its secrets masked; the exit
// code of the error it replaces is kept.
func maskErr(red *scenarios.Redactor, err error) error {
	if err == nil {
		return nil
	}
	var ce *codeError
	if errors.As(err, &ce) {
		if ce.err == nil {
			return err
		}
		return &codeError{code: ce.code, err: errors.New(red.String(ce.err.Error())), noHint: ce.noHint}
	}
	if scenarios.IsLoadError(err) {
		return err
	}
	return fmt.Errorf("%s", red.String(err.Error()))
}
