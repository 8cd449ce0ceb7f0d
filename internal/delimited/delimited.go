// Package delimited reads tab- or comma-separated records with RFC 4180
// quoting, as the facts importer and the query files of `match` need them,
// without ever losing a line in silence.
//
// Quoting: a field is quoted only when it is a whole quoted field — it
// starts with '"' and its closing '"' is followed by the separator, the end
// of the line or the end of the input; inside it, "" is one quote and line
// breaks are kept, so a quoted field may span lines (the CheckThat! 2020
// claims file has some). Any other quote is literal text: a claim written
// `"Miracle" cure for …` is one unquoted field, not the start of a quoted
// field that swallows the lines after it (which is what encoding/csv's
// LazyQuotes does, and why this package exists). A field that opens a
// quote never closed before the end of the input, or within MaxRecord
// bytes, is a bad record naming its line; reading resumes on the next
// line, so one stray quote costs at most its own line.
//
// Every physical line is accounted for: each Next returns a record (its
// first and last line), a *RecordError for a bad one, or io.EOF. Blank
// lines are skipped, as encoding/csv does.
package delimited

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// MaxRecord is the default cap on a record's size in bytes.
const MaxRecord = 1 << 20

// RecordError is a record that could not be read; reading goes on after it.
type RecordError struct {
	Line   int // 1-based line where the record starts
	Reason string
}

func (e *RecordError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// Reader reads records from an input.
type Reader struct {
	br    *bufio.Reader
	sep   byte
	max   int
	buf   []byte // unconsumed input: whole physical lines, each ending in '\n' but the last at EOF
	off   int    // start of the unconsumed part of buf
	line  int    // line number of buf[off]
	eof   bool
	err   error        // a read error, reported once the buffer is used up
	long  map[int]bool // lines cut at max bytes
	field []byte
}

// NewReader reads records separated by sep (a single ASCII byte such as
// '\t' or ','), each at most MaxRecord bytes.
func NewReader(r io.Reader, sep byte) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 64<<10), sep: sep, max: MaxRecord, line: 1}
}

// SetMaxRecord changes the record size cap (for tests and callers with
// their own limit).
func (r *Reader) SetMaxRecord(n int) { r.max = max(n, 1) }

