package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strconv"
	"syscall"
)

// ErrorKind classifies a fetch error for people: the dashboard shows a
// translated sentence per kind (the raw error, in English, stays in the
// detail), and the kinds are stable API values. It returns "" for nil.
//
// Kinds: blocked (SSRF guard: a private address not in --fetch-allow),
// robots, too_large, unsupported_url, http_NNN (the final status code),
// timeout, dns (the name does not resolve), refused (nothing listens),
// tls (certificate or handshake), other.
func ErrorKind(err error) string {
	var (
		se   *StatusError
		dnse *net.DNSError
		ne   net.Error
		cve  *tls.CertificateVerificationError
		uae  x509.UnknownAuthorityError
		hne  x509.HostnameError
		rhe  tls.RecordHeaderError
	)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrBlockedAddress):
		return "blocked"
	case errors.Is(err, ErrRobotsDisallowed):
		return "robots"
	case errors.Is(err, ErrTooLarge):
		return "too_large"
	case errors.Is(err, ErrUnsupportedURL):
		return "unsupported_url"
	case errors.As(err, &se):
		return "http_" + strconv.Itoa(se.StatusCode)
	case errors.As(err, &dnse):
		if dnse.IsTimeout {
			return "timeout"
		}
		return "dns"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.As(err, &cve), errors.As(err, &uae), errors.As(err, &hne), errors.As(err, &rhe):
		return "tls"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	default:
		return "other"
	}
}
