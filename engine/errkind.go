package engine

import "strings"

// Error kinds for transport failures (no HTTP response).
const (
	KindTimeout = "timeout"
	KindRefused = "refused"
	KindReset   = "reset"
	KindDNS     = "dns"
	KindTLS     = "tls"
	// KindClient is a failure inside spike's own HTTP client, before the
	// target was asked anything: an invalid header value, a bad URL, an
	// unsupported scheme. It is never the target's fault.
	KindClient = "client"
	KindOther  = "other"
)

// ErrorKinds lists the transport error kinds in display order.
var errorKinds = [...]string{KindTimeout, KindRefused, KindReset, KindDNS, KindTLS, KindClient, KindOther}

// ErrorKinds returns the transport error kinds in display order.
func ErrorKinds() []string { return append([]string(nil), errorKinds[:]...) }

// ClassifyError returns the kind of a transport error message.
func ClassifyError(msg string) string {
	switch {
	case isClientError(msg):
		return KindClient
	case strings.Contains(msg, "Client.Timeout"), strings.Contains(msg, "deadline exceeded"),
		strings.Contains(msg, "i/o timeout"), strings.Contains(msg, "timeout awaiting"):
		return KindTimeout
	case strings.Contains(msg, "connection refused"):
		return KindRefused
	case strings.Contains(msg, "connection reset"), strings.Contains(msg, "broken pipe"),
		strings.HasSuffix(msg, "EOF"), strings.Contains(msg, "server closed"):
		return KindReset
	case strings.Contains(msg, "no such host"), strings.Contains(msg, "lookup "):
		return KindDNS
	case strings.Contains(msg, "tls:"), strings.Contains(msg, "x509:"), strings.Contains(msg, "certificate"):
		return KindTLS
	}
	return KindOther
}

func kindIndex(k string) int {
	for i, x := range errorKinds {
		if x == k {
			return i
		}
	}
	return len(errorKinds) - 1
}

// errorMessage shortens a transport error for error samples: the request
// URL prefix ("Get \"http://…\": ") is dropped so messages group together.
func errorMessage(msg string) string {
	if i := strings.Index(msg, "\": "); i >= 0 && strings.Contains(msg[:i], " \"") {
		msg = msg[i+3:]
	}
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return msg
}

// clientErrors are texts of errors Go's HTTP client (or vegeta's request
// building) returns before anything reaches the network.
var clientErrors = []string{
	"invalid header field", "net/http: invalid", "unsupported protocol scheme", "invalid URL",
	"missing protocol scheme", "no Host in request URL", "invalid port", "first path segment in URL",
	"invalid control character in URL", "net/http: nil Context", "http: ContentLength=",
	"invalid method", "tls: either ServerName or InsecureSkipVerify",
}

func isClientError(msg string) bool {
	for _, s := range clientErrors {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
