package claims

import (
	"slices"
	"testing"
)

func TestCompareIDs(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"17", "1079", -1},
		{"1079", "17", 1},
		{"773", "10212", -1},
		{"7", "07", 1}, // same number: as strings, "07" < "7"
		{"0", "00", -1},
		{"a1", "a10", -1},
		{"b", "17", 1},   // numbers first
		{"10", "1a", -1}, // numbers first, though "10" > "1" as strings
		{"2", "1a", -1},
		{"17", "17", 0},
		{"", "0", 1},
		{"99999999999999999999999", "100000000000000000000000", -1}, // beyond int64
	} {
		if got := compareIDs(c.a, c.b); got != c.want {
			t.Errorf("compareIDs(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	ids := []string{"1653", "43", "x", "007", "7", "10212", "773", "a"}
	slices.SortFunc(ids, compareIDs)
	if want := []string{"007", "7", "43", "773", "1653", "10212", "a", "x"}; !slices.Equal(ids, want) {
		t.Errorf("sorted %q, want %q", ids, want)
	}
}

// A total order: antisymmetric and transitive on any strings.
func FuzzCompareIDs(f *testing.F) {
	f.Add("17", "1079", "0017")
	f.Add("a", "", "9")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		if compareIDs(a, b) != -compareIDs(b, a) {
			t.Fatalf("not antisymmetric: %q %q", a, b)
		}
		if (compareIDs(a, b) == 0) != (a == b) {
			t.Fatalf("equal only when the same: %q %q", a, b)
		}
		if compareIDs(a, b) <= 0 && compareIDs(b, c) <= 0 && compareIDs(a, c) > 0 {
			t.Fatalf("not transitive: %q %q %q", a, b, c)
		}
	})
}
