package schema

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// Packed topic events. One message per topic event made the trends topic
// the busiest in the pipeline (~13 messages per post), so the analyzer packs
// the events bound for one partition into one message. The format is
// binary and versioned by its first two bytes:
//
//	0x00 version(=1) record*
//	record = 0x01 post | 0x02 event
//	post   = str(post_id) str(author) str(source) str(platform) str(lang)
//	         varint(unix seconds) uvarint(nanoseconds) varint(zone offset seconds)
//	event  = str(topic)               — one event of the latest post record
//	str    = uvarint(length) bytes
//
// A JSON event never starts with 0x00, so a consumer tells the formats
// apart by the first byte and accepts both (DecodeTopicEvents): messages of
// the two kinds are mixed on the topic while producers are upgraded.
// Strings are kept byte for byte (no JSON escaping or U+FFFD replacement);
// times keep their instant and zone offset (UTC when the offset is 0).
const (
	topicPackMagic   byte = 0x00
	topicPackVersion byte = 1

	topicPackPost  byte = 0x01
	topicPackEvent byte = 0x02
)

var errIncompleteTopicEvent = errors.New("topic event lacks topic, post_id or time")

// IsPackedTopicEvents reports whether b is a packed message rather than a
// single JSON event.
func IsPackedTopicEvents(b []byte) bool { return len(b) > 0 && b[0] == topicPackMagic }

// TopicEventPacker writes packed messages into one growing buffer, so that
// a batch's messages share an allocation. Events of one post added one
// after the other share a post record.
type TopicEventPacker struct {
	buf     []byte
	start   int
	events  int
	hasPost bool
	post    TopicEvent // fields of the latest post record in the current message
}

// Reset empties the packer, which then writes into buf's array from its
// start (growing it as needed), so messages earlier taken from that array
// must be out of use.
func (p *TopicEventPacker) Reset(buf []byte) {
	*p = TopicEventPacker{buf: buf[:0]}
}

// Begin starts a new message.
func (p *TopicEventPacker) Begin() {
	p.start = len(p.buf)
	p.buf = append(p.buf, topicPackMagic, topicPackVersion)
	p.events, p.hasPost = 0, false
}

// Len returns the size of the current message so far.
func (p *TopicEventPacker) Len() int { return len(p.buf) - p.start }

// Events returns the number of events in the current message.
func (p *TopicEventPacker) Events() int { return p.events }

// Cost returns at most how many bytes Add(e) would append.
func (p *TopicEventPacker) Cost(e *TopicEvent) int {
	n := 1 + binary.MaxVarintLen64 + len(e.Topic)
	if !p.samePost(e) {
		n += 1 + 5*binary.MaxVarintLen64 + len(e.PostID) + len(e.Author) + len(e.Source) + len(e.Platform) + len(e.Lang) +
			3*binary.MaxVarintLen64
	}
	return n
}

// Add appends e to the current message. An event the consumer would
// reject (no topic, post id or time) is refused and nothing is written.
func (p *TopicEventPacker) Add(e *TopicEvent) error {
	if e.Topic == "" || e.PostID == "" || e.Time.IsZero() {
		return errIncompleteTopicEvent
	}
	if !p.samePost(e) {
		b := append(p.buf, topicPackPost)
		b = appendPackString(b, e.PostID)
		b = appendPackString(b, e.Author)
		b = appendPackString(b, e.Source)
		b = appendPackString(b, e.Platform)
		b = appendPackString(b, e.Lang)
		_, off := e.Time.Zone()
		b = binary.AppendVarint(b, e.Time.Unix())
		b = binary.AppendUvarint(b, uint64(e.Time.Nanosecond()))
		p.buf = binary.AppendVarint(b, int64(off))
		p.post, p.hasPost = *e, true
	}
	p.buf = appendPackString(append(p.buf, topicPackEvent), e.Topic)
	p.events++
	return nil
}

// End returns the current message. It stays valid (and must not be
// modified) while the packer goes on with the next one.
func (p *TopicEventPacker) End() []byte {
	return p.buf[p.start:len(p.buf):len(p.buf)]
}

// samePost reports whether e belongs to the latest post record of the
// current message. Events of one post carry the very same field values, so
// plain comparisons find them.
func (p *TopicEventPacker) samePost(e *TopicEvent) bool {
	q := &p.post
	return p.hasPost && e.PostID == q.PostID && e.Time == q.Time && e.Author == q.Author &&
		e.Source == q.Source && e.Platform == q.Platform && e.Lang == q.Lang
}

