package schema

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

var sampleTopicEvent = TopicEvent{
	V:        Version,
	Topic:    "kw:bầu cử",
	PostID:   "3f2a9c1e5b7d4f60a1b2c3d4e5f60718",
	Author:   "@nguyen@mastodon.social",
	Source:   "https://mastodon.social/tags/vietnam",
	Platform: "mastodon",
	Lang:     "vi",
	Time:     time.Date(2026, 11, 1, 8, 30, 15, 123456789, time.UTC),
}

func mustEncodeJSON(t testing.TB, e TopicEvent) []byte {
	t.Helper()
	b, err := Encode(&e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameDecode fails unless the fast decoder and the encoding/json path agree
// on b: same event and the same error text.
func sameDecode(t *testing.T, b []byte) (TopicEvent, error) {
	t.Helper()
	got, gotErr := DecodeTopicEvent(b)
	want, wantErr := decodeTopicEventJSON(b)
	if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
		t.Fatalf("decode %q: error %v, encoding/json says %v", b, gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decode %q:\n got %#v\nwant %#v", b, got, want)
	}
	return got, gotErr
}

func TestDecodeTopicEvent(t *testing.T) {
	canonical := string(mustEncodeJSON(t, sampleTopicEvent))
	for _, tc := range []struct {
		name    string
		in      string
		fast    bool   // the fast path must handle it (no fallback)
		wantErr string // "" when it must decode
		check   func(TopicEvent) bool
	}{
		{"canonical", canonical, true, "", func(e TopicEvent) bool { return e == sampleTopicEvent }},
		{"reordered and spaced", " {\n\t\"time\" : \"2026-11-01T08:30:15+07:00\" ,\r\n \"post_id\":\"p\",\"topic\":\"#a\",\"v\":1 } \n", true, "",
			func(e TopicEvent) bool {
				_, off := e.Time.Zone()
				return e.Topic == "#a" && e.PostID == "p" && off == 7*3600
			}},
		{"minimal", `{"topic":"#a","post_id":"p","time":"2026-01-01T00:00:00Z"}`, true, "", func(e TopicEvent) bool { return e.V == 0 }},
		{"negative version", `{"v":-3,"topic":"#a","post_id":"p","time":"2026-01-01T00:00:00Z"}`, true, "", func(e TopicEvent) bool { return e.V == -3 }},
		{"newer version", `{"v":2,"topic":"#a","post_id":"p","time":"2026-01-01T00:00:00Z"}`, true, "newer than this build", nil},
		{"lacks time", `{"v":1,"topic":"#a","post_id":"p"}`, true, "lacks topic, post_id or time", nil},
		{"empty object", `{}`, true, "lacks topic", nil},
		{"utf-8 kept", `{"topic":"kw:hà nội","post_id":"p","time":"2026-01-01T00:00:00Z"}`, true, "", func(e TopicEvent) bool { return e.Topic == "kw:hà nội" }},
		// Everything below takes the encoding/json path.
		{"escape", `{"topic":"#a\u0062\n","post_id":"p","time":"2026-01-01T00:00:00Z"}`, false, "", func(e TopicEvent) bool { return e.Topic == "#ab\n" }},
		{"html escaped", string(mustEncodeJSON(t, TopicEvent{Topic: "kw:<b>&", PostID: "p", Time: sampleTopicEvent.Time})), false, "",
			func(e TopicEvent) bool { return e.Topic == "kw:<b>&" }},
		{"unknown field", `{"topic":"#a","x":[1,{"y":null}],"post_id":"p","time":"2026-01-01T00:00:00Z"}`, false, "", func(e TopicEvent) bool { return e.PostID == "p" }},
		{"duplicate keeps last", `{"topic":"#a","topic":"#b","post_id":"p","time":"2026-01-01T00:00:00Z"}`, false, "", func(e TopicEvent) bool { return e.Topic == "#b" }},
		{"case-folded key", `{"TOPIC":"#a","Post_ID":"p","time":"2026-01-01T00:00:00Z"}`, false, "", func(e TopicEvent) bool { return e.Topic == "#a" && e.PostID == "p" }},
		{"null", `{"v":null,"topic":"#a","author":null,"post_id":"p","time":"2026-01-01T00:00:00Z"}`, false, "", nil},
		{"null time", `{"topic":"#a","post_id":"p","time":null}`, false, "lacks topic", nil},
		{"invalid utf-8 replaced", "{\"topic\":\"#a\xff\",\"post_id\":\"p\",\"time\":\"2026-01-01T00:00:00Z\"}", false, "", func(e TopicEvent) bool { return e.Topic == "#a\uFFFD" }},
		{"control char", "{\"topic\":\"#a\x01\",\"post_id\":\"p\",\"time\":\"2026-01-01T00:00:00Z\"}", false, "cannot decode", nil},
		{"float version", `{"v":1.0,"topic":"#a","post_id":"p","time":"2026-01-01T00:00:00Z"}`, false, "cannot decode", nil},
		{"exponent version", `{"v":1e0,"topic":"#a","post_id":"p","time":"2026-01-01T00:00:00Z"}`, false, "cannot decode", nil},
		{"leading zero", `{"v":01,"topic":"#a","post_id":"p","time":"2026-01-01T00:00:00Z"}`, false, "cannot decode", nil},
		{"huge version", `{"v":99999999999999999999,"topic":"#a","post_id":"p","time":"2026-01-01T00:00:00Z"}`, false, "cannot decode", nil},
		{"string version", `{"v":"1","topic":"#a","post_id":"p","time":"2026-01-01T00:00:00Z"}`, false, "cannot decode", nil},
		{"number topic", `{"topic":5,"post_id":"p","time":"2026-01-01T00:00:00Z"}`, false, "cannot decode", nil},
		{"bad time", `{"topic":"#a","post_id":"p","time":"2026-13-01T00:00:00Z"}`, false, "cannot decode", nil},
		{"trailing data", canonical + `{}`, false, "cannot decode", nil},
		{"trailing comma", `{"topic":"#a","post_id":"p","time":"2026-01-01T00:00:00Z",}`, false, "cannot decode", nil},
		{"truncated", canonical[:len(canonical)-1], false, "cannot decode", nil},
		{"not an object", `["#a"]`, false, "cannot decode", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, fast := decodeTopicEventFast([]byte(tc.in))
			if fast != tc.fast {
				t.Errorf("fast path taken = %v, want %v", fast, tc.fast)
			}
			e, err := sameDecode(t, []byte(tc.in))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want it to mention %q", err, tc.wantErr)
			case tc.check != nil && !tc.check(e):
				t.Fatalf("decoded %#v", e)
			}
		})
	}
}

