package claims

import "math/bits"

// termDict maps terms to ids. It replaces a map[string]int32: looking up a
// post's ~80 distinct terms in a dictionary of tens of thousands was a
// sixth of matching, mostly cache misses on the map's group, its key and
// the key's bytes. Here a slot holds the term's first 11 bytes and its
// length, so most terms are found or ruled out with one 16-byte slot; only
// longer terms compare the stored string. Slots are placed by the term's
// seedTerm hash, which a query computes anyway for its term set.
type termDict struct {
	slots []termSlot
	shift uint
	terms []string // by id
}

type termSlot struct {
	k0  uint64 // bytes 0..7 of the term, zero-padded
	k1  uint32 // bytes 8..10, and the length (capped at 255) in the top byte
	ref int32  // id+1; 0 is an empty slot
}

func termKey(t string) (k0 uint64, k1 uint32) {
	if len(t) >= 11 {
		// Most looked-up terms: the byte loads combine into two, with no
		// branch per byte.
		_ = t[10]
		k0 = uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
			uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
		k1 = uint32(t[8]) | uint32(t[9])<<8 | uint32(t[10])<<16
		return k0, k1 | uint32(min(len(t), 255))<<24
	}
	if len(t) >= 8 {
		_ = t[7]
		k0 = uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
			uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
		for i := 8; i < len(t); i++ {
			k1 |= uint32(t[i]) << (8 * (i - 8))
		}
		return k0, k1 | uint32(len(t))<<24
	}
	for i := 0; i < len(t); i++ {
		k0 |= uint64(t[i]) << (8 * i)
	}
	return k0, uint32(len(t)) << 24
}

func (d *termDict) len() int { return len(d.terms) }

// lookup returns t's id; h is hash32(seedTerm, t).
func (d *termDict) lookup(t string, h uint32) (int32, bool) {
	if len(d.slots) == 0 {
		return -1, false
	}
	k0, k1 := termKey(t)
	mask := len(d.slots) - 1
	for i := int((h * 0x9E3779B1) >> d.shift); ; i = (i + 1) & mask {
		s := &d.slots[i]
		if s.ref == 0 {
			return -1, false
		}
		if s.k0 == k0 && s.k1 == k1 && (len(t) <= 11 || d.terms[s.ref-1] == t) {
			return s.ref - 1, true
		}
	}
}

// prefetch loads the first slot of each hash's probe sequence, in a loop
// without branches so the cache misses of a post's terms overlap; lookup
// then finds them in cache. It returns a value to keep the loads.
func (d *termDict) prefetch(hs []uint32) uint32 {
	if len(d.slots) == 0 {
		return 0
	}
	var sink uint32
	for _, h := range hs {
		sink += uint32(d.slots[(h*0x9E3779B1)>>d.shift].ref)
	}
	return sink
}

// add appends t, which must not be in d, and returns its id.
func (d *termDict) add(t string, h uint32) int32 {
	if 4*(len(d.terms)+1) > 3*len(d.slots) {
		d.resize(2 * (len(d.terms) + 1))
	}
	id := int32(len(d.terms))
	d.terms = append(d.terms, t)
	d.place(t, h, id)
	return id
}

// resize makes room for n terms at a load of at most 2/3: the table stays
// small enough to be mostly in cache, and probes are short.
func (d *termDict) resize(n int) {
	size := 1024
	for 2*size < 3*n {
		size <<= 1
	}
	if size <= len(d.slots) {
		return
	}
	d.slots = make([]termSlot, size)
	d.shift = uint(32 - bits.TrailingZeros(uint(size)))
	for id, t := range d.terms {
		d.place(t, hash32(seedTerm, t), int32(id))
	}
}

func (d *termDict) place(t string, h uint32, id int32) {
	k0, k1 := termKey(t)
	mask := len(d.slots) - 1
	for i := int((h * 0x9E3779B1) >> d.shift); ; i = (i + 1) & mask {
		if d.slots[i].ref == 0 {
			d.slots[i] = termSlot{k0: k0, k1: k1, ref: id + 1}
			return
		}
	}
}
