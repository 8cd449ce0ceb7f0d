package clickhouse

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	compactedPeriods = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "store", Name: "compacted_periods_total",
		Help: "Hours and days the compactor (re)computed, by span.",
	}, []string{"span"})
	compactErrors = promauto.NewCounter(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "store", Name: "compact_errors_total",
		Help: "Compaction rounds that failed (retried next round).",
	})
	compactStale = promauto.NewGauge(prometheus.GaugeOpts{
		Namespace: "trendwatch", Subsystem: "store", Name: "compact_stale_hours",
		Help: "Closed hours whose exact counts were missing or out of date at the last round's start.",
	})
)

// CompactStats says what one Compact call did.
type CompactStats struct {
	Hours, Days int // periods (re)computed
}

// CompactLimits bound what one Compact call does.
type CompactLimits struct {
	MaxHours int // hours (re)computed per call; 0 for all
	// Settle is how long an hour stays open after its end: rows of
	// batches still in flight land in it for a little while.
	Settle time.Duration
	// RecompactAfter is how long a compacted hour that received late rows
	// waits before it is compacted again (readers count it raw meanwhile):
	// crawlers deliver late posts into the last hours for a while, and each
	// compaction reads the whole hour. 0: at once.
	RecompactAfter time.Duration
}

// Compact writes the exact counts of every closed hour (ended Settle
// before now) whose topic rows changed since it was last compacted, or
// never was, and the author sketches of every closed UTC day whose hours
// did (migration 009). It is idempotent and never needed for correct
// answers: readers count uncompacted or changed hours from topic_posts.
// Newest hours first, so a backlog serves the likeliest windows first.
// Run it from one process at a time (serve's --compact-every): two at
// once do the work twice, and should one die between writing an hour and
// recording it, the other's record could name rows the newer write
// replaces on merge, leaving that hour short until it gets new rows.
func (s *Store) Compact(ctx context.Context, now time.Time, lim CompactLimits) (CompactStats, error) {
	var st CompactStats
	end := now.Add(-lim.Settle).Unix()
	closed := floorTo(end, hourSecs)
	cur, err := s.hourDeliveries(ctx, 0, closed)
	if err != nil {
		return st, err
	}
	done, err := s.compactions(ctx, hourSecs, 0, closed)
	if err != nil {
		return st, err
	}
	var stale []int64
	waiting := 0
	for h, n := range cur {
		c, ok := done[h]
		switch {
		case ok && c.deliveries == n:
		case ok && lim.RecompactAfter > 0 && now.Sub(time.Unix(0, int64(c.version))) < lim.RecompactAfter:
			waiting++ // versions are the compaction's time in ns
		default:
			stale = append(stale, h)
		}
	}
	compactStale.Set(float64(len(stale) + waiting))
	slices.Sort(stale)
	slices.Reverse(stale)
	if lim.MaxHours > 0 && len(stale) > lim.MaxHours {
		stale = stale[:lim.MaxHours]
	}
	// One pass per day over its stale hours (see qCompactHours).
	for len(stale) > 0 {
		day := floorTo(stale[0], daySecs)
		var batch []pin
		for len(stale) > 0 && stale[0] >= day && stale[0] < day+daySecs {
			batch = append(batch, pin{start: stale[0]})
			stale = stale[1:]
		}
		lo, hi := batch[len(batch)-1].start, batch[0].start+hourSecs // newest first
		hours := compactHours(batch)
		v := s.nextVersion()
		for _, c := range []struct {
			q    string
			args []any
		}{
			{fmt.Sprintf(qCompactHours, hours), []any{v, lo, hi, v, lo, hi}},
			{fmt.Sprintf(qCompactHourKeys, hours, keyRowsMin), []any{v, lo, hi, lo, hi, lo, hi, lo, hi}},
			{fmt.Sprintf(qCompactHourFacts, hours), []any{v, lo, hi, lo, hi}},
		} {
			if err := s.conn.Exec(ctx, c.q, c.args...); err != nil {
				return st, fmt.Errorf("cannot compact %d hours of %s: %w", len(batch), time.Unix(day, 0).UTC().Format(time.DateOnly), err)
			}
		}
		recs := make([]compaction, len(batch))
		for i, b := range batch {
			recs[i] = compaction{start: b.start, deliveries: cur[b.start], version: v}
		}
		if err := s.recordCompactions(ctx, hourSecs, recs); err != nil {
			return st, err
		}
		for _, r := range recs {
			done[r.start] = r
		}
		st.Hours += len(recs)
		compactedPeriods.WithLabelValues("hour").Add(float64(len(recs)))
	}
	// Days: every hour closed and compacted as it stands now. A day's
	// deliveries are the sum of its hours'; hours only grow, so the sums
	// agree only when every hour does.
	type dayState struct {
		deliveries uint64
		pins       []pin
		complete   bool
	}
	days := map[int64]*dayState{}
	for h, n := range cur {
		d := floorTo(h, daySecs)
		if d+daySecs > closed {
			continue
		}
		ds := days[d]
		if ds == nil {
			ds = &dayState{complete: true}
			days[d] = ds
		}
		ds.deliveries += n
		if c, ok := done[h]; ok && c.deliveries == n {
			ds.pins = append(ds.pins, pin{h, c.version})
		} else {
			ds.complete = false
		}
	}
	doneDays, err := s.compactions(ctx, daySecs, 0, closed)
	if err != nil {
		return st, err
	}
	for d, ds := range days {
		if c, ok := doneDays[d]; !ds.complete || ok && c.deliveries == ds.deliveries {
			continue
		}
		v := s.nextVersion()
		q := fmt.Sprintf(qCompactDay, pinsSQL("hour", ds.pins))
		if err := s.conn.Exec(ctx, q, d, v); err != nil {
			return st, fmt.Errorf("cannot compact day %s: %w", time.Unix(d, 0).UTC().Format(time.DateOnly), err)
		}
		if err := s.recordCompactions(ctx, daySecs, []compaction{{start: d, deliveries: ds.deliveries, version: v}}); err != nil {
			return st, err
		}
		st.Days++
		compactedPeriods.WithLabelValues("day").Inc()
	}
	return st, nil
}

