package bus

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

func TestRetryUnknownTopic(t *testing.T) {
	other := errors.New("broker on fire")
	for _, c := range []struct {
		name  string
		errs  []error // f's results, in order; the last repeats
		calls int
		want  error
	}{
		{"ok at once", []error{nil}, 1, nil},
		{"fresh topic appears", []error{kafka.UnknownTopicOrPartition, fmt.Errorf("cannot read: %w", kafka.LeaderNotAvailable), nil}, 3, nil},
		{"other errors are not retried", []error{other}, 1, other},
		{"unknown then other", []error{kafka.UnknownTopicOrPartition, other}, 2, other},
	} {
		t.Run(c.name, func(t *testing.T) {
			calls := 0
			err := retryUnknownTopic(context.Background(), func() error {
				e := c.errs[min(calls, len(c.errs)-1)]
				calls++
				return e
			})
			if calls != c.calls || !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Errorf("calls %d, err %v; want %d, %v", calls, err, c.calls, c.want)
			}
		})
	}
	// A topic that never appears: the error comes back once the context
	// ends, not after the whole schedule.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	calls, t0 := 0, time.Now()
	err := retryUnknownTopic(ctx, func() error { calls++; return kafka.UnknownTopicOrPartition })
	if !errors.Is(err, kafka.UnknownTopicOrPartition) || calls < 3 || time.Since(t0) > 5*time.Second {
		t.Errorf("never-appearing topic: err %v after %d calls, %v", err, calls, time.Since(t0))
	}
}
