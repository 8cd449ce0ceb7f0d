// Package urlcanon reduces the many spellings of one article's address to a
// single canonical form, so that a story shared through a feed, a crawler
// and a social post counts once: tracking parameters and fragments are
// removed, AMP and mobile variants folded onto the main site, the scheme
// folded to https, the host lower-cased and the query sorted.
//
// The standard library's net/url does the parsing; the rules here are the
// ones news sites and social platforms actually produce.
package urlcanon

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"
)

// trackingParams are dropped wherever they appear. Prefix entries end in "*".
var trackingParams = []string{
	"utm_*", "fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "igshid", "igsh",
	"mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id",
	"ref", "ref_src", "ref_url", "referrer", "src", "source", "cmpid", "cmp", "campaign",
	"at_medium", "at_campaign", "at_*", "xtor", "ns_*", "spm", "share", "share_source",
	"si", "feature", "amp", "amp_js_v", "usqp", "outputtype", "output", "ito", "wt.mc_id",
	"rss", "ocid", "smid", "smtyp", "s_cid", "cid", "sref", "taid", "vn_source", "zarsrc", "utm",
}

// mobilePrefixes are host labels that mark a mobile or AMP copy of a site.
var mobilePrefixes = []string{"www.", "m.", "mobile.", "amp.", "mobi.", "touch."}

// ErrNotHTTP is returned for URLs that are not http(s) with a host.
var ErrNotHTTP = errors.New("not an http(s) URL with a host")

// Canonical returns the canonical form of raw, or an error when raw is not
// an absolute http(s) URL.
func Canonical(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("cannot parse URL %q: %w", raw, err)
	}
	scheme := strings.ToLower(u.Scheme)
	if (scheme != "http" && scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("cannot canonicalise %q: %w", raw, ErrNotHTTP)
	}
	host := u.Hostname()
	if !utf8.ValidString(host) {
		return "", fmt.Errorf("cannot canonicalise %q: host is not valid UTF-8", raw)
	}
	host = strings.TrimRight(strings.ToLower(host), ".")
	if host == "" || strings.ContainsAny(host, "/?#@ ") {
		return "", fmt.Errorf("cannot canonicalise %q: %w", raw, ErrNotHTTP)
	}
	port := u.Port()
	if port == "80" || port == "443" {
		port = ""
	}
	// Google's AMP cache serves example-com.cdn.ampproject.org/c/s/example.com/path.
	if strings.HasSuffix(host, ".cdn.ampproject.org") {
		p := u.Path
		for _, pre := range []string{"/c/s/", "/v/s/", "/c/", "/v/"} {
			if strings.HasPrefix(p, pre) {
				return Canonical("https://" + strings.TrimPrefix(p, pre) + rawQuery(u))
			}
		}
	}
	if net.ParseIP(host) == nil {
		for changed := true; changed; {
			changed = false
			for _, pre := range mobilePrefixes {
				if strings.HasPrefix(host, pre) && strings.Count(host, ".") >= 2 {
					host = strings.TrimPrefix(host, pre)
					changed = true
				}
			}
		}
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]" // bare IPv6 literal
	}

	path := u.EscapedPath()
	path = foldAMPPath(path)
	for strings.Contains(path, "//") {
		path = strings.ReplaceAll(path, "//", "/")
	}
	if len(path) > 1 {
		path = strings.TrimSuffix(path, "/")
	}
	if path == "/" {
		path = ""
	}

	q := u.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		if isTracking(k) {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("https://")
	b.WriteString(host)
	b.WriteString(path)
	for i, k := range keys {
		vals := append([]string(nil), q[k]...)
		sort.Strings(vals)
		for j, v := range vals {
			if i == 0 && j == 0 {
				b.WriteByte('?')
			} else {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k))
			if v != "" {
				b.WriteByte('=')
				b.WriteString(url.QueryEscape(v))
			}
		}
	}
	return b.String(), nil
}

func rawQuery(u *url.URL) string {
	if u.RawQuery == "" {
		return ""
	}
	return "?" + u.RawQuery
}

// foldAMPPath removes the AMP markers publishers put in paths:
// /amp/..., .../amp, ...amp.html, ....amp.
func foldAMPPath(p string) string {
	switch {
	case strings.HasPrefix(p, "/amp/"):
		p = p[len("/amp"):]
	case strings.HasSuffix(p, "/amp") || strings.HasSuffix(p, "/amp/"):
		p = strings.TrimSuffix(strings.TrimSuffix(p, "/"), "/amp")
	case strings.HasSuffix(p, ".amp.html"):
		p = strings.TrimSuffix(p, ".amp.html") + ".html"
	case strings.HasSuffix(p, ".amp"):
		p = strings.TrimSuffix(p, ".amp")
	}
	return p
}

func isTracking(k string) bool {
	k = strings.ToLower(k)
	for _, t := range trackingParams {
		if strings.HasSuffix(t, "*") {
			if strings.HasPrefix(k, t[:len(t)-1]) {
				return true
			}
		} else if k == t {
			return true
		}
	}
	return false
}

// Host returns the registrable-looking host of a canonical URL (no port),
// used as the "domain" of a post; "" when the URL does not parse.
func Host(canonical string) string {
	u, err := url.Parse(canonical)
	if err != nil {
		return ""
	}
	return u.Hostname()
}