// keyRowsMin is the fewest rows a topic's hour needs to have its Spread
// lists compacted (qCompactHourKeys); smaller ones are read raw. A
// variable for tests.
var keyRowsMin = 64

// compactHours lists the periods' Unix hours for the compactor's IN.
func compactHours(ps []pin) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = strconv.FormatInt(p.start/hourSecs, 10)
	}
	return strings.Join(parts, ", ")
}

// compaction records that the period from start was compacted at version
// when it held deliveries topic rows.
type compaction struct {
	start      int64
	deliveries uint64
	version    uint64
}

// DataVersion counts the topic rows ever written (hour_deliveries holds
// one row an hour once merged, so this reads a few thousand rows a year):
// it changes whenever a write could change a trends list, of any moment.
func (s *Store) DataVersion(ctx context.Context) (uint64, error) {
	var n uint64
	if err := s.conn.QueryRow(ctx, qDataVersion, 0).Scan(&n); err != nil {
		return 0, fmt.Errorf("cannot read the data version: %w", err)
	}
	return n, nil
}

// hourDeliveries returns the topic rows inserted per hour in [from, to).
func (s *Store) hourDeliveries(ctx context.Context, from, to int64) (map[int64]uint64, error) {
	rows, err := s.conn.Query(ctx, qHourDeliveries, from, to)
	if err != nil {
		return nil, fmt.Errorf("cannot query hour deliveries: %w", err)
	}
	defer rows.Close()
	out := map[int64]uint64{}
	for rows.Next() {
		var h time.Time
		var n uint64
		if err := rows.Scan(&h, &n); err != nil {
			return nil, fmt.Errorf("cannot read hour deliveries: %w", err)
		}
		out[h.Unix()] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read hour deliveries: %w", err)
	}
	return out, nil
}