func appendPackString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// EncodeTopicEvents packs evs into one message, however large.
func EncodeTopicEvents(evs []TopicEvent) ([]byte, error) {
	var p TopicEventPacker
	p.Begin()
	for i := range evs {
		if err := p.Add(&evs[i]); err != nil {
			return nil, fmt.Errorf("cannot pack topic event %d: %w", i, err)
		}
	}
	return p.End(), nil
}

// DecodeTopicEvents appends the events of message b to dst: every event of
// a packed message, or the one event of a JSON message (DecodeTopicEvent).
// On error dst is returned unchanged: a message is taken whole or not at
// all. The fast path does not touch encoding/json.
func DecodeTopicEvents(dst []TopicEvent, b []byte) ([]TopicEvent, error) {
	if !IsPackedTopicEvents(b) {
		e, err := DecodeTopicEvent(b)
		if err != nil {
			return dst, err
		}
		return append(dst, e), nil
	}
	out, err := decodePackedTopicEvents(dst, b)
	if err != nil {
		clear(out[len(dst):]) // let the strings go
		return dst, fmt.Errorf("cannot decode packed topic events: %w", err)
	}
	return out, nil
}

func decodePackedTopicEvents(dst []TopicEvent, b []byte) ([]TopicEvent, error) {
	if len(b) < 2 {
		return dst, errors.New("truncated header")
	}
	if v := b[1]; v != topicPackVersion {
		if v > topicPackVersion {
			return dst, fmt.Errorf("format version %d is newer than this build understands (%d)", v, topicPackVersion)
		}
		return dst, fmt.Errorf("unknown format version %d", v)
	}
	var (
		post    TopicEvent
		hasPost bool
		zoneOff int64 // cache: a message's posts mostly share a zone
		zone    *time.Location
		err     error
	)
	for i := 2; i < len(b); {
		tag := b[i]
		i++
		switch tag {
		case topicPackPost:
			var s [5][]byte
			for f := range s {
				if s[f], i, err = readPackString(b, i); err != nil {
					return dst, fmt.Errorf("post record at %d: %w", i, err)
				}
			}
			sec, n := binary.Varint(b[i:])
			if n <= 0 {
				return dst, fmt.Errorf("post record at %d: bad seconds", i)
			}
			i += n
			nsec, n := binary.Uvarint(b[i:])
			if n <= 0 || nsec >= 1e9 {
				return dst, fmt.Errorf("post record at %d: bad nanoseconds", i)
			}
			i += n
			off, n := binary.Varint(b[i:])
			if n <= 0 || off < math.MinInt32 || off > math.MaxInt32 {
				return dst, fmt.Errorf("post record at %d: bad zone offset", i)
			}
			i += n
			t := time.Unix(sec, int64(nsec))
			switch {
			case off == 0:
				t = t.UTC()
			case zone != nil && off == zoneOff:
				t = t.In(zone)
			default:
				zone, zoneOff = time.FixedZone("", int(off)), off
				t = t.In(zone)
			}
			post = TopicEvent{
				V: Version, PostID: string(s[0]), Author: string(s[1]), Source: string(s[2]),
				Platform: internString(1<<5, s[3]), Lang: internString(1<<6, s[4]), Time: t,
			}
			if post.PostID == "" || post.Time.IsZero() {
				return dst, fmt.Errorf("post record at %d: %w", i, errIncompleteTopicEvent)
			}
			hasPost = true
		case topicPackEvent:
			var topic []byte
			if topic, i, err = readPackString(b, i); err != nil {
				return dst, fmt.Errorf("event record at %d: %w", i, err)
			}
			if !hasPost || len(topic) == 0 {
				return dst, fmt.Errorf("event record at %d: %w", i, errIncompleteTopicEvent)
			}
			e := post
			e.Topic = string(topic)
			dst = append(dst, e)
		default:
			return dst, fmt.Errorf("unknown record type %#x at %d", tag, i-1)
		}
	}
	return dst, nil
}

// readPackString reads a length-prefixed string at b[i]; the result
// aliases b.
func readPackString(b []byte, i int) ([]byte, int, error) {
	n, w := binary.Uvarint(b[i:])
	if w <= 0 {
		return nil, i, errors.New("bad string length")
	}
	i += w
	if n > uint64(len(b)-i) {
		return nil, i, errors.New("string runs past the end")
	}
	return b[i : i+int(n)], i + int(n), nil
}
