package trends

import (
	"slices"

	"github.com/trendwatch/trendwatch/schema"
)

// Pipeline runs posts through key extraction and one Detector: the code
// path shared by `trendwatch detect` and `trendwatch eval trends`.
type Pipeline struct {
	det   *Detector
	memo  map[memoKey]*memoEntry
	flags []Flag
}

// memoEntry is the keys of one input and the detector state of each, so
// a repost costs no key lookups; a state the detector has since dropped
// (gone) is looked up again.
type memoEntry struct {
	keys   []string
	topics []*topic
}

// memoKey identifies the inputs Keys depends on; reposts repeat them, so
// the text analysis runs once per distinct text.
type memoKey struct{ text, title, lang, url, canon string }

const memoMax = 1 << 16

// NewPipeline returns a pipeline over a new Detector.
func NewPipeline(cfg Config) *Pipeline {
	return &Pipeline{det: NewDetector(cfg), memo: make(map[memoKey]*memoEntry)}
}

// Detector returns the pipeline's detector.
func (p *Pipeline) Detector() *Detector { return p.det }

// Post counts p under each of its topic keys (matches are matched fact
// ids) and returns the flags that became due, in time then topic order.
func (p *Pipeline) Post(post schema.Post, matches []string) []Flag {
	p.flags = p.flags[:0]
	if len(matches) > 0 {
		for _, k := range AnalyzeKeys(post, matches) {
			p.flags = append(p.flags, p.det.Observe(Event{Time: post.Published, Topic: k, PostID: post.ID, Author: post.Author})...)
		}
	} else if !post.Published.IsZero() { // Observe ignores events without a time
		mk := memoKey{post.Text, post.Title, post.Lang, post.URL, post.CanonicalURL}
		e := p.memo[mk]
		if e == nil {
			keys := AnalyzeKeys(post, nil)
			e = &memoEntry{keys: keys, topics: make([]*topic, len(keys))}
			if len(p.memo) >= memoMax {
				clear(p.memo) // a bounded cache; refilling is cheap
			}
			p.memo[mk] = e
		}
		// What Observe does for each key, with the time and author
		// converted once per post.
		t, author := post.Published.UnixNano(), hashString(post.Author)
		for i, k := range e.keys {
			tp := e.topics[i]
			if tp == nil || tp.gone {
				tp = p.det.topic(k)
				e.topics[i] = tp
			}
			p.flags = append(p.flags, p.det.observe(tp, t, post.ID, author)...)
		}
	}
	if len(p.flags) == 0 {
		return nil
	}
	return sortFlags(slices.Clone(p.flags)) // p.flags is reused by the next call
}

// Flush ends the input and returns the remaining flags.
func (p *Pipeline) Flush() []Flag { return p.det.Flush() }

// FromTopicEvent converts the repartitioned Kafka record to an Event.
func FromTopicEvent(e schema.TopicEvent) Event {
	return Event{Time: e.Time, Topic: e.Topic, PostID: e.PostID, Author: e.Author}
}

// TopicEvents returns the records the analyzer repartitions by topic key
// for post p with keys (see Keys).
func TopicEvents(p schema.Post, keys []string) []schema.TopicEvent {
	out := make([]schema.TopicEvent, len(keys))
	for i, k := range keys {
		out[i] = schema.TopicEvent{V: schema.Version, Topic: k, PostID: p.ID, Author: p.Author, Source: p.Source,
			Platform: p.Platform, Lang: p.Lang, Time: p.Published}
	}
	return out
}

// Schema returns the flag as the shared record.
func (f Flag) Schema() schema.Flag {
	return schema.Flag{V: schema.Version, Time: f.Time, Topic: f.Topic, Kind: f.Kind, Score: f.Score,
		Count: f.Count, Authors: f.Authors, PostIDs: f.PostIDs}
}
