package schema

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"
)

// sameEvents fails unless got and want hold the same events: equal strings,
// the same instant and the same zone offset (zone names are not carried).
func sameEvents(t testing.TB, got, want []TopicEvent) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		_, goff := g.Time.Zone()
		_, woff := w.Time.Zone()
		if !g.Time.Equal(w.Time) || goff != woff {
			t.Fatalf("event %d: time %v, want %v", i, g.Time, w.Time)
		}
		g.Time, w.Time = time.Time{}, time.Time{}
		w.V = Version
		if g != w {
			t.Fatalf("event %d:\n got %#v\nwant %#v", i, g, w)
		}
	}
}

// postEvents returns the topic events of one post, as the analyzer makes
// them.
func postEvents(id string, at time.Time, topics ...string) []TopicEvent {
	out := make([]TopicEvent, len(topics))
	for i, tp := range topics {
		out[i] = TopicEvent{Topic: tp, PostID: id, Author: "@a" + id, Source: "https://example.com/feed", Platform: "rss", Lang: "en", Time: at}
	}
	return out
}

func TestTopicEventsRoundTrip(t *testing.T) {
	ict := time.FixedZone("ICT", 7*3600)
	odd := time.FixedZone("", -(3*3600 + 30*60 + 17))
	at := time.Date(2026, 11, 1, 8, 30, 15, 123456789, time.UTC)
	f := func(name string, evs []TopicEvent) {
		t.Helper()
		b, err := EncodeTopicEvents(evs)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !IsPackedTopicEvents(b) {
			t.Fatalf("%s: encoder output not recognised as packed: % x", name, b[:2])
		}
		got, err := DecodeTopicEvents(nil, b)
		if err != nil {
			t.Fatalf("%s: cannot decode own output: %v", name, err)
		}
		sameEvents(t, got, evs)
	}
	f("one", []TopicEvent{sampleTopicEvent})
	f("one post many topics", postEvents("p1", at, "#a", "kw:b", "url:example.com/x", "story:1"))
	f("posts interleaved", append(append(postEvents("p1", at, "#a"), postEvents("p2", at.Add(time.Second), "#a", "#b")...), postEvents("p1", at, "#c")...))
	f("zones", []TopicEvent{
		{Topic: "#a", PostID: "p1", Time: at.In(ict)},
		{Topic: "#a", PostID: "p2", Time: at.In(odd)},
		{Topic: "#a", PostID: "p3", Time: at.In(ict).Add(time.Hour)},
		{Topic: "#a", PostID: "p4", Time: time.Date(10000, 1, 1, 0, 0, 0, 1, time.UTC)}, // beyond RFC 3339
		{Topic: "#a", PostID: "p5", Time: time.Unix(-1, 0)},
	})
	// Bytes are carried as they are, where JSON would escape or replace.
	f("odd strings", []TopicEvent{{Topic: "kw:<b>&\"\\\u2028\x00", PostID: "p\xff", Author: "\xed\xa0\x80", Source: strings.Repeat("s", 300), Platform: "web", Lang: "vi", Time: at}})
}

func TestTopicEventPacker(t *testing.T) {
	at := time.Date(2026, 11, 1, 8, 30, 15, 0, time.UTC)
	evs := postEvents("3f2a9c1e5b7d4f60a1b2c3d4e5f60718", at, "#a", "#b", "kw:c", "kw:d", "ent:e", "story:f", "url:example.com/g")

	// Cost bounds what Add writes, and the events of one post share one
	// post record: seven events cost little more than one.
	var p TopicEventPacker
	p.Begin()
	for i := range evs {
		cost, before := p.Cost(&evs[i]), p.Len()
		if err := p.Add(&evs[i]); err != nil {
			t.Fatal(err)
		}
		if grew := p.Len() - before; grew > cost {
			t.Fatalf("event %d grew the message by %d, Cost said %d", i, grew, cost)
		}
	}
	first := p.End()
	one, _ := EncodeTopicEvents(evs[:1])
	if p.Events() != len(evs) || len(first) > len(one)+6*12 {
		t.Fatalf("%d events in %d bytes; one alone takes %d", p.Events(), len(first), len(one))
	}
	single, _ := EncodeTopicEvent(evs[0])
	if len(first) >= len(evs)*len(single)/3 {
		t.Fatalf("packed %d bytes, %d single messages take %d", len(first), len(evs), len(evs)*len(single))
	}

	// Incomplete events are refused without writing anything.
	for _, bad := range []TopicEvent{{PostID: "p", Time: at}, {Topic: "#a", Time: at}, {Topic: "#a", PostID: "p"}} {
		before := p.Len()
		if err := p.Add(&bad); err == nil || p.Len() != before {
			t.Fatalf("Add(%+v) = %v, message grew by %d", bad, err, p.Len()-before)
		}
	}

	// The next message in the same buffer starts afresh (its own post
	// record) and leaves the first intact.
	firstCopy := bytes.Clone(first)
	p.Begin()
	if err := p.Add(&evs[1]); err != nil {
		t.Fatal(err)
	}
	second := p.End()
	if !bytes.Equal(first, firstCopy) {
		t.Fatal("the second message overwrote the first")
	}
	got, err := DecodeTopicEvents(nil, second)
	if err != nil {
		t.Fatal(err)
	}
	sameEvents(t, got, evs[1:2])
	if _, err := EncodeTopicEvents([]TopicEvent{evs[0], {Topic: "#x"}}); err == nil {
		t.Fatal("EncodeTopicEvents packed an incomplete event")
	}
}

