package schema

import "fmt"

// DecodePostJSON is DecodePost as it was before the fast path, all through
// encoding/json: the reference the differential fuzz test and the benchmark
// compare against.
func DecodePostJSON(b []byte) (Post, error) {
	var p Post
	if err := decode(b, &p, &p.V); err != nil {
		return Post{}, fmt.Errorf("cannot decode post: %w", err)
	}
	if err := p.Validate(); err != nil {
		return Post{}, err
	}
	p.Clamp()
	return p, nil
}

// DecodePostFast exposes the fast path alone, so tests can check it takes
// the common input (a fallback on everything would also match encoding/json).
func DecodePostFast(b []byte) (Post, bool) {
	var p Post
	ok := decodePostFast(b, &p)
	return p, ok
}
