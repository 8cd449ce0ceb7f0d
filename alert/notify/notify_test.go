package notify

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestClip(t *testing.T) {
	f := func(in string, n int, want string) {
		t.Helper()
		if got := Clip(in, n); got != want {
			t.Fatalf("Clip(%q, %d) = %q, want %q", in, n, got, want)
		}
	}
	f("hello", 5, "hello")
	f("hello", 4, "hel…")
	f("Hà Nội", 3, "Hà…")
	f("abc", 1, "…")
	f("abc", 0, "")
	f("", 3, "")
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	f := func(in string, want time.Duration) {
		t.Helper()
		if got := ParseRetryAfter(in, now); got != want {
			t.Fatalf("%q: %v, want %v", in, got, want)
		}
	}
	f("", 0)
	f("120", 2*time.Minute)
	f(" 3 ", 3*time.Second)
	f("-1", 0)
	f("99999999999", 0)
	f("999999", time.Hour)
	f("Wed, 25 Nov 2026 12:00:30 GMT", 30*time.Second)
	f("Wed, 25 Nov 2026 11:00:00 GMT", 0)
	f("soon", 0)
}

func TestErrorClasses(t *testing.T) {
	base := errors.New("boom")
	if !IsPermanent(Permanent(base)) || IsPermanent(base) || Permanent(nil) != nil {
		t.Fatal("Permanent")
	}
	if RetryAfterOf(RetryAfter(base, time.Second)) != time.Second || RetryAfterOf(base) != 0 {
		t.Fatal("RetryAfter")
	}
	for status, perm := range map[int]bool{400: true, 403: true, 404: true, 408: false, 429: false, 500: false, 502: false} {
		err := ClassifyHTTP(status, "", []byte("x"))
		if err == nil || IsPermanent(err) != perm {
			t.Fatalf("%d: %v", status, err)
		}
	}
	if ClassifyHTTP(204, "", nil) != nil {
		t.Fatal("2xx is success")
	}
}

// FuzzClip: the result is valid UTF-8 when the input is, never longer than
// n runes, and a prefix of the input (plus an ellipsis) when cut.
func FuzzClip(f *testing.F) {
	f.Add("Tin giả lan truyền", 5)
	f.Add("", 0)
	f.Add("\xff\xfeabc", 2)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n > 1<<16 || n < -1<<16 {
			return
		}
		got := Clip(s, n)
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 %q", got)
		}
		if utf8.RuneCountInString(got) > max(n, 0) {
			t.Fatalf("Clip(%q, %d) has %d runes", s, n, utf8.RuneCountInString(got))
		}
		if got != s && n > 0 && !strings.HasPrefix(s, strings.TrimSuffix(got, "…")) {
			t.Fatalf("Clip(%q, %d) = %q is not a prefix", s, n, got)
		}
	})
}
