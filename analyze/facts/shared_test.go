package facts

import (
	"path/filepath"
	"testing"

	"github.com/trendwatch/trendwatch/internal/testdata"
)

// TestSharedCheckThat loads the research sets with exact counts: every
// record of every file is a usable fact.
func TestSharedCheckThat(t *testing.T) {
	dir := testdata.SharedDir(t)
	for _, tc := range []struct {
		path, format string
		want         int
	}{
		{"checkthat2020/verified_claims.docs.tsv", FormatCheckThat2020, 10375},
		{"checkthat2022/vclaims.jsonl", FormatCheckThat2022, 14231},
		// vclaim_id<TAB>vclaim<TAB>title headlines, read as CheckThat! 2020.
		{"vi-news/outlet-bench/thanhnien/facts.tsv", FormatCheckThat2020, 293},
		{"vi-news/outlet-bench/tuoitre/facts.tsv", FormatCheckThat2020, 282},
		{"vi-news/outlet-bench/vnexpress/facts.tsv", FormatCheckThat2020, 439},
	} {
		t.Run(tc.path, func(t *testing.T) {
			for _, format := range []string{"", tc.format} {
				fs, errs, err := Load(filepath.Join(dir, tc.path), format)
				if err != nil {
					t.Fatal(err)
				}
				for i, e := range errs {
					if i < 5 {
						t.Errorf("record error: %v", e)
					}
				}
				if len(fs) != tc.want {
					t.Errorf("format %q: got %d facts, want %d", format, len(fs), tc.want)
				}
				ids := map[string]bool{}
				for i := range fs {
					if err := fs[i].Validate(); err != nil {
						t.Errorf("fact %d: %v", i, err)
					}
					if ids[fs[i].ID] {
						t.Errorf("duplicate id %s", fs[i].ID)
					}
					ids[fs[i].ID] = true
				}
			}
		})
	}
}
