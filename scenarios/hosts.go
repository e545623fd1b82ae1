package scenarios

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// URLHost returns the host[:port] of an absolute http(s) URL, and ok; for a
// relative URL (a path, sent to the target) it returns "", false.
func URLHost(raw string) (host string, ok bool) {
	scheme, rest, found := strings.Cut(raw, "://")
	if !found || strings.ContainsAny(scheme, "/?#{") {
		return "", false
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	return strings.ToLower(rest), true
}

// hostPort splits host[:port] and fills in the scheme's default port.
func hostPort(scheme, host string) (string, string) {
	h, port, err := net.SplitHostPort(host)
	if err != nil {
		h, port = strings.Trim(host, "[]"), ""
	}
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(scheme)]
	}
	return strings.ToLower(h), port
}

// SameHost reports whether two absolute URLs name the same host and port
// (a missing port is the scheme's default).
func SameHost(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	if err1 != nil || err2 != nil || ua.Host == "" || ub.Host == "" {
		return false
	}
	ha, pa := hostPort(ua.Scheme, ua.Host)
	hb, pb := hostPort(ub.Scheme, ub.Host)
	return ha == hb && pa == pb
}

// HostAllowed reports whether host (host or host:port, as in a URL) is named
// in allow: an entry without a port allows every port of its host.
func HostAllowed(allow []string, host string) bool {
	host = strings.ToLower(host)
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.Trim(name, "[]")
	return slices.ContainsFunc(allow, func(a string) bool {
		return a == host || strings.Trim(a, "[]") == name
	})
}

// CheckURLHost checks that an absolute request URL goes to the target's host
// or to a host in allow; it returns "" when it may be sent, else why not.
// Relative URLs always go to the target. target "" (not known yet) allows
// nothing to be checked; "demo" is the built-in app, on a host of its own.
func CheckURLHost(raw, target string, allow []string) string {
	host, abs := URLHost(raw)
	if !abs {
		return ""
	}
	if strings.Contains(host, "{{") {
		return fmt.Sprintf("the host of an absolute URL cannot be a template, got %q", RedactURL(raw))
	}
	if host == "" {
		return fmt.Sprintf("an absolute URL needs a host, got %q", RedactURL(raw))
	}
	if target == "" || HostAllowed(allow, host) {
		return ""
	}
	if target != "demo" && SameHost(raw, target) {
		return ""
	}
	where := "the target's"
	if target != "demo" {
		if u, err := url.Parse(target); err == nil {
			where = "the target's " + u.Host
		}
	} else {
		where = "the built-in app (target demo)"
	}
	return fmt.Sprintf("goes to host %s, not %s: list it in allow_hosts (or pass --allow-host %s) to send requests there", host, where, host)
}

// urlHost is CheckURLHost with the validator's target and allow list.
func (v *validator) urlHost(raw string) string { return CheckURLHost(raw, v.target, v.allow) }
