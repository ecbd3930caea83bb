package engine

import "slices"

// peerSet is a small sorted set of peer ids: iteration order is fixed, so a
// simulation with one seed replays exactly.
type peerSet []PeerID

func (s peerSet) has(id PeerID) bool {
	_, ok := slices.BinarySearch(s, id)
	return ok
}

func (s *peerSet) add(id PeerID) bool {
	i, ok := slices.BinarySearch(*s, id)
	if ok {
		return false
	}
	*s = slices.Insert(*s, i, id)
	return true
}

func (s *peerSet) del(id PeerID) bool {
	i, ok := slices.BinarySearch(*s, id)
	if !ok {
		return false
	}
	*s = slices.Delete(*s, i, i+1)
	return true
}

// takeSlot gives a new neighbour the lowest free slot: the index of its HAVE
// bits in every segment (segment.haves), so that looking them up costs no
// map access per message.
func (e *Engine) takeSlot() int {
	if i := slices.Index(e.slots, false); i >= 0 {
		e.slots[i] = true
		return i
	}
	e.slots = append(e.slots, true)
	return len(e.slots) - 1
}

// freeSlot clears a leaving neighbour's HAVE bits so that the next one given
// its slot starts with none.
func (e *Engine) freeSlot(n *neighbour) {
	for _, s := range e.segs {
		if n.slot < len(s.haves) {
			s.haves[n.slot] = 0
		}
	}
	e.slots[n.slot] = false
}

// have is what neighbour n said it holds of segment s (a stripe bitmask).
func (s *segment) have(n *neighbour) uint16 {
	if n.slot < len(s.haves) {
		return s.haves[n.slot]
	}
	return 0
}

func (s *segment) setHave(n *neighbour, bits uint16) {
	if n.slot >= len(s.haves) {
		s.haves = append(s.haves, make([]uint16, n.slot+1-len(s.haves))...)
	}
	s.haves[n.slot] = bits
}