func TestEncodeTopicEvent(t *testing.T) {
	hcm := time.FixedZone("ICT", 7*3600)
	odd := time.FixedZone("", -(3*3600 + 30*60 + 17)) // offset with seconds
	for _, e := range []TopicEvent{
		sampleTopicEvent,
		{Topic: "#a", PostID: "p", Time: time.Date(2026, 1, 1, 0, 0, 0, 0, hcm)},
		{V: 7, Topic: "kw:<script>&\"\\/", PostID: "p\u2028\u2029", Author: "a\x00\x01\b\f\n\r\t\x1f\x7f", Source: "s\xff\xfe\xed\xa0\x80", Lang: "é", Platform: "rss", Time: time.Date(2026, 3, 4, 5, 6, 7, 80, odd)},
		{Topic: "", PostID: "", Time: time.Time{}},
		{Topic: "#a", PostID: "p", Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.Local)},
	} {
		got, err := EncodeTopicEvent(e)
		want := mustEncodeJSON(t, e)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("EncodeTopicEvent(%#v)\n got %s (%v)\nwant %s", e, got, err, want)
		}
		// Appending keeps what dst already holds.
		if got, err := AppendTopicEvent([]byte("xy"), e); err != nil || string(got) != "xy"+string(want) {
			t.Errorf("AppendTopicEvent = %s, %v", got, err)
		}
	}
	for _, tm := range []time.Time{
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 25*3600)),
	} {
		e := TopicEvent{Topic: "#a", PostID: "p", Time: tm}
		_, wantErr := json.Marshal(&e)
		got, err := AppendTopicEvent([]byte("keep"), e)
		if err == nil || wantErr == nil || err.Error() != wantErr.Error() || string(got) != "keep" {
			t.Errorf("time %v: got %q, %v; json.Marshal error %v", tm, got, err, wantErr)
		}
	}
}

