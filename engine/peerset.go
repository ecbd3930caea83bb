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
