package scenarios

import (
	"errors"
	"fmt"

	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// CheckYAMLBounds refuses YAML that would exhaust memory or time when
// decoded, for other YAML inputs spike reads with go-yaml (the importers'
// OpenAPI documents): flow collections nested deeper than MaxYAMLDepth, or,
// when the document uses aliases, more than MaxYAMLNodes values once they
// are expanded (a "billion laughs"). A document without aliases is bounded
// by its size alone. Errors name the line and column.
func CheckYAMLBounds(data []byte) error {
	if err := checkFlowDepth(data); err != nil {
		return positioned(err)
	}
	aliases := false
	for _, tk := range lexer.Tokenize(string(data)) {
		if tk.Type == token.AliasType {
			aliases = true
			break
		}
	}
	if !aliases {
		return nil
	}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return err
	}
	return positioned(checkTree(f))
}

func positioned(err error) error {
	var be *boundsError
	if errors.As(err, &be) {
		return fmt.Errorf("%d:%d: %s", be.line, be.col, be.msg)
	}
	return err
}
