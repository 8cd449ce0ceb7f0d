package trends

import (
	"reflect"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/schema"
)

func TestTopicEventsAndSchema(t *testing.T) {
	p := schema.Post{ID: "p1", Author: "a", Source: "s", Platform: "rss", Lang: "en", Published: t0, Text: "x"}
	evs := TopicEvents(p, []string{"#a", "kw:b"})
	if len(evs) != 2 || evs[1].Topic != "kw:b" || evs[0].V != schema.Version {
		t.Fatalf("%+v", evs)
	}
	if got, want := FromTopicEvent(evs[0]), (Event{Time: t0, Topic: "#a", PostID: "p1", Author: "a"}); got != want {
		t.Errorf("FromTopicEvent = %+v, want %+v", got, want)
	}
	f := Flag{Time: t0, Topic: "#a", Kind: KindBurst, Score: 6, Count: 9, PostIDs: []string{"p1"}, Authors: 8}
	if s := f.Schema(); s.Topic != "#a" || s.Authors != 8 || !reflect.DeepEqual(s.PostIDs, f.PostIDs) {
		t.Errorf("Schema = %+v", s)
	}
}

// TestPipelineMatchesDetector: the pipeline is Keys then Observe, nothing
// else, so detect and the analyzer (keys → Kafka → detector) agree.
func TestPipelineMatchesDetector(t *testing.T) {
	var posts []schema.Post
	for i := range 30 {
		posts = append(posts, schema.Post{ID: string(rune('a'+i%26)) + string(rune('0'+i/26)), Author: string(rune('A' + i)),
			Text: "Breaking: bridge collapse in Da Nang #danang", Published: t0.Add(time.Duration(i) * 5 * time.Second)})
	}
	p := NewPipeline(DefaultConfig())
	var viaPipeline []Flag
	for _, post := range posts {
		viaPipeline = append(viaPipeline, p.Post(post, nil)...)
	}
	viaPipeline = append(viaPipeline, p.Flush()...)
	d := NewDetector(DefaultConfig())
	var direct []Flag
	for _, post := range posts {
		for _, e := range TopicEvents(post, AnalyzeKeys(post, nil)) {
			direct = append(direct, d.Observe(FromTopicEvent(e))...)
		}
	}
	direct = append(direct, d.Flush()...)
	if len(direct) == 0 || !reflect.DeepEqual(sortFlags(direct), sortFlags(viaPipeline)) {
		t.Errorf("pipeline %d flags, detector %d", len(viaPipeline), len(direct))
	}
}
