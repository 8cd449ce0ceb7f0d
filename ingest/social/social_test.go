package social

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	f := func(n int, want time.Duration) {
		t.Helper()
		got := Backoff(n, time.Second, time.Minute)
		if got < want*8/10 || got > want*12/10 {
			t.Errorf("Backoff(%d) = %v, want ~%v", n, got, want)
		}
	}
	f(0, time.Second)
	f(1, time.Second)
	f(3, 4*time.Second)
	f(10, time.Minute)
	f(1000, time.Minute)
}

func TestSeen(t *testing.T) {
	s := NewSeen(3)
	for i := range 5 {
		if !s.Add(fmt.Sprint(i)) {
			t.Errorf("%d not new", i)
		}
	}
	if s.Add("4") || s.Has("0") || s.Has("1") || !s.Has("2") {
		t.Error("bounded FIFO broken")
	}
}

func TestKeywords(t *testing.T) {
	k := NewKeywords([]string{"Hà Nội", " ĐIỆN ", ""})
	f := func(text string, want bool) {
		t.Helper()
		if got := k.Match(text); got != want {
			t.Errorf("Match(%q) = %v, want %v", text, got, want)
		}
	}
	f("Tin nóng ha noi hôm nay", true)
	f("HÀ NỘI", true)
	f("mat dien toan thanh pho", true)
	f("Sài Gòn", false)
	if !NewKeywords(nil).Match("anything") {
		t.Error("empty list must match all")
	}
}

func TestSleep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); err == nil {
		t.Error("cancelled sleep returned nil")
	}
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Error(err)
	}
}

func FuzzFold(f *testing.F) {
	f.Add("Hà Nội")
	f.Add("Đà Nẵng \xff")
	f.Fuzz(func(t *testing.T, s string) {
		out := Fold(s)
		if Fold(out) != out {
			t.Fatalf("Fold not idempotent on %q: %q -> %q", s, out, Fold(out))
		}
	})
}
