package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/trendwatch/trendwatch/schema"
)

// Limits on a flag's post ids: a flag names a few example posts, not its
// whole topic, so one runaway detector cannot write megabyte rows.
const (
	maxFlagPostIDs = 100
	maxFlagTopic   = 1024
	maxFlagKind    = 64
)

// validFlag reports the first problem that makes f unstorable.
func validFlag(f *schema.Flag) error {
	switch {
	case f.Topic == "":
		return errors.New("flag has no topic")
	case len(f.Topic) > maxFlagTopic:
		return fmt.Errorf("flag topic longer than %d bytes", maxFlagTopic)
	case f.Kind == "":
		return errors.New("flag has no kind")
	case len(f.Kind) > maxFlagKind:
		return fmt.Errorf("flag kind longer than %d bytes", maxFlagKind)
	case f.Time.IsZero():
		return errors.New("flag has no time")
	case math.IsNaN(f.Score) || math.IsInf(f.Score, 0):
		return fmt.Errorf("flag score %v is not a finite number", f.Score)
	}
	return nil
}

// WriteFlags stores trend flags. A flag is identified by its topic, kind
// and time (to the second): writing it again stores it once, and the
// latest write's score, counts and post ids win. A batch holding an
// invalid flag is refused whole, before anything is written.
func (s *Store) WriteFlags(ctx context.Context, flags []schema.Flag) error {
	if len(flags) == 0 {
		return nil
	}
	for i := range flags {
		if err := validFlag(&flags[i]); err != nil {
			return fmt.Errorf("cannot write flag %d (%q %q): %w", i, flags[i].Topic, flags[i].Kind, err)
		}
	}
	b, err := s.prepare(ctx, "trend_flags", qInsertFlags)
	if err != nil {
		return err
	}
	for i := range flags {
		f := &flags[i]
		ids := nonNil(f.PostIDs)
		if len(ids) > maxFlagPostIDs {
			ids = ids[:maxFlagPostIDs]
		}
		// A version per row: a later copy of a flag, in this batch or a
		// later one, wins.
		if err := b.append(f.Topic, f.Kind, dt(f.Time), f.Score, int64(f.Count), int64(f.Authors), ids, s.nextVersion()); err != nil {
			b.batch.Abort()
			return err
		}
	}
	return b.send()
}

// FlagQuery selects flags with From <= Time < To.
type FlagQuery struct {
	From, To time.Time // zero From: since the beginning; zero To: no upper bound
	Kind     string    // only this kind, "" for all
	Topic    string    // only this topic, "" for all
	Limit    int       // default 100, at most 10000
}

// Flags lists the stored flags matching q, newest first (then by topic
// and kind), each once whatever the number of times it was written.
func (s *Store) Flags(ctx context.Context, q FlagQuery) ([]schema.Flag, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	q.Limit = min(q.Limit, 10000)
	from, to := minDateTime, maxDateTime
	if !q.From.IsZero() {
		from = dt(q.From)
	}
	if !q.To.IsZero() {
		to = dt(q.To)
	}
	if !from.Before(to) {
		return nil, fmt.Errorf("invalid flag range [%s, %s): empty", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	// DateTime has whole seconds: a sub-second To must still exclude its
	// own second only when it is exactly on it, so round it up.
	toSec := to.Unix()
	if to.Nanosecond() != 0 {
		toSec++
	}
	rows, err := s.conn.Query(ctx, qFlags, from.Unix(), toSec, q.Kind, q.Kind, q.Topic, q.Topic, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("cannot query flags: %w", err)
	}
	defer rows.Close()
	var out []schema.Flag
	for rows.Next() {
		f := schema.Flag{V: schema.Version}
		var posts, authors int64
		if err := rows.Scan(&f.Topic, &f.Kind, &f.Time, &f.Score, &posts, &authors, &f.PostIDs); err != nil {
			return nil, fmt.Errorf("cannot read flags: %w", err)
		}
		f.Time = f.Time.UTC()
		f.Count, f.Authors = int(posts), int(authors)
		if len(f.PostIDs) == 0 {
			f.PostIDs = nil
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read flags: %w", err)
	}
	return out, nil
}
