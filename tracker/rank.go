package tracker

import (
	"math/rand/v2"
	"sort"
	"time"

	"github.com/p2phls/p2phls/tracker/peerstore"
)

// uptimeFull is the uptime past which a peer counts as fully stable.
const uptimeFull = 10 * time.Minute

// Rank orders peers best first for a newcomer and returns at most n, never
// exclude. The score weighs uptime (the seed's "stable peer") and spare
// upload (declared capacity minus measured upload rate) equally; scores are
// bucketed in tenths and peers within a bucket are shuffled, so load spreads
// over equals instead of piling on the first. peers is left as it was.
func Rank(peers []peerstore.Peer, exclude string, n int, now time.Time) []peerstore.Peer {
	return RankInPlace(nil, append([]peerstore.Peer(nil), peers...), exclude, n, now)
}

// RankInPlace is Rank reordering peers itself, for a slice nobody else
// holds, shuffling with r (nil: the global source; the simulator passes its
// seeded one, so that a run replays).
func RankInPlace(r *rand.Rand, peers []peerstore.Peer, exclude string, n int, now time.Time) []peerstore.Peer {
	out := peers[:0]
	var maxSpare int64
	for _, p := range peers {
		if p.ID != exclude {
			out = append(out, p)
			maxSpare = max(maxSpare, spare(p))
		}
	}
	swap := func(i, j int) { out[i], out[j] = out[j], out[i] }
	if r != nil {
		r.Shuffle(len(out), swap)
	} else {
		rand.Shuffle(len(out), swap)
	}
	rk := ranking{peers: out, score: make([]int, len(out))}
	for i, p := range out {
		rk.score[i] = bucket(p, maxSpare, now)
	}
	sort.Stable(rk)
	return out[:min(n, len(out))]
}

// ranking sorts peers by score, highest first.
type ranking struct {
	peers []peerstore.Peer
	score []int
}

func (r ranking) Len() int           { return len(r.peers) }
func (r ranking) Less(i, j int) bool { return r.score[i] > r.score[j] }
func (r ranking) Swap(i, j int) {
	r.peers[i], r.peers[j] = r.peers[j], r.peers[i]
	r.score[i], r.score[j] = r.score[j], r.score[i]
}

func spare(p peerstore.Peer) int64 { return max(0, p.UploadCap-p.UpRate) }

// bucket is the peer's score, 0..10.
func bucket(p peerstore.Peer, maxSpare int64, now time.Time) int {
	up := min(now.Sub(p.Joined), uptimeFull).Seconds() / uptimeFull.Seconds()
	var sp float64
	if maxSpare > 0 {
		sp = float64(spare(p)) / float64(maxSpare)
	}
	return int((max(up, 0)*0.5 + sp*0.5) * 10)
}