func TestDecodeTopicEvents(t *testing.T) {
	at := time.Date(2026, 11, 1, 8, 30, 15, 0, time.UTC)
	evs := append(postEvents("p1", at, "#a", "#b"), postEvents("p2", at, "#c")...)
	packed, err := EncodeTopicEvents(evs)
	if err != nil {
		t.Fatal(err)
	}
	single := mustEncodeJSON(t, sampleTopicEvent)
	prior := []TopicEvent{{V: Version, Topic: "#kept", PostID: "p0", Time: at}}

	// Old single-event and new packed messages decode alike, appended to
	// what dst holds.
	got, err := DecodeTopicEvents(prior, single)
	if err != nil {
		t.Fatal(err)
	}
	sameEvents(t, got, append(prior[:1:1], sampleTopicEvent))
	got, err = DecodeTopicEvents(got, packed)
	if err != nil {
		t.Fatal(err)
	}
	sameEvents(t, got, append(append(prior[:1:1], sampleTopicEvent), evs...))

	body := packed[2:]
	for _, tc := range []struct {
		name, in, wantErr string
	}{
		{"bad json", `{"topic":`, "cannot decode topic event"},
		{"json lacks post id", `{"topic":"#a","time":"2026-01-01T00:00:00Z"}`, "lacks topic"},
		{"header only", "\x00", "truncated header"},
		{"newer version", "\x00\x02" + string(body), "newer than this build"},
		{"version 0", "\x00\x00" + string(body), "unknown format version"},
		{"event before post", "\x00\x01\x02\x02#a", "lacks topic"},
		{"unknown record", string(packed) + "\x07", "unknown record type"},
		{"string past end", string(packed) + "\x02\x05#a", "runs past the end"},
		{"truncated post", string(packed[:5]), "post record"},
		{"empty topic", string(packed) + "\x02\x00", "lacks topic"},
		{"empty post id", "\x00\x01\x01\x00\x00\x00\x00\x00\x02\x00\x00\x02\x02#a", "lacks topic"},
		{"zero time", "\x00\x01\x01\x01p\x00\x00\x00\x00" + string(binary.AppendVarint(nil, time.Time{}.Unix())) + "\x00\x00\x02\x02#a", "lacks topic"},
		{"nanoseconds overflow", "\x00\x01\x01\x01p\x00\x00\x00\x00\x02\x80\x94\xeb\xdc\x03\x00\x02\x02#a", "bad nanoseconds"},
		{"huge length", "\x00\x01\x02\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", "runs past the end"},
		{"overlong varint", "\x00\x01\x02\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", "bad string length"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeTopicEvents(prior, []byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want it to mention %q", err, tc.wantErr)
			}
			if len(got) != len(prior) || got[0] != prior[0] {
				t.Fatalf("a bad message changed dst: %v", got)
			}
		})
	}

	// A packed message with no events is valid and empty.
	if got, err := DecodeTopicEvents(nil, []byte{0, 1}); err != nil || len(got) != 0 {
		t.Fatalf("empty message: %v, %v", got, err)
	}
}

