package schema_test

// External test package: the seed posts come from bench's generator, and
// bench imports schema, so package schema itself cannot import it.

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/bench"
	"github.com/trendwatch/trendwatch/schema"
)

// generatorPosts returns n posts from the bench generator as Encode writes them.
func generatorPosts(tb testing.TB, n int) [][]byte {
	tb.Helper()
	start := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	g := bench.NewGenerator(bench.GenOptions{Seed: 7, Facts: 300}, start)
	out := make([][]byte, 0, n)
	for i := 0; i < n; i++ {
		p := g.Next(start.Add(time.Duration(i) * 37 * time.Millisecond)).Post
		b, err := schema.Encode(&p)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// edgeCases are inputs around every decision of the fast path: the ones it
// must take and the ones it must leave to encoding/json.
var edgeCases = []string{
	`{"v":1,"id":"p","text":"x","published":"2026-01-01T00:00:00Z"}`,
	// Escapes, taken by the fast path.
	`{"v":1,"id":"p","text":"q\" b\\ s\/ \b\f\n\r\t \u00e9 \u0000 \u20AC","published":"2026-01-01T00:00:00Z"}`,
	`{"v":1,"id":"p","text":"pair \ud83d\ude00 lone-hi \ud83d lone-lo \ude00 hi-then-A \ud83d\u0041 hi-end \ud83d","published":"2026-01-01T00:00:00Z"}`,
	`{"v":1,"id":"p","text":"hi-then-x \ud83dx hi-hi \ud83d\ud83d\ude00 end\ud83d","published":"2026-01-01T00:00:00Z"}`,
	// Escapes encoding/json's scanner rejects (\' is accepted by its unquote only).
	`{"v":1,"id":"p","text":"\'","published":"2026-01-01T00:00:00Z"}`,
	`{"v":1,"id":"p","text":"\x","published":"2026-01-01T00:00:00Z"}`,
	`{"v":1,"id":"p","text":"\u12","published":"2026-01-01T00:00:00Z"}`,
	`{"v":1,"id":"p","text":"\u12g4","published":"2026-01-01T00:00:00Z"}`,
	"{\"v\":1,\"id\":\"p\",\"text\":\"tab\there\",\"published\":\"2026-01-01T00:00:00Z\"}",
	// Unknown fields of every shape, and whitespace everywhere.
	`{"v":1,"id":"p","extra":{"a":[1,-2.5e+3,true,false,null,{"b":"c"},[]],"d":{}},"list":[],"n":-0.0E-1,"text":"x","published":"2026-01-01T00:00:00Z"}`,
	" \t\r\n{ \"v\" : 1 ,\n\"id\"\t:\t\"p\" , \"text\" :\"x\" ,\r\n \"published\" : \"2026-01-01T00:00:00+07:00\" , \"engagement\" : { \"likes\" : 3 , \"shares\" : 0 , \"replies\" : -1 , \"views\" : 9 } } \n",
	`{"v":1,"id":"p","x":01,"text":"x","published":"2026-01-01T00:00:00Z"}`,
	`{"v":1,"id":"p","x":1.,"text":"x","published":"2026-01-01T00:00:00Z"}`,
	`{"v":1,"id":"p","x":-,"text":"x","published":"2026-01-01T00:00:00Z"}`,
	`{"v":1,"id":"p","x":tru,"text":"x","published":"2026-01-01T00:00:00Z"}`,
	`{"v":1,"id":"p","x":[1,],"text":"x","published":"2026-01-01T00:00:00Z"}`,
	`{"v":1,"id":"p","x":{"a":1,},"text":"x","published":"2026-01-01T00:00:00Z"}`,
	`{"v":1,"id":"p","x":"\u00zz","text":"x","published":"2026-01-01T00:00:00Z"}`,
	"{\"v\":1,\"id\":\"p\",\"x\":\"\xff\",\"text\":\"x\",\"published\":\"2026-01-01T00:00:00Z\"}",
	`{"v":1,"id":"p","x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `,"text":"x","published":"2026-01-01T00:00:00Z"}`,
	// Version: missing, newer, odd forms.
	`{"id":"p","text":"x","published":"2026-01-01T00:00:00Z"}`,
	`{"v":2,"id":"p","text":"x","published":"2026-01-01T00:00:00Z"}`,
	`{"v":-1,"id":"p","text":"x","published":"2026-01-01T00:00:00Z"}`,
	`{"v":-0,"id":"p","text":"x","published":"2026-01-01T00:00:00Z"}`,
	`{"v":1.0,"id":"p","text":"x","published":"2026-01-01T00:00:00Z"}`,
	`{"v":1e0,"id":"p","text":"x","published":"2026-01-01T00:00:00Z"}`,
	`{"v":"1","id":"p","text":"x","published":"2026-01-01T00:00:00Z"}`,
	`{"v":null,"id":"p","text":"x","published":"2026-01-01T00:00:00Z"}`,
	`{"v":99999999999999999999,"id":"p","text":"x","published":"2026-01-01T00:00:00Z"}`,
	`{"v":999999999999999999,"id":"p","text":"x","published":"2026-01-01T00:00:00Z"}`,
	`{"v":1,"id":"p","text":"x","published":"2026-01-01T00:00:00Z","engagement":{"likes":9223372036854775807}}`,
	`{"v":1,"id":"p","text":"x","published":"2026-01-01T00:00:00Z","engagement":{"likes":-9223372036854775808}}`,
	// Case-variant, Unicode-folding, escaped and duplicate keys.
	`{"v":1,"ID":"p","Text":"x","PUBLISHED":"2026-01-01T00:00:00Z"}`,
	`{"v":1,"id":"p","text":"x","published":"2026-01-01T00:00:00Z","engagement":{"LIKES":2}}`,
	"{\"v\":1,\"id\":\"p\",\"text\":\"x\",\"published\":\"2026-01-01T00:00:00Z\",\"engagement\":{\"li\u212aes\":2}}",
	"{\"v\":1,\"id\":\"p\",\"\u017fource\":\"s\",\"text\":\"x\",\"published\":\"2026-01-01T00:00:00Z\"}",
	`{"v":1,"\u0069d":"p","text":"x","published":"2026-01-01T00:00:00Z"}`,
	`{"v":1,"id":"p","id":"q","text":"x","published":"2026-01-01T00:00:00Z"}`,
	`{"v":1,"id":"p","text":"x","published":"2026-01-01T00:00:00Z","engagement":{"likes":1},"engagement":{"shares":2}}`,
	`{"v":1,"id":"p","text":"x","published":"2026-01-01T00:00:00Z","engagement":{"likes":1,"likes":2}}`,
	// Nulls and wrong types.
	`{"v":1,"id":"p","text":"x","title":null,"published":"2026-01-01T00:00:00Z"}`,
	`{"v":1,"id":"p","text":"x","published":"2026-01-01T00:00:00Z","fetched":null}`,
	`{"v":1,"id":"p","text":"x","published":"2026-01-01T00:00:00Z","engagement":null}`,
	`{"v":1,"id":"p","text":5,"published":"2026-01-01T00:00:00Z"}`,
	`{"v":1,"id":"p","text":"x","published":1}`,
	`{"v":1,"id":"p","text":"x","published":"2026-01-01T00:00:00Z","engagement":[]}`,
	// Times: offsets, fractions, invalid, escaped (time.Time does not unescape).
	`{"v":1,"id":"p","text":"x","published":"2026-01-01T00:00:00.123456789-03:30","fetched":"2026-01-01T00:00:00.5+00:00"}`,
	`{"v":1,"id":"p","text":"x","published":"2026-01-01T00:00:00\u005a"}`,
	`{"v":1,"id":"p","text":"x","published":"2026-13-01T00:00:00Z"}`,
	`{"v":1,"id":"p","text":"x","published":"2026-01-01 00:00:00Z"}`,
	`{"v":1,"id":"p","text":"x","published":"0001-01-01T00:00:00Z"}`,
	// Invalid UTF-8 in fields (encoding/json substitutes U+FFFD), valid non-ASCII.
	"{\"v\":1,\"id\":\"p\",\"text\":\"a\xffb\xed\xa0\x80c\",\"published\":\"2026-01-01T00:00:00Z\"}",
	`{"v":1,"id":"p","text":"Hà Nội mưa lớn 🌧","author":"Đức","published":"2026-01-01T00:00:00Z"}`,
	// Not an object, truncated, trailing data.
	``, ` `, `null`, `[]`, `"x"`, `{`, `{}`, `{"v":1`, `{"v":1,}`, `{"v" 1}`, `{,}`,
	`{"v":1,"id":"p","text":"x","published":"2026-01-01T00:00:00Z"} x`,
	`{"v":1,"id":"p","text":"x","published":"2026-01-01T00:00:00Z"}{}`,
	"\ufeff{\"v\":1,\"id\":\"p\",\"text\":\"x\",\"published\":\"2026-01-01T00:00:00Z\"}",
	// Validation and clamping after a fast decode.
	`{"v":1,"id":"` + strings.Repeat("i", 129) + `","text":"x","published":"2026-01-01T00:00:00Z"}`,
	`{"v":1,"id":"p","title":"` + strings.Repeat("ệ", schema.MaxTitleBytes) + `","published":"2026-01-01T00:00:00Z"}`,
	`{"v":1,"id":"p","text":"` + strings.Repeat(`Hà Nội \"mưa\"\n`, 8000) + `","published":"2026-01-01T00:00:00Z"}`,
}

// checkSame fails unless DecodePost gives exactly what encoding/json gives:
// the same post (times included) and the same error text.
func checkSame(t *testing.T, b []byte) {
	t.Helper()
	want, wantErr := schema.DecodePostJSON(b)
	got, err := schema.DecodePost(b)
	if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
		t.Fatalf("DecodePost(%q) error = %v, encoding/json gives %v", b, err, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodePost(%q) = %+v, encoding/json gives %+v", b, got, want)
	}
	// Stronger, before Validate could hide a difference: whatever the fast
	// path accepts, json.Unmarshal accepts with the same value.
	if fast, ok := schema.DecodePostFast(b); ok {
		var ref schema.Post
		if err := json.Unmarshal(b, &ref); err != nil {
			t.Fatalf("fast path accepted %q, json.Unmarshal rejects it: %v", b, err)
		}
		if !reflect.DeepEqual(fast, ref) {
			t.Fatalf("fast path decoded %q as %+v, json.Unmarshal as %+v", b, fast, ref)
		}
	}
}

func TestDecodePostMatchesJSON(t *testing.T) {
	for _, b := range generatorPosts(t, 2000) {
		checkSame(t, b)
	}
	for _, s := range edgeCases {
		checkSame(t, []byte(s))
	}
}

// The fast path must actually take the common input, or the equality
// above would hold trivially through the fallback.
func TestDecodePostFastTakesCommonInput(t *testing.T) {
	for _, b := range generatorPosts(t, 2000) {
		if _, ok := schema.DecodePostFast(b); !ok {
			t.Fatalf("fast path declined a generator post: %s", b)
		}
	}
	for _, i := range []int{1, 2, 3, 9, 10} {
		if _, ok := schema.DecodePostFast([]byte(edgeCases[i])); !ok {
			t.Fatalf("fast path declined %s", edgeCases[i])
		}
	}
	p, ok := schema.DecodePostFast([]byte(edgeCases[2]))
	if want := "pair 😀 lone-hi \uFFFD lone-lo \uFFFD hi-then-A \uFFFDA hi-end \uFFFD"; !ok || p.Text != want {
		t.Fatalf("surrogates: %q, want %q", p.Text, want)
	}
}

func FuzzDecodePostMatchesJSON(f *testing.F) {
	for _, b := range generatorPosts(f, 50) {
		f.Add(b)
	}
	for _, s := range edgeCases {
		// Huge seeds stay in the unit test: the fuzzer minimizes every
		// interesting input, which takes its full minute on 100 KiB ones.
		if len(s) <= 4<<10 {
			f.Add([]byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkSame(t, b)
	})
}

// BenchmarkDecodePost compares encoding/json (old) with the fast path (new)
// on the same generator posts.
func BenchmarkDecodePost(b *testing.B) {
	posts := generatorPosts(b, 1000)
	var size int
	for _, p := range posts {
		size += len(p)
	}
	for _, bc := range []struct {
		name   string
		decode func([]byte) (schema.Post, error)
	}{{"old", schema.DecodePostJSON}, {"new", schema.DecodePost}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(size / len(posts)))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := bc.decode(posts[i%len(posts)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
