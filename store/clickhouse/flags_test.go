package clickhouse

import (
	"context"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/schema"
)

func TestFlagsStoredOnceNewestFirst(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	flags := []schema.Flag{
		{Time: at(0), Topic: "#a", Kind: "emerging", Score: 2.5, Count: 10, Authors: 4, PostIDs: []string{"p1", "p2"}},
		{Time: at(5), Topic: "#a", Kind: "burst", Score: 7, Count: 30, Authors: 9},
		{Time: at(5), Topic: "#b", Kind: "burst", Score: 3, Count: 12, Authors: 5, PostIDs: []string{"p9"}},
		{Time: at(90), Topic: "#c", Kind: "emerging", Score: 1.5, Count: 6, Authors: 6},
	}
	// Written three times, the last time with a revised score for #b.
	for range 2 {
		if err := s.WriteFlags(ctx, flags); err != nil {
			t.Fatal(err)
		}
	}
	revised := schema.Flag{Time: at(5), Topic: "#b", Kind: "burst", Score: 3.5, Count: 13, Authors: 5, PostIDs: []string{"p9", "p10"}}
	if err := s.WriteFlags(ctx, []schema.Flag{revised}); err != nil {
		t.Fatal(err)
	}
	want := func(fs ...schema.Flag) []schema.Flag {
		for i := range fs {
			fs[i].V = schema.Version
		}
		return fs
	}
	for _, tc := range []struct {
		name string
		q    FlagQuery
		want []schema.Flag
	}{
		{"all", FlagQuery{}, want(flags[3], flags[1], revised, flags[0])},
		{"window", FlagQuery{From: at(0), To: at(90)}, want(flags[1], revised, flags[0])},
		{"window excludes its end", FlagQuery{From: at(1), To: at(5)}, nil},
		{"kind", FlagQuery{Kind: "burst"}, want(flags[1], revised)},
		{"topic", FlagQuery{Topic: "#a"}, want(flags[1], flags[0])},
		{"topic and kind", FlagQuery{Topic: "#a", Kind: "emerging"}, want(flags[0])},
		{"limit", FlagQuery{Limit: 2}, want(flags[3], flags[1])},
		{"unknown topic", FlagQuery{Topic: "#zz"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Flags(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Flags(%+v)\n got %+v\nwant %+v", tc.q, got, tc.want)
			}
		})
	}
	// Merging the copies away changes nothing.
	if err := s.conn.Exec(ctx, "OPTIMIZE TABLE trend_flags FINAL"); err != nil {
		t.Fatal(err)
	}
	var rows uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM trend_flags").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 4 {
		t.Errorf("trend_flags holds %d rows after merge, want 4", rows)
	}
	got, err := s.Flags(ctx, FlagQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if w := want(flags[3], flags[1], revised, flags[0]); !reflect.DeepEqual(got, w) {
		t.Errorf("Flags after merge\n got %+v\nwant %+v", got, w)
	}
}

func TestWriteFlagsRefusesInvalid(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	ok := schema.Flag{Time: t0, Topic: "#a", Kind: "burst", Score: 1}
	for name, mutate := range map[string]func(*schema.Flag){
		"no topic":   func(f *schema.Flag) { f.Topic = "" },
		"no kind":    func(f *schema.Flag) { f.Kind = "" },
		"no time":    func(f *schema.Flag) { f.Time = time.Time{} },
		"NaN score":  func(f *schema.Flag) { f.Score = math.NaN() },
		"Inf score":  func(f *schema.Flag) { f.Score = math.Inf(1) },
		"long topic": func(f *schema.Flag) { f.Topic = strings.Repeat("x", maxFlagTopic+1) },
	} {
		bad := ok
		mutate(&bad)
		if err := s.WriteFlags(ctx, []schema.Flag{ok, bad}); err == nil {
			t.Errorf("%s: flag accepted", name)
		}
	}
	if got, err := s.Flags(ctx, FlagQuery{}); err != nil || len(got) != 0 {
		t.Errorf("Flags after refused batches = %v, %v; want none", got, err)
	}
	if _, err := s.Flags(ctx, FlagQuery{From: t0, To: t0}); err == nil {
		t.Error("empty range accepted")
	}
	// Many post ids are cut to the limit rather than refused.
	many := ok
	for i := range maxFlagPostIDs + 5 {
		many.PostIDs = append(many.PostIDs, "p"+string(rune('a'+i%26)))
	}
	if err := s.WriteFlags(ctx, []schema.Flag{many}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Flags(ctx, FlagQuery{})
	if err != nil || len(got) != 1 || len(got[0].PostIDs) != maxFlagPostIDs {
		t.Errorf("flag with %d post ids read back as %+v, %v; want %d ids", len(many.PostIDs), got, err, maxFlagPostIDs)
	}
}
