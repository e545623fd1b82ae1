package k8s

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spikeload/spike/engine"
	"github.com/spikeload/spike/result"
)

// The result travels in the pod's log between these lines, gzip-compressed
// and base64-encoded in lines of lineWidth characters, so that no log line
// is long enough for a container runtime to split it.
const (
	beginMarker = "-----BEGIN SPIKE RESULT-----"
	endMarker   = "-----END SPIKE RESULT-----"
	lineWidth   = 4096
)

// WriteResult writes doc to w as a block of lines ReadResult finds in a log.
func WriteResult(w io.Writer, doc *result.Document) error {
	var js bytes.Buffer
	if err := doc.WriteJSON(&js); err != nil {
		return err
	}
	return WriteResultJSON(w, js.Bytes())
}

// WriteResultJSON is WriteResult of a result.json file's content.
func WriteResultJSON(w io.Writer, js []byte) error {
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(js); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	enc := base64.StdEncoding.EncodeToString(gz.Bytes())
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, beginMarker)
	for len(enc) > 0 {
		n := min(lineWidth, len(enc))
		fmt.Fprintln(bw, enc[:n])
		enc = enc[n:]
	}
	fmt.Fprintln(bw, endMarker)
	return bw.Flush()
}

// IsLog reports whether data holds a result block (it is a log, not a
// result.json).
func IsLog(data []byte) bool { return bytes.Contains(data, []byte(beginMarker)) }

// ErrNoResult is returned by ReadResult when the log holds no result block.
var ErrNoResult = errors.New("no result in the log")

// ReadResult finds the last result block in a log written by WriteResult,
// decodes and validates it (result.Parse) and returns its run, to be merged
// (result.Document.ShardRun); name is used in errors. It reads at most
// result.MaxSize of decompressed result.
func ReadResult(name string, log io.Reader) (*engine.Result, error) {
	sc := bufio.NewScanner(log)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var (
		block  strings.Builder
		inside bool
		found  string
	)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == beginMarker:
			inside = true
			block.Reset()
		case line == endMarker && inside:
			inside = false
			found = block.String()
		case inside:
			block.WriteString(line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: read log: %w", name, err)
	}
	if found == "" {
		return nil, fmt.Errorf("%s: %w", name, ErrNoResult)
	}
	gz, err := base64.StdEncoding.DecodeString(found)
	if err != nil {
		return nil, fmt.Errorf("%s: result block: %w", name, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("%s: result block: %w", name, err)
	}
	js, err := io.ReadAll(io.LimitReader(zr, result.MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: result block: %w", name, err)
	}
	if len(js) > result.MaxSize {
		return nil, fmt.Errorf("%s: result block: larger than %d bytes", name, result.MaxSize)
	}
	doc, err := result.Parse(name, js)
	if err != nil {
		return nil, err
	}
	return doc.ShardRun(name)
}
