package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Topic events are the hottest messages in the pipeline (each post fans out
// to a dozen of them), so they get a hand-written codec. The wire format is
// exactly what encoding/json produces and accepts: the fast decoder handles
// only the plain form that the encoder writes and falls back to
// encoding/json for anything else, so results and errors never differ.

// DecodeTopicEvent parses a topic event.
func DecodeTopicEvent(b []byte) (TopicEvent, error) {
	e, ok := decodeTopicEventFast(b)
	if !ok {
		return decodeTopicEventJSON(b)
	}
	if err := checkVersion(e.V); err != nil {
		return TopicEvent{}, fmt.Errorf("cannot decode topic event: %w", err)
	}
	return e, validateTopicEvent(&e)
}

// decodeTopicEventJSON is the reference decoder the fast path must match.
func decodeTopicEventJSON(b []byte) (TopicEvent, error) {
	var e TopicEvent
	if err := decode(b, &e, &e.V); err != nil {
		return TopicEvent{}, fmt.Errorf("cannot decode topic event: %w", err)
	}
	return e, validateTopicEvent(&e)
}

func validateTopicEvent(e *TopicEvent) error {
	if e.Topic == "" || e.PostID == "" || e.Time.IsZero() {
		return errors.New("topic event lacks topic, post_id or time")
	}
	return nil
}

// decodeTopicEventFast parses the flat object the encoder writes, fields in
// any order, with JSON whitespace. It reports false for anything it does not
// handle exactly like encoding/json would (escapes, unknown, duplicate or
// case-folded keys, nulls, non-integer numbers, invalid UTF-8, trailing
// data, bad times…); the caller then takes the encoding/json path.
func decodeTopicEventFast(b []byte) (e TopicEvent, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return e, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return e, skipSpace(b, i+1) == len(b)
	}
	var seen uint8
	for {
		key, j, ok := scanString(b, i)
		if !ok {
			return e, false
		}
		i = skipSpace(b, j)
		if i >= len(b) || b[i] != ':' {
			return e, false
		}
		i = skipSpace(b, i+1)
		var bit uint8
		var dst *string
		switch string(key) {
		case "v":
			bit = 1 << 0
			if e.V, i, ok = scanInt(b, i); !ok {
				return e, false
			}
		case "topic":
			bit, dst = 1<<1, &e.Topic
		case "post_id":
			bit, dst = 1<<2, &e.PostID
		case "author":
			bit, dst = 1<<3, &e.Author
		case "source":
			bit, dst = 1<<4, &e.Source
		case "platform":
			bit, dst = 1<<5, &e.Platform
		case "lang":
			bit, dst = 1<<6, &e.Lang
		case "time":
			bit = 1 << 7
			start := i
			if _, i, ok = scanString(b, i); !ok {
				return e, false
			}
			// encoding/json hands time.Time the raw literal, quotes included.
			if e.Time.UnmarshalJSON(b[start:i]) != nil {
				return e, false
			}
		default:
			return e, false
		}
		if dst != nil {
			var s []byte
			if s, i, ok = scanString(b, i); !ok {
				return e, false
			}
			*dst = internString(bit, s)
		}
		if seen&bit != 0 { // duplicate: encoding/json keeps the last one, leave it to it
			return e, false
		}
		seen |= bit
		i = skipSpace(b, i)
		if i >= len(b) {
			return e, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return e, skipSpace(b, i+1) == len(b)
		default:
			return e, false
		}
	}
}

// internString returns s as a string, without allocating for the common
// platform values: every event of a post repeats them.
func internString(field uint8, s []byte) string {
	if field == 1<<6 && len(s) <= 3 {
		if l, ok := commonLangs[string(s)]; ok {
			return l
		}
	}
	if field == 1<<5 {
		switch string(s) {
		case "rss":
			return "rss"
		case "web":
			return "web"
		case "mastodon":
			return "mastodon"
		case "bluesky":
			return "bluesky"
		case "reddit":
			return "reddit"
		case "telegram":
			return "telegram"
		case "youtube":
			return "youtube"
		case "push":
			return "push"
		}
	}
	// One allocation per field rather than one string sliced for all: the
	// trend detector keeps topic keys and post ids for hours, and a shared
	// backing array would pin the whole message behind each of them.
	return string(s)
}

