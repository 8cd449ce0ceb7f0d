package fetch

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkFetchParallel measures fetches per second against a local
// server with 8 concurrent requests per host allowed and no rate limit,
// i.e. the client's own overhead (guarded dial, limits, body read).
func BenchmarkFetchParallel(b *testing.B) {
	body := strings.Repeat("x", 16<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) }))
	defer srv.Close()
	c, err := New(Options{IgnoreRobots: true, Allow: loopback, PerHostRate: 1e9, PerHostBurst: 1 << 20, PerHostConcurrency: 8})
	if err != nil {
		b.Fatal(err)
	}
	defer c.http.Transport.(*limitedTransport).base.(*http.Transport).CloseIdleConnections()
	b.SetBytes(int64(len(body)))
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Get(context.Background(), Request{URL: srv.URL}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
