package facts

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trendwatch/trendwatch/schema"
)

var update = flag.Bool("update", false, "rewrite the .golden files in testdata")

// fixtures lists testdata inputs (every file but the goldens).
func fixtures(t testing.TB) []string {
	t.Helper()
	all, err := filepath.Glob(filepath.Join("testdata", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range all {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && filepath.Ext(p) != ".golden" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		t.Fatal("no fixtures in testdata")
	}
	return out
}

// render is the golden form of a Load result: the detected format, one
// line per fact (its JSON), one per record error, or the fatal error.
func render(path string) []byte {
	var b bytes.Buffer
	f, err := os.Open(path)
	if err != nil {
		return []byte(err.Error())
	}
	defer f.Close()
	head := make([]byte, headBytes)
	n, _ := f.Read(head)
	format, err := Detect(head[:n], path)
	if err != nil {
		fmt.Fprintf(&b, "detect: %v\n", err)
	} else {
		fmt.Fprintf(&b, "format: %s\n", format)
	}
	fs, errs, err := Load(path, "")
	for i := range fs {
		j, _ := schema.Encode(&fs[i])
		fmt.Fprintf(&b, "fact: %s\n", j)
	}
	for _, e := range errs {
		fmt.Fprintf(&b, "error: %v\n", e)
	}
	if err != nil {
		fmt.Fprintf(&b, "fatal: %v\n", err)
	}
	return b.Bytes()
}

func TestGolden(t *testing.T) {
	for _, path := range fixtures(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			got := render(path)
			golden := strings.TrimSuffix(path, filepath.Ext(path)) + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s:\n got:\n%s\nwant:\n%s", path, golden, got, want)
			}
		})
	}
}
