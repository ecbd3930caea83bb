package engine

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"
)

// TestEveryPeerOfASmallSwarmUploads: one peer starts the swarm, two join
// at once (they cannot see each other's home stripe yet and may pick the
// same), two more join later. Five peers for four stripes: every stripe
// has a home, and every peer feeds someone. Repeated over many namings (a
// peer's name decides its tie-breaks).
func TestEveryPeerOfASmallSwarmUploads(t *testing.T) {
	for run := range 24 {
		t.Run(fmt.Sprint(run), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { smallSwarmUploads(t, run) })
		})
	}
}

func smallSwarmUploads(t *testing.T, run int) {
	w := newTWorld(40)
	var ps []*tpeer
	join := func() {
		p := w.add(Config{Self: PeerID(fmt.Sprintf("r%d-p%d", run, len(ps))), Seed: uint64(run)})
		for _, q := range ps {
			w.link(p, q)
		}
		ps = append(ps, p)
	}
	for s := range int64(24) {
		switch s {
		case 0:
			join()
		case 2, 7: // two at once: the second links while the first is choosing
			join()
			time.Sleep(20 * time.Millisecond)
			join()
		}
		w.publish(s, ps...)
		time.Sleep(2 * time.Second)
	}
	time.Sleep(6 * time.Second)
	synctest.Wait()
	homes := map[int]bool{}
	for _, p := range ps {
		homes[p.eng.homeK] = true
		for s := int64(10); s <= 23; s++ {
			w.checkBytes(t, p, s)
		}
		var st Stats
		w.r.do(func() { st = p.eng.Stats() })
		if st.BytesUploaded == 0 {
			t.Errorf("%s uploaded nothing (home stripe %d, %d bytes from peers)", p.id, p.eng.homeK, st.BytesP2P)
		}
	}
	if len(homes) != 4 {
		t.Errorf("5 peers, 4 stripes: homes %v leave a stripe without one", homes)
		for _, p := range ps {
			w.r.do(func() {
				e := p.eng
				cnt, lower := e.homeCounts(e.homeK)
				var kids []int
				for k := range e.children {
					kids = append(kids, len(e.children[k]))
				}
				var sl [][]uint8
				for _, n := range e.neighbours() {
					var x []uint8
					for _, st := range n.state {
						x = append(x, st.Slots)
					}
					sl = append(sl, x)
				}
				t.Logf("%s hash %d home %d kids %v counts %v lower %v nbrs %d slots seen %v cap %d", p.id, e.self, e.homeK, kids, cnt[:4], lower, len(e.nbrs), sl, e.capacity())
			})
		}
	}
}
