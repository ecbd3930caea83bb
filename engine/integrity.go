package engine

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
)

// Integrity: a service beside the tracker fetches each segment from the
// origin and publishes the SHA-256 of every block; with SetIntegrity(true) a
// peer uses and forwards bytes from other peers only once their block
// matches. Bytes from the CDN are trusted as they are. A block that does not
// match is thrown away, every peer that sent part of it is dropped and
// reported, and the stripe is fetched again (another upstream, or the CDN at
// the deadline).

// BlockSize is the unit of checking: blocks of a stripe, from its start.
const BlockSize = 16 << 10

// ErrBadData is reported for a peer whose bytes did not match the digests.
var ErrBadData = errors.New("engine: data does not match the segment's digests")

// ErrDigests: digests that cannot belong to the segment.
var ErrDigests = errors.New("engine: digests do not fit the segment")

// Reporter may be implemented by the Transport: it is told of a peer caught
// sending bad data (the engine has already stopped using it).
type Reporter interface {
	Misbehaved(id PeerID, err error)
}

// BlockCount is how many digests a segment of size bytes in k stripes has.
func BlockCount(size int64, k int) int { return blocksBefore(size, k, k) }

// blocksBefore is how many blocks stripes 0..k-1 have.
func blocksBefore(size int64, k, stripes int) int {
	n := 0
	for i := range k {
		a, b := stripeBounds(size, i, stripes)
		n += int((b - a + BlockSize - 1) / BlockSize)
	}
	return n
}

// Digests returns the SHA-256 of every block of data cut in k stripes,
// stripe 0's blocks first.
func Digests(data []byte, k int) [][32]byte {
	out := make([][32]byte, 0, BlockCount(int64(len(data)), k))
	for i := range k {
		a, b := stripeBounds(int64(len(data)), i, k)
		for off := a; off < b; off += BlockSize {
			out = append(out, sha256.Sum256(data[off:min(off+BlockSize, b)]))
		}
	}
	return out
}

// SetIntegrity says whether this swarm publishes digests (the tracker says
// so when the peer joins).
func (e *Engine) SetIntegrity(on bool) { e.integrity = on }

// OnDigests gives the engine the digests of a segment it knows (OnSegment).
func (e *Engine) OnDigests(id string, size int64, sums [][32]byte) error {
	s := e.segs[id]
	if s == nil || !s.known {
		return fmt.Errorf("%w: segment %s unknown", ErrDigests, id)
	}
	if size <= 0 || size > MaxSegSize || len(sums) != BlockCount(size, len(s.stripes)) {
		return fmt.Errorf("%w: %d digests for %d bytes", ErrDigests, len(sums), size)
	}
	if s.size >= 0 && s.size != size {
		for k := range s.stripes { // peers named another size: their bytes cannot be right
			e.reject(s, k)
		}
		if slices.ContainsFunc(s.stripes, func(st stripe) bool { return st.ok > 0 }) {
			return fmt.Errorf("%w: %d bytes, the CDN said %d", ErrDigests, size, s.size)
		}
		s.size = size
	}
	e.setSize(s, size)
	s.sums = sums
	for k := range s.stripes {
		e.verify(s, k)
	}
	e.checkReady(s)
	return nil
}

// verify moves stripe k's usable prefix over every whole block that matches
// its digest, forwarding each to the children.
func (e *Engine) verify(s *segment, k int) {
	st := &s.stripes[k]
	if s.sums == nil || s.size < 0 {
		return
	}
	base := blocksBefore(s.size, k, len(s.stripes))
	n := s.stripeLen(k)
	for st.ok < st.got {
		end := min(st.ok+BlockSize, n)
		if st.got < end {
			return
		}
		b := st.bytes(st.ok, end)
		if sha256.Sum256(b) != s.sums[base+int(st.ok/BlockSize)] {
			e.reject(s, k)
			return
		}
		from := st.ok
		st.ok = end
		e.forward(s, k, from, b)
	}
	st.from = st.from[:0]
}

// reject throws away stripe k's unchecked bytes and drops who sent them.
func (e *Engine) reject(s *segment, k int) {
	st := &s.stripes[k]
	if st.got == st.ok {
		return
	}
	err := fmt.Errorf("%w: segment %s stripe %d bytes %d-%d", ErrBadData, s.info.ID, k, st.ok, st.got)
	e.stats.BadBlocks++
	from := slices.Clone(st.from) // blame truncates this stripe too
	e.truncate(s, k)
	for _, id := range from {
		e.blame(id, err)
	}
}

// truncate forgets stripe k's bytes past its usable prefix.
func (e *Engine) truncate(s *segment, k int) {
	st := &s.stripes[k]
	e.stats.BytesWasted += st.got - st.ok
	var keep [][]byte
	var pos int64
	for _, p := range st.pieces {
		if pos >= st.ok {
			break
		}
		keep = append(keep, p[:min(int64(len(p)), st.ok-pos)])
		pos += int64(len(p))
	}
	st.pieces, st.got, st.from = keep, st.ok, st.from[:0]
}

// blame stops using a peer that sent bad data and tells the host (which
// closes the link and keeps the peer away).
func (e *Engine) blame(id PeerID, err error) {
	e.RemoveNeighbour(id) // at once: its messages still on their way are ignored
	e.purge(id)
	if r, ok := e.tr.(Reporter); ok {
		r.Misbehaved(id, err)
	}
}

// bytes copies stripe bytes [a, z) out of the pieces.
func (st *stripe) bytes(a, z int64) []byte {
	out := make([]byte, 0, z-a)
	var pos int64
	for _, p := range st.pieces {
		lo, hi := max(a, pos), min(z, pos+int64(len(p)))
		if lo < hi {
			out = append(out, p[lo-pos:hi-pos]...)
		}
		pos += int64(len(p))
		if pos >= z {
			break
		}
	}
	return out
}

// purge throws away the unchecked bytes of every stripe a caught peer had a
// hand in (segments whose digests have not come yet): they are not counted as
// bad blocks again, and the stripe is fetched again from another upstream or
// the CDN.
func (e *Engine) purge(id PeerID) {
	for _, s := range e.segs {
		for k := range s.stripes {
			if slices.Contains(s.stripes[k].from, id) {
				e.truncate(s, k)
			}
		}
	}
}
