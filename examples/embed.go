// Package examples holds spike's example scenarios (embedded, so `spike demo`
// works from any folder) and, in mvpapp, the example target.
package examples

import "embed"

// Scenarios holds the example scenario files, by file name.
//
//go:embed *.yaml
var Scenarios embed.FS