// compactions returns the latest compaction of each period of the span
// starting in [from, to).
func (s *Store) compactions(ctx context.Context, spanSecs uint32, from, to int64) (map[int64]compaction, error) {
	rows, err := s.conn.Query(ctx, qCompactions, spanSecs, from, to)
	if err != nil {
		return nil, fmt.Errorf("cannot query compactions: %w", err)
	}
	defer rows.Close()
	out := map[int64]compaction{}
	for rows.Next() {
		var t time.Time
		var c compaction
		if err := rows.Scan(&t, &c.deliveries, &c.version); err != nil {
			return nil, fmt.Errorf("cannot read compactions: %w", err)
		}
		c.start = t.Unix()
		out[c.start] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read compactions: %w", err)
	}
	return out, nil
}

func (s *Store) recordCompactions(ctx context.Context, spanSecs uint32, recs []compaction) error {
	w, err := s.prepare(ctx, "compactions", qInsertCompactions)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if err := w.append(time.Unix(r.start, 0).UTC(), spanSecs, r.deliveries, r.version); err != nil {
			return err
		}
	}
	return w.send()
}

// fresh returns the compacted hours and days of [from, to) that readers
// may use, with the versions to read: those whose recorded deliveries
// still match the current ones.
// freshPlan is planHours of [from, to) over the hours fresh now, for the
// statements of one topic (Spread, Timeline).
func (s *Store) freshPlan(ctx context.Context, from, to int64) (plan, error) {
	fh, _, err := s.fresh(ctx, from, to)
	if err != nil {
		return plan{}, err
	}
	return planHours(from, to, fh, nil), nil
}

func (s *Store) fresh(ctx context.Context, from, to int64) (hours, days map[int64]uint64, err error) {
	from = floorTo(from, daySecs) // whole days, for the day sums
	var cur map[int64]uint64
	var ch, cd map[int64]compaction
	err = runAll([]func() error{
		func() (err error) { cur, err = s.hourDeliveries(ctx, from, to); return err },
		func() (err error) { ch, err = s.compactions(ctx, hourSecs, from, to); return err },
		func() (err error) { cd, err = s.compactions(ctx, daySecs, from, to); return err },
	})
	if err != nil {
		return nil, nil, err
	}
	hours, days = map[int64]uint64{}, map[int64]uint64{}
	sums := map[int64]uint64{}
	for h, n := range cur {
		sums[floorTo(h, daySecs)] += n
		if c, ok := ch[h]; ok && c.deliveries == n {
			hours[h] = c.version
		}
	}
	for d, c := range cd {
		if sums[d] == c.deliveries {
			days[d] = c.version
		}
	}
	return hours, days, nil
}

// Compactor runs Compact every Interval until its context ends.
type Compactor struct {
	store    *Store
	interval time.Duration
	limits   CompactLimits
	log      *slog.Logger
}

// CompactorOptions configure a Compactor; zero values take defaults.
type CompactorOptions struct {
	Interval time.Duration // default 1m
	// MaxHours bounds one round's work (a backlog after an outage or an
	// upgrade is worked off newest first); default 48.
	MaxHours       int
	Settle         time.Duration // default 5m
	RecompactAfter time.Duration // default 10m
}

// NewCompactor returns a compactor of the store's closed hours.
func NewCompactor(s *Store, o CompactorOptions, log *slog.Logger) *Compactor {
	if o.Interval <= 0 {
		o.Interval = time.Minute
	}
	if o.MaxHours <= 0 {
		o.MaxHours = 48
	}
	if o.Settle <= 0 {
		o.Settle = 5 * time.Minute
	}
	if o.RecompactAfter <= 0 {
		o.RecompactAfter = 10 * time.Minute
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Compactor{store: s, interval: o.Interval, log: log.With(slog.String("component", "compactor")),
		limits: CompactLimits{MaxHours: o.MaxHours, Settle: o.Settle, RecompactAfter: o.RecompactAfter}}
}

// Run compacts at once, then every interval; a failed round is logged and
// retried at the next. It returns nil when ctx ends.
func (c *Compactor) Run(ctx context.Context) error {
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		st, err := c.store.Compact(ctx, c.store.now(), c.limits)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			compactErrors.Inc()
			c.log.Warn("compaction failed; retrying next round", slog.Any("err", err))
		case st.Hours > 0 || st.Days > 0:
			c.log.Debug("compacted", slog.Int("hours", st.Hours), slog.Int("days", st.Days))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
