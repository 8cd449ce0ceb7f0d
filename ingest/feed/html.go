package feed

import (
	"html"
	"regexp"
	"strings"
	"unicode"

	xhtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/text/unicode/norm"
)

// HTMLText returns the readable text of an HTML fragment: tags removed,
// entities decoded, script/style/template content dropped, block elements
// turned into line breaks and runs of white space collapsed. It uses the
// x/net/html tokenizer (the WHATWG tokenizer the standard library's
// authors maintain) rather than a sanitiser, because we want text, not
// safe HTML. Plain text passes through with entities decoded. The result
// is NFC, the form every analyzer stage expects (Windows-1258 and some
// feeds produce decomposed Vietnamese).
func HTMLText(s string) string {
	out := htmlText(s)
	// Feeds often escape their HTML twice; a second pass removes the
	// tags that the first one decoded.
	if closingTag.MatchString(out) {
		out = htmlText(out)
	}
	return norm.NFC.String(out)
}

// closingTag spots HTML that survived one pass (double-escaped content).
var closingTag = regexp.MustCompile(`</(?i:p|a|div|span|b|i|em|strong|li|ul|ol|table|td|tr|h[1-6]|blockquote|br|img)>`)

func htmlText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return collapse(s)
	}
	var b strings.Builder
	z := xhtml.NewTokenizer(strings.NewReader(s))
	skip := 0
	for {
		switch z.Next() {
		case xhtml.ErrorToken:
			return collapse(b.String())
		case xhtml.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			switch {
			case a == atom.Script || a == atom.Style || a == atom.Template || a == atom.Noscript:
				skip++
			case a == atom.Br || a == atom.Img || a == atom.Hr || a == atom.Li || a == atom.Tr || a == atom.Dt || a == atom.Dd:
				b.WriteByte('\n')
			case a == atom.Td || a == atom.Th:
				b.WriteByte(' ')
			case isBlock(a):
				b.WriteString("\n\n")
			}
		case xhtml.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			switch {
			case a == atom.Script || a == atom.Style || a == atom.Template || a == atom.Noscript:
				if skip > 0 {
					skip--
				}
			case isBlock(a):
				b.WriteString("\n\n")
			}
		}
	}
}

func isBlock(a atom.Atom) bool {
	switch a {
	case atom.P, atom.Div, atom.Ul, atom.Ol, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6,
		atom.Blockquote, atom.Pre, atom.Table, atom.Section, atom.Article,
		atom.Header, atom.Footer, atom.Figure, atom.Figcaption, atom.Dl:
		return true
	}
	return false
}

// collapse decodes any remaining entities (double-escaped feeds are
// common), folds horizontal white space to one space and keeps at most one
// blank line between paragraphs.
func collapse(s string) string {
	if strings.Contains(s, "&") {
		s = html.UnescapeString(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	newlines, space := 0, false
	for _, r := range s {
		switch {
		case r == '\n':
			newlines++
			space = false
		case unicode.IsSpace(r) || r == '\u00a0':
			space = true
		case unicode.IsControl(r):
			// drop control characters (NUL and friends break consumers)
		default:
			if b.Len() > 0 {
				switch {
				case newlines >= 2:
					b.WriteString("\n\n")
				case newlines == 1:
					b.WriteByte('\n')
				case space:
					b.WriteByte(' ')
				}
			}
			newlines, space = 0, false
			b.WriteRune(r)
		}
	}
	return b.String()
}
