package claims

import "strings"

// compareIDs orders fact ids for ties: decimal numbers numerically ("17"
// before "1079", as a person reads them, and an older numbered fact before
// a later copy of it), before all other ids, which go as strings. Equal
// numbers written differently ("07", "7") fall back to the strings. The
// order is total (numbers first keeps it transitive), so results stay
// deterministic.
func compareIDs(a, b string) int {
	na, nb := numeric(a), numeric(b)
	switch {
	case na != "" && nb == "":
		return -1
	case na == "" && nb != "":
		return 1
	case na != "":
		if len(na) != len(nb) {
			if len(na) < len(nb) {
				return -1
			}
			return 1
		}
		if c := strings.Compare(na, nb); c != 0 {
			return c
		}
	}
	return strings.Compare(a, b)
}

// numeric returns s without leading zeros if s is all ASCII digits ("0"
// for zeros only), else "".
func numeric(s string) string {
	if s == "" {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return ""
		}
	}
	if t := strings.TrimLeft(s, "0"); t != "" {
		return t
	}
	return "0"
}
