package delimited

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/trendwatch/trendwatch/internal/testdata"
)

// BenchmarkCheckThat2020 reads the shared CheckThat! 2020 claims file
// (10,375 records, some quoted over several lines) with this package and,
// for comparison, encoding/csv with LazyQuotes.
func BenchmarkCheckThat2020(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(testdata.SharedDir(b), "checkthat2020/verified_claims.docs.tsv"))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("delimited", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			r := NewReader(bytes.NewReader(data), '\t')
			n := 0
			for {
				_, _, _, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				n++
			}
			if n != 10376 {
				b.Fatalf("%d records", n)
			}
		}
	})
	b.Run("encoding-csv", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			r := csv.NewReader(bytes.NewReader(data))
			r.Comma, r.LazyQuotes, r.ReuseRecord = '\t', true, true
			for {
				if _, err := r.Read(); errors.Is(err, io.EOF) {
					break
				}
			}
		}
	})
}
