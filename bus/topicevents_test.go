package bus

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/trendwatch/trendwatch/schema"
)

func TestHashPartitionIsKafkaHash(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h kafka.Hash
	all := make([]int, 200)
	for i := range all {
		all[i] = i
	}
	keys := []string{"", "#a", "kw:bầu cử", "url:example.com/a?b=c", "\xff\x00"}
	for range 2000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		keys = append(keys, string(b))
	}
	for _, k := range keys {
		for _, n := range []int{1, 2, 3, 6, 7, 12, 64, 200} {
			if got, want := hashPartition(k, n), h.Balance(kafka.Message{Key: []byte(k)}, all[:n]...); got != want {
				t.Fatalf("hashPartition(%q, %d) = %d, kafka.Hash says %d", k, n, got, want)
			}
		}
	}
}

// analyzerEvents returns the topic events of posts posts with topics
// topic keys each, drawn from a vocabulary of vocab keys.
func analyzerEvents(posts, topics, vocab int, seed uint64) []schema.TopicEvent {
	rng := rand.New(rand.NewPCG(seed, 3))
	at := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	var evs []schema.TopicEvent
	for p := range posts {
		id := fmt.Sprintf("%016x%016x", seed, p)
		author := fmt.Sprintf("@u%d@mastodon.social", rng.IntN(500))
		for range topics {
			evs = append(evs, schema.TopicEvent{Topic: fmt.Sprintf("kw:word%d", rng.IntN(vocab)), PostID: id, Author: author,
				Source: "https://mastodon.social/tags/news", Platform: "mastodon", Lang: "en", Time: at.Add(time.Duration(p) * time.Second)})
		}
	}
	return evs
}

// checkPacked decodes msgs and checks that every event sits in a message
// whose key and events all hash to one partition, that no message exceeds
// maxBytes unless it holds a single event, and that per partition the
// events come in their input order. It returns the messages per partition.
func checkPacked(t *testing.T, evs []schema.TopicEvent, msgs []kafka.Message, n, maxBytes int) map[int]int {
	t.Helper()
	var want = map[int][]schema.TopicEvent{}
	for _, e := range evs {
		if e.Topic != "" && e.PostID != "" && !e.Time.IsZero() {
			q := hashPartition(e.Topic, n)
			want[q] = append(want[q], e)
		}
	}
	got := map[int][]schema.TopicEvent{}
	perPart := map[int]int{}
	for _, m := range msgs {
		q := hashPartition(string(m.Key), n)
		perPart[q]++
		des, err := schema.DecodeTopicEvents(nil, m.Value)
		if err != nil {
			t.Fatalf("message for partition %d: %v", q, err)
		}
		if len(m.Value) > maxBytes && len(des) > 1 {
			t.Fatalf("message of %d bytes with %d events, limit %d", len(m.Value), len(des), maxBytes)
		}
		for _, e := range des {
			if hashPartition(e.Topic, n) != q {
				t.Fatalf("event for %q (partition %d) in a message for partition %d", e.Topic, hashPartition(e.Topic, n), q)
			}
		}
		got[q] = append(got[q], des...)
	}
	for q := range n {
		if len(got[q]) != len(want[q]) {
			t.Fatalf("partition %d: %d events, want %d", q, len(got[q]), len(want[q]))
		}
		for i := range want[q] {
			w := want[q][i]
			w.V = schema.Version
			if g := got[q][i]; g != w {
				t.Fatalf("partition %d event %d:\n got %+v\nwant %+v", q, i, g, w)
			}
		}
	}
	return perPart
}

func TestPackTopicEvents(t *testing.T) {
	at := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	huge := make([]schema.TopicEvent, 0, 20000)
	for i := range cap(huge) {
		huge = append(huge, schema.TopicEvent{Topic: "#one", PostID: fmt.Sprintf("post-%06d", i), Author: "a", Time: at})
	}
	for _, tc := range []struct {
		name       string
		evs        []schema.TopicEvent
		n, max     int
		wantMsgs   int // 0: one per non-empty partition
		wantDrop   int
		checkSplit bool
	}{
		{name: "keys spread over 6", evs: analyzerEvents(1000, 13, 5000, 1), n: 6, max: maxPackedBytes},
		{name: "keys spread over 7", evs: analyzerEvents(300, 13, 5000, 2), n: 7, max: maxPackedBytes},
		{name: "one partition", evs: analyzerEvents(50, 13, 100, 3), n: 1, max: maxPackedBytes, wantMsgs: 1},
		{name: "few keys, many partitions", evs: analyzerEvents(20, 2, 3, 4), n: 12, max: maxPackedBytes},
		{name: "one huge group split", evs: huge, n: 6, max: maxPackedBytes, checkSplit: true},
		{name: "small limit", evs: analyzerEvents(200, 13, 5000, 5), n: 3, max: 1 << 10, checkSplit: true},
		{name: "oversized events alone", evs: []schema.TopicEvent{
			{Topic: "#a", PostID: "p1", Author: string(make([]byte, 3000)), Time: at},
			{Topic: "#a", PostID: "p2", Author: string(make([]byte, 3000)), Time: at},
		}, n: 2, max: 1 << 10, wantMsgs: 2},
		{name: "incomplete dropped", evs: []schema.TopicEvent{
			{Topic: "#a", PostID: "p1", Time: at}, {Topic: "", PostID: "p1", Time: at}, {Topic: "#b", PostID: "", Time: at},
			{Topic: "#c", PostID: "p2"},
		}, n: 1, max: maxPackedBytes, wantMsgs: 1, wantDrop: 3},
		{name: "all dropped", evs: []schema.TopicEvent{{Topic: "#a", PostID: "p1"}}, n: 3, max: maxPackedBytes, wantMsgs: -1, wantDrop: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msgs, dropped := packTopicEvents(tc.evs, tc.n, tc.max)
			if dropped != tc.wantDrop {
				t.Fatalf("dropped %d, want %d", dropped, tc.wantDrop)
			}
			perPart := checkPacked(t, tc.evs, msgs, tc.n, tc.max)
			switch {
			case tc.wantMsgs == -1:
				if len(msgs) != 0 {
					t.Fatalf("%d messages, want none", len(msgs))
				}
			case tc.wantMsgs > 0:
				if len(msgs) != tc.wantMsgs {
					t.Fatalf("%d messages, want %d", len(msgs), tc.wantMsgs)
				}
			case tc.checkSplit:
				var bytes int
				for _, m := range msgs {
					bytes += len(m.Value)
				}
				if min := (bytes + tc.max - 1) / tc.max; len(msgs) < min || len(msgs) > 2*min+tc.n {
					t.Fatalf("%d messages for %d bytes at %d a message", len(msgs), bytes, tc.max)
				}
			default:
				for q, k := range perPart {
					if k != 1 {
						t.Fatalf("partition %d got %d messages, want 1", q, k)
					}
				}
			}
			t.Logf("%d events → %d messages", len(tc.evs), len(msgs))
		})
	}
}

