package fetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrBlockedAddress is returned (wrapped) when a request would connect to an
// address that is not on the public internet and not on the allow-list.
var ErrBlockedAddress = errors.New("address is not public and not allow-listed")

// blockedPrefixes are ranges a collector must never reach unless told to:
// internal services, cloud metadata endpoints, the host itself. netip's
// IsPrivate/IsLoopback/... cover most; these are the ones it does not.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // CGNAT (RFC 6598)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, incl. broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: checked on the embedded IPv4 below
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
	netip.MustParsePrefix("2002::/16"),       // 6to4 can tunnel to any IPv4, incl. private
}

// IsPublic reports whether ip is a globally routable unicast address.
func IsPublic(ip netip.Addr) bool {
	ip = ip.Unmap() // ::ffff:127.0.0.1 is 127.0.0.1
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() ||
		ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() ||
		ip.IsMulticast() {
		return false
	}
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	// IPv4-compatible (::a.b.c.d, deprecated) addresses are judged as IPv4.
	if ip.Is6() {
		b := ip.As16()
		if isZero(b[:12]) {
			return IsPublic(netip.AddrFrom4([4]byte(b[12:])))
		}
	}
	return true
}

func isZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// allowList holds the CIDRs and host names an operator lets collectors
// reach even though they are not public (intranets, tests on loopback).
type allowList struct {
	prefixes []netip.Prefix
	hosts    map[string]bool
}

// parseAllowList accepts CIDRs ("10.1.0.0/16"), single addresses
// ("127.0.0.1", "::1") and host names ("intranet.example").
func parseAllowList(entries []string) (allowList, error) {
	a := allowList{hosts: map[string]bool{}}
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if p, err := netip.ParsePrefix(e); err == nil {
			a.prefixes = append(a.prefixes, p.Masked())
			continue
		}
		if ip, err := netip.ParseAddr(strings.Trim(e, "[]")); err == nil {
			a.prefixes = append(a.prefixes, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
			continue
		}
		if strings.ContainsAny(e, "/:[] ") {
			return allowList{}, fmt.Errorf("invalid allow-list entry %q: neither a CIDR, an address nor a host name", e)
		}
		a.hosts[strings.ToLower(strings.TrimSuffix(e, "."))] = true
	}
	return a, nil
}

func (a allowList) allowsIP(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range a.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func (a allowList) allowsHost(host string) bool {
	return len(a.hosts) > 0 && a.hosts[strings.ToLower(strings.TrimSuffix(host, "."))]
}

// control runs after DNS resolution, for every connection attempt
// (including each redirect hop and each address of a multi-address host),
// so neither a redirect nor a host name pointing at 127.0.0.1 escapes it.
func (a allowList) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse dial address %q: %v", ErrBlockedAddress, address, err)
	}
	ip := ap.Addr().Unmap()
	if IsPublic(ip) || a.allowsIP(ip) {
		return nil
	}
	return fmt.Errorf("%w: %s (%s)", ErrBlockedAddress, ip, network)
}

// dialer returns a DialContext that applies the guard, except for host
// names on the allow-list, which may resolve anywhere.
func (a allowList) dialer(timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	guarded := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: a.control}
	open := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err == nil && a.allowsHost(host) {
			return open.DialContext(ctx, network, addr)
		}
		return guarded.DialContext(ctx, network, addr)
	}
}

// CheckURL tells, before any fetch, whether the guard will refuse rawURL:
// its host is an address that is not public and not allow-listed, or a
// name that resolves only to such addresses. A name that does not resolve
// now is not refused (DNS may be down; the poll will tell), nor is one
// with at least one reachable address. Callers use it to refuse a source
// at once rather than let it fail at every poll.
func (c *Client) CheckURL(ctx context.Context, rawURL string) error {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || u.Hostname() == "" {
		return fmt.Errorf("%w: %q", ErrUnsupportedURL, rawURL)
	}
	allow, _ := parseAllowList(c.opts.Allow) // validated in New
	host := u.Hostname()
	if allow.allowsHost(host) {
		return nil
	}
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if addrs, err = net.DefaultResolver.LookupNetIP(lctx, "ip", host); err != nil || len(addrs) == 0 {
			return nil
		}
	}
	for _, ip := range addrs {
		if IsPublic(ip) || allow.allowsIP(ip) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s is %s", ErrBlockedAddress, host, addrs[0].Unmap())
}
