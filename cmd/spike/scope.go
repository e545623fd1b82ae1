package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"strings"

	"github.com/spikeload/spike/scenarios"
)

// lookupFunc resolves a host name to its addresses (net.Resolver.LookupNetIP).
type lookupFunc func(ctx context.Context, host string) ([]netip.Addr, error)

func defaultLookup(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// isLocalAddr reports whether a is on this machine or a private network:
// loopback, RFC 1918 / RFC 4193 private, link-local, or unspecified.
func isLocalAddr(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsUnspecified()
}

// checkTargetScope guards against pointing a spike at the wrong server. A
// target outside loopback and private networks must be named once, in the
// scenario's allow_hosts or with --allow-host, so that a typo in --target
// cannot send a 10x spike to production; spike then prints the addresses
// the name resolves to and the peak rate before it sends anything. Nothing
// is asked interactively, so CI is never stuck. A name that does not resolve
// is left to the run (which counts the DNS errors).
func checkTargetScope(ctx context.Context, w io.Writer, plan *scenarios.Plan, target string, peak float64, lookup lookupFunc) error {
	u, err := url.Parse(target)
	if err != nil || u.Hostname() == "" {
		return nil
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		if lookup == nil {
			lookup = defaultLookup
		}
		if addrs, err = lookup(ctx, host); err != nil || len(addrs) == 0 {
			return nil
		}
	}
	public := false
	for _, a := range addrs {
		if !isLocalAddr(a) {
			public = true
		}
	}
	if !public {
		return nil
	}
	list := make([]string, len(addrs))
	for i, a := range addrs {
		list[i] = a.String()
	}
	where := fmt.Sprintf("%s resolves to %s, outside loopback and private networks", host, strings.Join(list, ", "))
	if host == list[0] {
		where = fmt.Sprintf("%s is outside loopback and private networks", host)
	}
	if !scenarios.HostAllowed(plan.AllowHosts, u.Host) {
		return inputErr(fmt.Errorf("target %s: %s; a spike peaks at %s req/s: name the host to confirm it, with --allow-host %s or allow_hosts: [%s] in the scenario",
			scenarios.RedactURL(target), where, scenarios.FormatRate(peak), host, host))
	}
	fmt.Fprintf(w, "spike: target %s; sending up to %s req/s there (allowed by allow_hosts)\n", where, scenarios.FormatRate(peak))
	return nil
}
