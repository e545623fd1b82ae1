package charts

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// EChartsVersion is the version of Apache ECharts embedded in spike and
// inlined into every report (npm echarts, dist/echarts.min.js); its licence
// files are in charts/assets.
const EChartsVersion = "5.4.3"

// echartsSHA256 pins the embedded file's content (hex SHA-256 of
// assets/echarts.min.js); a test checks it.
const echartsSHA256 = "1156429a16a38cb8604dcc6518c19406d4226142d908f8edd2e3531443c54d19"

// echartsJS is assets/echarts.min.js, unchanged.
//
//go:embed assets/echarts.min.js
var echartsJS string

// pageCSS, errorsJS, initJS and selftestJS are the report's own style and
// scripts. Every script is static (no report data in it), so the page's
// Content-Security-Policy can allow exactly these scripts by hash.
var (
	//go:embed page/report.css
	pageCSS string
	//go:embed page/errors.js
	errorsJS string
	//go:embed page/init.js
	initJS string
	//go:embed page/selftest.js
	selftestJS string
)

// inlineText returns s as an HTML parser will hand it to the browser inside
// a <script> or <style> element: CRLF and lone CR become LF. The CSP hashes
// are over that text, so they must be computed (and the page written) from
// it; echarts.min.js starts with a CRLF licence header.
func inlineText(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// scriptHash returns the CSP source expression allowing the inline script
// (or style) whose text is s; s must already be inlineText.
func scriptHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// hexSHA256 returns the hex SHA-256 of s.
func hexSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