// fill appends one more physical line to buf. A line longer than max is
// cut there (its rest is read and dropped) and remembered as long.
func (r *Reader) fill() bool {
	if r.eof {
		return false
	}
	if r.off > 0 && r.off >= len(r.buf)/2 {
		n := copy(r.buf, r.buf[r.off:])
		r.buf, r.off = r.buf[:n], 0
	}
	lineNo := r.line + bytes.Count(r.buf[r.off:], []byte{'\n'})
	start, total, newline := len(r.buf), 0, false
	for {
		chunk, err := r.br.ReadSlice('\n')
		total += len(chunk)
		if room := r.max + 1 - (len(r.buf) - start); room > 0 {
			r.buf = append(r.buf, chunk[:min(len(chunk), room)]...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		newline = err == nil
		if err != nil {
			r.eof = true
			if !errors.Is(err, io.EOF) {
				r.err = err
			}
		}
		break
	}
	if content := total - btoi(newline); content > r.max {
		if r.long == nil {
			r.long = map[int]bool{}
		}
		r.long[lineNo] = true
		r.buf = r.buf[:start+r.max]
		if newline {
			r.buf = append(r.buf, '\n')
		}
	}
	return len(r.buf) > start
}

// at returns the byte at i of the unconsumed input, reading lines as
// needed; ok is false at the end of the input.
func (r *Reader) at(i int) (byte, bool) {
	for r.off+i >= len(r.buf) {
		if !r.fill() {
			return 0, false
		}
	}
	return r.buf[r.off+i], true
}

// Next returns the next record's fields and the lines it spans. A bad
// record is a *RecordError (continue reading); io.EOF ends the input; any
// other error is the underlying reader's. The fields are valid until the
// next call.
func (r *Reader) Next() (fields []string, first, last int, err error) {
	for {
		c, ok := r.at(0)
		if !ok {
			if r.err != nil {
				return nil, 0, 0, r.err
			}
			return nil, 0, 0, io.EOF
		}
		if r.long[r.line] {
			first = r.line
			r.skipLine()
			return nil, first, first, &RecordError{Line: first, Reason: fmt.Sprintf("line longer than %d bytes", r.max)}
		}
		// Blank lines are not records.
		if c == '\n' {
			r.consume(1)
			continue
		}
		if c == '\r' {
			if c2, ok := r.at(1); !ok || c2 == '\n' {
				r.consume(min(2, len(r.buf)-r.off))
				continue
			}
		}
		break
	}
	first = r.line
	var out []string
	i := 0 // position in the unconsumed input
	for {
		val, next, ok := r.quoted(i)
		if !ok {
			val, next = r.unquoted(i)
		} else if next < 0 {
			// Unterminated: the whole record is bad; skip its first line.
			reason := "quoted field is never closed"
			if next == -2 {
				reason = fmt.Sprintf("quoted field is not closed within %d bytes", r.max)
			}
			r.skipLine()
			return nil, first, first, &RecordError{Line: first, Reason: reason}
		}
		out = append(out, val)
		c, ok := r.at(next)
		if ok && c == r.sep {
			i = next + 1
			continue
		}
		// End of line (or input): consume through the newline.
		end := next
		if ok && c == '\r' {
			end++
			c, ok = r.at(end)
		}
		if ok && c == '\n' {
			end++
		}
		last = r.line + bytes.Count(r.buf[r.off:r.off+next], []byte{'\n'})
		long := false
		for l := first; l <= last; l++ {
			if r.long[l] {
				long = true
				delete(r.long, l)
			}
		}
		r.consume(end)
		if long {
			return nil, first, last, &RecordError{Line: first, Reason: fmt.Sprintf("line longer than %d bytes", r.max)}
		}
		return out, first, last, nil
	}
}

// quoted reads a whole quoted field starting at i. ok is false when the
// field at i is not one (no opening quote, or a quote inside that neither
// doubles nor closes). next is the position after the closing quote, -1
// when the input ends first, -2 when the field passes max bytes.
func (r *Reader) quoted(i int) (val string, next int, ok bool) {
	if c, ok := r.at(i); !ok || c != '"' {
		return "", 0, false
	}
	r.field = r.field[:0]
	for j := i + 1; ; j++ {
		if j-i > r.max {
			return "", -2, true
		}
		c, ok := r.at(j)
		if !ok {
			return "", -1, true
		}
		if c == '\r' {
			if c2, ok := r.at(j + 1); ok && c2 == '\n' {
				continue // CRLF inside a quoted field is a line break, "\n"
			}
		}
		if c != '"' {
			r.field = append(r.field, c)
			continue
		}
		c2, ok := r.at(j + 1)
		switch {
		case !ok || c2 == r.sep || c2 == '\n':
			return string(r.field), j + 1, true
		case c2 == '\r':
			if c3, ok := r.at(j + 2); !ok || c3 == '\n' {
				return string(r.field), j + 1, true
			}
			return "", 0, false
		case c2 == '"':
			r.field = append(r.field, '"')
			j++
		default:
			return "", 0, false
		}
	}
}

// unquoted reads a literal field from i to the separator or the end of
// the line; a trailing '\r' of a CRLF line is not part of it.
func (r *Reader) unquoted(i int) (string, int) {
	if _, ok := r.at(i); !ok {
		return "", i
	}
	// fill appends whole lines, so the rest of this line is buffered.
	rest := r.buf[r.off+i:]
	if nl := bytes.IndexByte(rest, '\n'); nl >= 0 {
		rest = rest[:nl]
	}
	j := len(rest)
	if k := bytes.IndexByte(rest, r.sep); k >= 0 {
		j = k
	}
	end := j
	if j == len(rest) && end > 0 && rest[end-1] == '\r' {
		end--
		j = end
	}
	return string(rest[:end]), i + j
}

// skipLine consumes the current physical line.
func (r *Reader) skipLine() {
	n := 0
	for {
		c, ok := r.at(n)
		if !ok {
			break
		}
		n++
		if c == '\n' {
			break
		}
	}
	delete(r.long, r.line)
	r.consume(n)
}

// consume drops n bytes of the unconsumed input, counting lines.
func (r *Reader) consume(n int) {
	r.line += bytes.Count(r.buf[r.off:r.off+n], []byte{'\n'})
	r.off += n
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