// commonLangs interns the language codes most events carry.
var commonLangs = func() map[string]string {
	m := make(map[string]string)
	for _, l := range strings.Fields("en vi fr de es pt it nl pl ru uk tr ar fa hi id th ja ko zh ms tl und") {
		m[l] = l
	}
	return m
}()

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanString reads the JSON string starting at b[i] (the opening quote) and
// returns its contents and the index after the closing quote. It reports
// false for escapes, control characters and invalid UTF-8, which
// encoding/json would unescape, reject or replace.
func scanString(b []byte, i int) (s []byte, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	start := i + 1
	ascii := true
	for j := start; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			s = b[start:j]
			if !ascii && !utf8.Valid(s) {
				return nil, i, false
			}
			return s, j + 1, true
		case c == '\\' || c < 0x20:
			return nil, i, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, i, false
}

// scanInt reads a JSON integer in its plain form (no fraction, exponent or
// leading zero) small enough not to overflow.
func scanInt(b []byte, i int) (n int, next int, ok bool) {
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		n = n*10 + int(b[i]-'0')
		i++
	}
	digits := i - start
	switch {
	case digits == 0 || digits > 18:
		return 0, i, false
	case b[start] == '0' && digits > 1:
		return 0, i, false
	case i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E'):
		return 0, i, false
	}
	if neg {
		n = -n
	}
	return n, i, true
}

// EncodeTopicEvent returns the message for e: the same bytes as Encode(&e)
// (the version stamped, e itself left as is).
func EncodeTopicEvent(e TopicEvent) ([]byte, error) {
	n := len(`{"v":1,"topic":"","post_id":"","author":"","source":"","platform":"","lang":"","time":""}`) +
		len("2006-01-02T15:04:05.999999999-07:00") +
		len(e.Topic) + len(e.PostID) + len(e.Author) + len(e.Source) + len(e.Platform) + len(e.Lang)
	return AppendTopicEvent(make([]byte, 0, n), e)
}

// AppendTopicEvent appends the message for e to dst; see EncodeTopicEvent.
// On error dst is returned unchanged.
func AppendTopicEvent(dst []byte, e TopicEvent) ([]byte, error) {
	n0 := len(dst)
	dst = append(dst, `{"v":`...)
	dst = appendInt(dst, Version)
	dst = append(dst, `,"topic":`...)
	dst = appendJSONString(dst, e.Topic)
	dst = append(dst, `,"post_id":`...)
	dst = appendJSONString(dst, e.PostID)
	if e.Author != "" {
		dst = append(dst, `,"author":`...)
		dst = appendJSONString(dst, e.Author)
	}
	if e.Source != "" {
		dst = append(dst, `,"source":`...)
		dst = appendJSONString(dst, e.Source)
	}
	if e.Platform != "" {
		dst = append(dst, `,"platform":`...)
		dst = appendJSONString(dst, e.Platform)
	}
	if e.Lang != "" {
		dst = append(dst, `,"lang":`...)
		dst = appendJSONString(dst, e.Lang)
	}
	dst = append(dst, `,"time":"`...)
	// AppendText writes what MarshalJSON quotes (RFC 3339 with nanoseconds)
	// and fails on the same times; json.Marshal then gives the exact error.
	out, err := e.Time.AppendText(dst)
	if err != nil {
		return dst[:n0], topicEventMarshalError(e, err)
	}
	return append(out, `"}`...), nil
}

// topicEventMarshalError returns json.Marshal's error for e. It is a
// separate function so that e only escapes to the heap on this rare path.
func topicEventMarshalError(e TopicEvent, appendErr error) error {
	e.setVersion()
	if _, err := json.Marshal(&e); err != nil {
		return err
	}
	return fmt.Errorf("cannot encode topic event time: %w", appendErr)
}

func appendInt(dst []byte, n int) []byte {
	if n < 0 {
		dst = append(dst, '-')
		n = -n
	}
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(dst, buf[i:]...)
}

const hexDigits = "0123456789abcdef"

// htmlSafe marks the ASCII bytes json.Marshal copies as they are: it
// escapes control characters, quote, backslash and <, >, &.
var htmlSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString quotes s exactly as json.Marshal does (HTML-safe,
// U+2028/U+2029 escaped, invalid UTF-8 replaced by \ufffd).
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if htmlSafe[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