func FuzzTopicEventDecode(f *testing.F) {
	f.Add(mustEncodeJSON(f, sampleTopicEvent))
	f.Add(mustEncodeJSON(f, TopicEvent{Topic: "#a", PostID: "p", Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", -5*3600))}))
	f.Add(mustEncodeJSON(f, TopicEvent{Topic: "url:example.com/a?b=<c>&d", PostID: "p", Author: "x\u2028", Time: time.Unix(1, 5)}))
	f.Add([]byte(` { "lang":"en" , "v":-0,"time":"2026-01-01T00:00:00.5Z","topic":"#a","post_id":"p","platform":"rss"} `))
	f.Add([]byte(`{"topic":"#a","post_id":"p","time":"2026-01-01T00:00:00Z","topic":"#b"}`))
	f.Add([]byte(`{"v":1e3,"Topic":null,"post_id":"p\u00e9","time":"2026-01-01T00:00:00+24:00"}`))
	f.Add([]byte("{\"topic\":\"\xed\xa0\x80\",\"post_id\":\"p\",\"time\":\"2026-01-01T00:00:00Z\"}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		sameDecode(t, b)
	})
}

func FuzzTopicEventEncode(f *testing.F) {
	s := sampleTopicEvent
	f.Add(s.Topic, s.PostID, s.Author, s.Source, s.Platform, s.Lang, s.Time.Unix(), int64(s.Time.Nanosecond()), 0, false)
	f.Add("kw:<a>&b", "p\u2028", "\x00\xff", "\"\\", "", "", int64(-62135596800), int64(0), 7*3600, false)
	f.Add("#a", "p", "", "", "", "", int64(253402300800), int64(1), -(3*3600 + 17), false)
	f.Add("#a", "p", "", "", "", "", int64(1700000000), int64(999999999), 0, true)
	f.Fuzz(func(t *testing.T, topic, postID, author, source, platform, lang string, sec, nsec int64, offset int, local bool) {
		tm := time.Unix(sec, nsec).In(time.FixedZone("", offset))
		if local {
			tm = tm.Local()
		}
		e := TopicEvent{V: 3, Topic: topic, PostID: postID, Author: author, Source: source, Platform: platform, Lang: lang, Time: tm}
		got, err := EncodeTopicEvent(e)
		ref := e
		want, wantErr := Encode(&ref)
		if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
			t.Fatalf("error %v, json.Marshal says %v", err, wantErr)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("encoded\n%s\njson.Marshal\n%s", got, want)
		}
		if err != nil {
			return
		}
		d, derr := sameDecode(t, got)
		// RFC 3339 has no seconds in zone offsets: such times come back as
		// another instant, so only the equivalence above holds for them.
		_, off := tm.Zone()
		exact := off%60 == 0
		if topic == "" || postID == "" || (exact && tm.IsZero()) {
			if derr == nil {
				t.Fatalf("incomplete event decoded: %#v", d)
			}
			return
		}
		if !exact {
			return
		}
		if derr != nil {
			t.Fatalf("cannot decode own output %s: %v", got, derr)
		}
		if d.V != Version {
			t.Fatalf("version %d", d.V)
		}
		if !d.Time.Equal(tm) {
			t.Fatalf("time %v decoded as %v", tm, d.Time)
		}
		if strings.ToValidUTF8(topic, "") == topic && strings.ToValidUTF8(author, "") == author && (d.Topic != topic || d.Author != author) {
			t.Fatalf("strings did not round-trip: %#v", d)
		}
		// What the encoder writes without escapes, the fast path must take.
		if _, fast := decodeTopicEventFast(got); !fast && !bytes.ContainsRune(got, '\\') {
			t.Fatalf("fast path refused %s", got)
		}
	})
}

var sinkTopicEvent TopicEvent

func BenchmarkTopicEventEncode(b *testing.B) {
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e := sampleTopicEvent
			if _, err := Encode(&e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := EncodeTopicEvent(sampleTopicEvent); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkTopicEventDecode(b *testing.B) {
	msg := mustEncodeJSON(b, sampleTopicEvent)
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			e, err := decodeTopicEventJSON(msg)
			if err != nil {
				b.Fatal(err)
			}
			sinkTopicEvent = e
		}
	})
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			e, err := DecodeTopicEvent(msg)
			if err != nil {
				b.Fatal(err)
			}
			sinkTopicEvent = e
		}
	})
}
