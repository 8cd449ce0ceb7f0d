package feed

import (
	"bytes"
	"fmt"
	"mime"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// xmlDecl matches the XML declaration's encoding pseudo-attribute.
var xmlDecl = regexp.MustCompile(`(?i)^(\s*<\?xml[^>]*?encoding\s*=\s*["'])([A-Za-z0-9._:-]+)(["'])`)

// ToUTF8 converts a feed body to UTF-8 and rewrites its XML declaration to
// say so, because feeds in the wild often lie about or omit their
// encoding. The order follows RFC 7303 (BOM, then the HTTP charset, then
// the XML declaration) with two corrections for what servers actually
// send: a declared single-byte charset on a body that is valid multi-byte
// UTF-8 is taken as UTF-8, and a body that claims (or defaults to) UTF-8
// but is not valid UTF-8 is decoded as Windows-1252, the superset of
// ISO-8859-1 that undeclared Western European feeds use. It returns the
// encoding it used.
func ToUTF8(body []byte, contentType string) ([]byte, string, error) {
	// A BOM is unambiguous.
	if e, name, n := bomEncoding(body); e != nil {
		out, err := e.NewDecoder().Bytes(body[n:])
		if err != nil {
			return nil, name, fmt.Errorf("cannot decode %s body: %w", name, err)
		}
		return rewriteDecl(out), name, nil
	}
	label := ""
	if _, params, err := mime.ParseMediaType(contentType); err == nil {
		label = params["charset"]
	}
	if m := xmlDecl.FindSubmatch(body); label == "" && m != nil {
		label = string(m[2])
	}
	valid := utf8.Valid(body)
	enc, name := encoding.Encoding(nil), "utf-8"
	if label != "" {
		if e, canon := charset.Lookup(label); e != nil {
			enc, name = e, canon
		}
	}
	switch {
	case name == "utf-8" && valid:
		return rewriteDecl(body), "utf-8", nil
	case name == "utf-8":
		enc, name = charmap.Windows1252, "windows-1252"
	case valid && hasMultiByte(body) && isSingleByte(name):
		// Declared Latin-1 (say) but the bytes are real UTF-8.
		return rewriteDecl(body), "utf-8", nil
	}
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		return nil, name, fmt.Errorf("cannot decode %s body: %w", name, err)
	}
	return rewriteDecl(out), name, nil
}

func bomEncoding(b []byte) (encoding.Encoding, string, int) {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return unicode.UTF8, "utf-8", 3
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), "utf-16be", 2
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "utf-16le", 2
	}
	return nil, "", 0
}

func hasMultiByte(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}

func isSingleByte(name string) bool {
	return strings.HasPrefix(name, "iso-8859") || strings.HasPrefix(name, "windows-125") || name == "macintosh" || name == "koi8-r" || name == "koi8-u" || name == "ibm866"
}

// rewriteDecl makes the XML declaration say UTF-8 so the XML parser does
// not decode a second time.
func rewriteDecl(b []byte) []byte {
	if loc := xmlDecl.FindSubmatchIndex(b); loc != nil {
		out := make([]byte, 0, len(b))
		out = append(out, b[:loc[4]]...)
		out = append(out, "UTF-8"...)
		out = append(out, b[loc[5]:]...)
		return out
	}
	return b
}