// readPartitions returns every message of topic, by partition.
func readPartitions(t *testing.T, ctx context.Context, brokers []string, topic string, n int) map[int][]kafka.Message {
	t.Helper()
	out := map[int][]kafka.Message{}
	for q := range n {
		conn, err := kafka.DialLeader(ctx, "tcp", brokers[0], topic, q)
		if err != nil {
			t.Fatal(err)
		}
		first, last, err := conn.ReadOffsets()
		conn.Close()
		if err != nil {
			t.Fatal(err)
		}
		if last <= first {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: q, MaxWait: 50 * time.Millisecond})
		if err := r.SetOffset(first); err != nil {
			t.Fatal(err)
		}
		for {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				r.Close()
				t.Fatalf("partition %d: %v", q, err)
			}
			out[q] = append(out[q], m)
			if m.Offset+1 >= last {
				break
			}
		}
		r.Close()
	}
	return out
}

// TestPublishTopicEvents: on a broker, packed events land in the partition
// their topic key hashes to, next to messages of the old format; after
// partitions are added, the producer picks up the new count.
func TestPublishTopicEvents(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	b := brokers(t)
	cfg := Config{Brokers: b, Partitions: 3, TopicPrefix: fmt.Sprintf("pack%d.", time.Now().UnixNano())}
	if err := EnsureTopics(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	p := NewProducer(cfg, log)
	defer p.Close()
	singleCfg := cfg
	singleCfg.SingleTopicEvents = true
	old := NewProducer(singleCfg, log)
	defer old.Close()

	// A client whose metadata cache predates the topic sees it within a
	// refresh.
	waitPartitions(t, ctx, p, 3)

	evs := analyzerEvents(400, 13, 3000, 7)
	legacy := analyzerEvents(20, 13, 3000, 8)
	if err := p.PublishTopicEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	if err := old.PublishTopicEvents(ctx, legacy); err != nil {
		t.Fatal(err)
	}
	topic := cfg.Topic(TopicTrends)
	got := readPartitions(t, ctx, b, topic, 3)
	var packedMsgs, singleMsgs, events int
	for q, ms := range got {
		for _, m := range ms {
			if schema.IsPackedTopicEvents(m.Value) {
				packedMsgs++
			} else {
				singleMsgs++
			}
			des, err := schema.DecodeTopicEvents(nil, m.Value)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range des {
				if hashPartition(e.Topic, 3) != q {
					t.Fatalf("%q in partition %d, its key hashes to %d", e.Topic, q, hashPartition(e.Topic, 3))
				}
			}
			events += len(des)
		}
	}
	if events != len(evs)+len(legacy) || singleMsgs != len(legacy) || packedMsgs != 3 {
		t.Fatalf("%d events in %d packed and %d single messages; want %d in 3 and %d", events, packedMsgs, singleMsgs, len(evs)+len(legacy), len(legacy))
	}

	// Add partitions; once the writer's metadata shows them (the
	// transport refreshes it every few seconds), batches follow the new
	// count.
	c := &kafka.Client{Addr: kafka.TCP(b...)}
	if _, err := c.CreatePartitions(ctx, &kafka.CreatePartitionsRequest{Topics: []kafka.TopicPartitionsConfig{{Name: topic, Count: 5}}}); err != nil {
		t.Fatal(err)
	}
	waitPartitions(t, ctx, p, 5)
	more := analyzerEvents(100, 13, 3000, 9)
	if err := p.PublishTopicEvents(ctx, more); err != nil {
		t.Fatal(err)
	}
	after := readPartitions(t, ctx, b, topic, 5)
	var moved int
	for q, ms := range after {
		if q < 3 {
			ms = ms[len(got[q]):]
		}
		for _, m := range ms {
			des, err := schema.DecodeTopicEvents(nil, m.Value)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range des {
				if hashPartition(e.Topic, 5) != q {
					t.Fatalf("after the change %q in partition %d, hashes to %d of 5", e.Topic, q, hashPartition(e.Topic, 5))
				}
				if q >= 3 {
					moved++
				}
			}
		}
	}
	if moved == 0 {
		t.Fatal("no event reached the new partitions")
	}
}

// waitPartitions waits until p sees n partitions of the trends topic.
func waitPartitions(t *testing.T, ctx context.Context, p *Producer, n int) {
	t.Helper()
	for {
		got, err := p.trendsPartitions(ctx)
		if err == nil && got == n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("producer sees %d partitions (%v), want %d", got, err, n)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