// FuzzDecodeTopicEvents: any input decodes or fails without panicking,
// failing leaves dst as it was, and what decodes re-encodes to a message
// that decodes to the same events.
func FuzzDecodeTopicEvents(f *testing.F) {
	at := time.Date(2026, 11, 1, 8, 30, 15, 5, time.FixedZone("", 7*3600))
	for _, evs := range [][]TopicEvent{
		{sampleTopicEvent},
		append(postEvents("p1", at, "#a", "#b"), postEvents("p2", at.UTC(), "#c")...),
		{{Topic: "kw:\xff", PostID: "p\x00", Time: time.Unix(-1e12, 999999999).UTC()}},
	} {
		b, err := EncodeTopicEvents(evs)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(mustEncodeJSON(f, sampleTopicEvent))
	f.Add([]byte{0, 1, 2, 0})
	f.Add([]byte{0, 9})
	f.Fuzz(func(t *testing.T, b []byte) {
		prior := []TopicEvent{{Topic: "#kept", PostID: "p0", Time: time.Unix(1, 0)}}
		got, err := DecodeTopicEvents(prior, b)
		if err != nil {
			if len(got) != 1 || got[0] != prior[0] {
				t.Fatalf("failed decode changed dst: %v", got)
			}
			return
		}
		got = got[1:]
		for _, e := range got {
			if e.Topic == "" || e.PostID == "" || e.Time.IsZero() {
				t.Fatalf("decoded an incomplete event %#v", e)
			}
			if IsPackedTopicEvents(b) && e.V != Version {
				t.Fatalf("packed event with version %d", e.V)
			}
		}
		if !IsPackedTopicEvents(b) {
			if len(got) != 1 {
				t.Fatalf("a JSON message gave %d events", len(got))
			}
			return
		}
		again, err := EncodeTopicEvents(got)
		if err != nil {
			t.Fatalf("cannot re-encode %v: %v", got, err)
		}
		back, err := DecodeTopicEvents(nil, again)
		if err != nil {
			t.Fatalf("cannot decode re-encoded % x: %v", again, err)
		}
		sameEvents(t, back, got)
	})
}

// FuzzTopicEventsRoundTrip: whatever complete events the encoder is given
// come back unchanged.
func FuzzTopicEventsRoundTrip(f *testing.F) {
	s := sampleTopicEvent
	f.Add(s.Topic, s.PostID, s.Author, s.Source, s.Platform, s.Lang, s.Time.Unix(), int64(s.Time.Nanosecond()), 0, uint8(3))
	f.Add("kw:<a>&b", "p\u2028", "\x00\xff", "\"\\", "", "", int64(-62135596800), int64(1), 7*3600, uint8(1))
	f.Add("#a", "p", "", "", "", "", int64(1<<62), int64(999999999), -(3*3600 + 17), uint8(0))
	f.Fuzz(func(t *testing.T, topic, postID, author, source, platform, lang string, sec, nsec int64, offset int, posts uint8) {
		tm := time.Unix(sec, nsec).In(time.FixedZone("", int(int32(offset))))
		var evs []TopicEvent
		for i := range int(posts%4) + 1 {
			// Several posts, several topics each, one post repeated later.
			id := postID
			if i%2 == 1 {
				id = fmt.Sprintf("%s/%d", postID, i)
			}
			for j := range i + 1 {
				evs = append(evs, TopicEvent{Topic: fmt.Sprintf("%s%d", topic, j), PostID: id, Author: author, Source: source, Platform: platform, Lang: lang, Time: tm.Add(time.Duration(i))})
			}
		}
		complete := true
		for _, e := range evs {
			complete = complete && e.PostID != "" && !e.Time.IsZero()
		}
		b, err := EncodeTopicEvents(evs)
		if !complete {
			if err == nil {
				t.Fatal("packed an incomplete event")
			}
			return
		}
		if err != nil {
			t.Fatalf("cannot encode: %v", err)
		}
		got, err := DecodeTopicEvents(nil, b)
		if err != nil {
			t.Fatalf("cannot decode own output: %v", err)
		}
		sameEvents(t, got, evs)
	})
}

func BenchmarkTopicEventsDecode(b *testing.B) {
	// One analyzer batch's worth for one partition: 200 posts, ~2 topics
	// each, against the same events as single JSON messages.
	at := time.Date(2026, 11, 1, 8, 30, 15, 0, time.UTC)
	var evs []TopicEvent
	for i := range 200 {
		evs = append(evs, postEvents(fmt.Sprintf("%032x", i), at, fmt.Sprintf("kw:word%d", i%37), fmt.Sprintf("#tag%d", i%11))...)
	}
	packed, err := EncodeTopicEvents(evs)
	if err != nil {
		b.Fatal(err)
	}
	singles := make([][]byte, len(evs))
	for i := range evs {
		singles[i], _ = EncodeTopicEvent(evs[i])
	}
	out := make([]TopicEvent, 0, len(evs))
	b.Run("single", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out = out[:0]
			for _, m := range singles {
				if out, err = DecodeTopicEvents(out, m); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
	})
	b.Run("packed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if out, err = DecodeTopicEvents(out[:0], packed); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
	})
}
