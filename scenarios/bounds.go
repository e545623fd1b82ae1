package scenarios

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/token"
)

// Bounds on what a scenario may hold. They are far above any real scenario and
// far below what would exhaust memory or time: a hostile or broken file is an
// error naming the bound, never a crash.
const (
	// MaxScenarioSize is the largest scenario file, in bytes.
	MaxScenarioSize = 1 << 20
	// MaxBodySize is the largest body_file, in bytes.
	MaxBodySize = 8 << 20
	// MaxYAMLDepth is the deepest nesting of YAML collections.
	MaxYAMLDepth = 64
	// MaxYAMLNodes is the most YAML nodes a scenario may hold once its
	// aliases are expanded (each alias counts as the nodes it stands for).
	MaxYAMLNodes = 100_000
	// MaxJourneys is the most journeys a scenario may hold.
	MaxJourneys = 100
	// MaxSteps is the most steps a journey may hold. Every step is recorded
	// apart, so memory grows with windows × steps.
	MaxSteps = 100
	// MaxExtracts is the most variables one step may extract.
	MaxExtracts = 32
	// MaxThink is the longest think time after a step.
	MaxThink = time.Hour
)

// SizeError is returned when a file is larger than a bound.
type SizeError struct {
	Path  string
	Limit int64
}

func (e *SizeError) Error() string {
	return fmt.Sprintf("%s: larger than %s, the most spike reads", e.Path, formatBytes(e.Limit))
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// ReadFileMax reads the file at path, refusing it with a *SizeError as soon
// as it holds more than limit bytes: the size is checked while reading, so a
// device such as /dev/zero or a growing file cannot exhaust memory.
func ReadFileMax(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAllMax(f, path, limit)
}

// ReadAllMax reads r to its end, at most limit bytes; name is used in the
// *SizeError returned when r holds more.
func ReadAllMax(r io.Reader, name string, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &SizeError{Path: name, Limit: limit}
	}
	return data, nil
}

// IsSizeError reports whether err is (or wraps) a *SizeError.
func IsSizeError(err error) bool {
	var se *SizeError
	return errors.As(err, &se)
}

// boundsError is a bound exceeded at a position of the YAML.
type boundsError struct {
	line, col int
	msg       string
}

func (e *boundsError) Error() string { return e.msg }

// checkFlowDepth refuses YAML whose flow collections ([…], {…}) nest deeper
// than MaxYAMLDepth, before the parser recurses into them. It reads the
// token stream, which costs time linear in the input.
func checkFlowDepth(data []byte) error {
	depth := 0
	for _, tk := range lexer.Tokenize(string(data)) {
		switch tk.Type {
		case token.SequenceStartType, token.MappingStartType:
			depth++
			if depth > MaxYAMLDepth {
				return &boundsError{tk.Position.Line, tk.Position.Column,
					fmt.Sprintf("nested more than %d levels deep", MaxYAMLDepth)}
			}
		case token.SequenceEndType, token.MappingEndType:
			depth--
		}
	}
	return nil
}

// checkTree refuses a parsed file nested deeper than MaxYAMLDepth or holding
// more than MaxYAMLNodes nodes once aliases are expanded: an alias chain
// ("billion laughs") or a chain of merge keys grows exponentially with a few
// hundred bytes. Each anchor's size is computed once, so the check costs
// time linear in the file.
func checkTree(f *ast.File) error {
	c := &treeCounter{anchors: map[string]int{}}
	total := 0
	for _, d := range f.Docs {
		n, err := c.count(d.Body, 0)
		if err != nil {
			return err
		}
		if total += n; total > MaxYAMLNodes {
			return c.errAt(d.Body, fmt.Sprintf("more than %d values", MaxYAMLNodes))
		}
	}
	return nil
}

type treeCounter struct {
	anchors map[string]int // expanded size of each anchor's node
}

// count returns the expanded size of n: its nodes, an alias counting as the
// nodes of its anchor.
func (c *treeCounter) count(n ast.Node, depth int) (int, error) {
	if n == nil {
		return 0, nil
	}
	if depth > MaxYAMLDepth {
		return 0, c.errAt(n, fmt.Sprintf("nested more than %d levels deep", MaxYAMLDepth))
	}
	size := 1
	add := func(child ast.Node) error {
		s, err := c.count(child, depth+1)
		size += s
		return err
	}
	switch n := n.(type) {
	case *ast.MappingNode:
		for _, v := range n.Values {
			if err := add(v); err != nil {
				return 0, err
			}
		}
	case *ast.MappingValueNode:
		if err := add(n.Key); err != nil {
			return 0, err
		}
		if err := add(n.Value); err != nil {
			return 0, err
		}
	case *ast.MappingKeyNode:
		if err := add(n.Value); err != nil {
			return 0, err
		}
	case *ast.SequenceNode:
		for _, v := range n.Values {
			if err := add(v); err != nil {
				return 0, err
			}
		}
	case *ast.SequenceEntryNode:
		if err := add(n.Value); err != nil {
			return 0, err
		}
	case *ast.TagNode:
		if err := add(n.Value); err != nil {
			return 0, err
		}
	case *ast.AnchorNode:
		s, err := c.count(n.Value, depth+1)
		if err != nil {
			return 0, err
		}
		size += s
		if n.Name != nil {
			c.anchors[n.Name.String()] = s
		}
	case *ast.AliasNode:
		if n.Value != nil {
			size += c.anchors[n.Value.String()]
		}
	}
	if size > MaxYAMLNodes {
		return 0, c.errAt(n, fmt.Sprintf("more than %d values once aliases are expanded (an alias chain?)", MaxYAMLNodes))
	}
	return size, nil
}

func (c *treeCounter) errAt(n ast.Node, msg string) error {
	line, col := 0, 0
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		line, col = tk.Position.Line, tk.Position.Column
	}
	return &boundsError{line, col, msg}
}
