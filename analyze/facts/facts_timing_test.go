package facts

import (
	"path/filepath"
	"testing"

	"github.com/trendwatch/trendwatch/internal/testdata"
)

// BenchmarkLoad measures a full import parse of the research sets
// (detection, parsing, normalisation), reported per file.
func BenchmarkLoad(b *testing.B) {
	dir := testdata.SharedDir(b)
	for _, path := range []string{"checkthat2020/verified_claims.docs.tsv", "checkthat2022/vclaims.jsonl"} {
		b.Run(filepath.Dir(path), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				fs, _, err := Load(filepath.Join(dir, path), "")
				if err != nil || len(fs) == 0 {
					b.Fatal(err)
				}
			}
		})
	}
}
