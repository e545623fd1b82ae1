package main

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// inputErr marks err as a bad input file (exit 2), without the hint to
// --help that a usage mistake gets.
func inputErr(err error) error { return &codeError{code: exitUsage, err: err, noHint: true} }

// termSafe returns a writer that shows control characters other than newline
// and tab as Go escapes (\x1b, \r, \u009b), so text a result file or a
// target controls (a target URL, a request name, an error body) cannot move
// the cursor, clear the screen or recolour a terminal.
func termSafe(w io.Writer) io.Writer { return &termSafeWriter{w: w} }

type termSafeWriter struct{ w io.Writer }

func (t *termSafeWriter) Write(p []byte) (int, error) {
	if !hasControl(string(p), "\n\t") {
		return t.w.Write(p)
	}
	if _, err := io.WriteString(t.w, escapeControl(string(p), "\n\t")); err != nil {
		return 0, err
	}
	return len(p), nil
}

// oneLine returns s with every control character escaped, newlines
// included: for a value from a file that must stay on its line.
func oneLine(s string) string {
	if !hasControl(s, "") {
		return s
	}
	return escapeControl(s, "")
}

func hasControl(s, keep string) bool {
	for _, r := range s {
		if isControl(r) && !strings.ContainsRune(keep, r) {
			return true
		}
	}
	return false
}

func isControl(r rune) bool { return r == utf8.RuneError || unicode.IsControl(r) }

func escapeControl(s, keep string) string {
	var b strings.Builder
	for _, r := range s {
		if !isControl(r) || strings.ContainsRune(keep, r) {
			b.WriteRune(r)
			continue
		}
		q := fmt.Sprintf("%q", string(r))
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}
