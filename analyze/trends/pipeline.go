package trends

import (
	"slices"

	"github.com/trendwatch/trendwatch/schema"
)

// Pipeline runs posts through key extraction and one Detector: the code
// path shared by `trendwatch detect` and `trendwatch eval trends`.
type Pipeline struct {
	det   *Detector
	memo  map[memoKey][]string
	flags []Flag
}

// memoKey identifies the inputs Keys depends on; reposts repeat them, so
// the text analysis runs once per distinct text.
type memoKey struct{ text, title, lang, url, canon string }

const memoMax = 1 << 16

// NewPipeline returns a pipeline over a new Detector.
func NewPipeline(cfg Config) *Pipeline {
	return &Pipeline{det: NewDetector(cfg), memo: make(map[memoKey][]string)}
}

// Detector returns the pipeline's detector.
func (p *Pipeline) Detector() *Detector { return p.det }

// Post counts p under each of its topic keys (matches are matched fact
// ids) and returns the flags that became due, in time then topic order.
func (p *Pipeline) Post(post schema.Post, matches []string) []Flag {
	var keys []string
	if len(matches) == 0 {
		mk := memoKey{post.Text, post.Title, post.Lang, post.URL, post.CanonicalURL}
		var ok bool
		if keys, ok = p.memo[mk]; !ok {
			keys = AnalyzeKeys(post, nil)
			if len(p.memo) >= memoMax {
				clear(p.memo) // a bounded cache; refilling is cheap
			}
			p.memo[mk] = keys
		}
	} else {
		keys = AnalyzeKeys(post, matches)
	}
	p.flags = p.flags[:0]
	for _, k := range keys {
		p.flags = append(p.flags, p.det.Observe(Event{Time: post.Published, Topic: k, PostID: post.ID, Author: post.Author})...)
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
