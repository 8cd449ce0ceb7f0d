package facts

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/trendwatch/trendwatch/schema"
)

// readLines reads a JSON Lines file one line at a time. An over-long line
// is reported and skipped without being held in memory.
func readLines(r io.Reader, parse func([]byte) (schema.Fact, error)) ([]schema.Fact, []RecordError, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		out  []schema.Fact
		errs []RecordError
		buf  []byte
	)
	for n := 1; ; n++ {
		buf = buf[:0]
		tooLong := false
		var err error
		for {
			var chunk []byte
			chunk, err = br.ReadSlice('\n')
			if !tooLong {
				buf = append(buf, chunk...)
				if len(buf) > MaxRecordBytes {
					tooLong, buf = true, buf[:0]
				}
			}
			if !errors.Is(err, bufio.ErrBufferFull) {
				break
			}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return out, errs, fmt.Errorf("line %d: %w", n, err)
		}
		switch line := bytes.TrimSpace(buf); {
		case tooLong:
			errs = append(errs, RecordError{Record: n, Reason: fmt.Sprintf("line longer than %d bytes", MaxRecordBytes)})
		case len(line) == 0:
		default:
			f, perr := parse(line)
			if perr == nil {
				perr = Normalize(&f)
			}
			if perr != nil {
				errs = append(errs, RecordError{Record: n, Reason: perr.Error()})
			} else {
				out = append(out, f)
			}
		}
		if err != nil {
			return out, errs, nil
		}
	}
}

// parseCheckThat2022 reads one CheckThat! 2022 line; the set is English
// Snopes claims, so Lang is set rather than guessed from a short claim.
func parseCheckThat2022(line []byte) (schema.Fact, error) {
	var r struct {
		Title    string `json:"title"`
		Subtitle string `json:"subtitle"`
		Author   string `json:"author"`
		Date     string `json:"date"`
		VclaimID string `json:"vclaim_id"`
		Vclaim   string `json:"vclaim"`
	}
	if err := json.Unmarshal(line, &r); err != nil {
		return schema.Fact{}, fmt.Errorf("invalid JSON: %w", err)
	}
	if r.Vclaim == "" && r.Title == "" {
		return schema.Fact{}, errors.New("no vclaim or title")
	}
	f := schema.Fact{ID: r.VclaimID, Claim: r.Vclaim, Title: r.Title, Summary: r.Subtitle, Publisher: r.Author, Lang: "en"}
	// The set's date field was scraped and a few rows hold article text
	// instead; the claim is still good, so such a date is dropped.
	f.Date, _ = parseDate(r.Date)
	return f, nil
}

// parseOwnJSONL reads one line of our export (a schema.Fact).
func parseOwnJSONL(line []byte) (schema.Fact, error) {
	var f schema.Fact
	if err := json.Unmarshal(line, &f); err != nil {
		return schema.Fact{}, fmt.Errorf("invalid JSON: %w", err)
	}
	if f.V > schema.Version {
		return schema.Fact{}, fmt.Errorf("schema version %d is newer than this build understands (%d)", f.V, schema.Version)
	}
	return f, nil
}
