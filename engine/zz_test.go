package engine

import (
	"testing"
	"testing/synctest"
)

func TestZZ(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTWorld(20)
		ps := meshOf(w, 4, Config{})
		w.run(0, 5, ps...)
		for _, p := range ps {
			e := p.eng
			t.Logf("%s hash %08x home %d cap %d nchild %d bitrate %.0f", p.id, e.self, e.homeK, e.capacity(), e.nchild, e.bitrate)
			for _, n := range e.nbrs {
				t.Logf("   nbr %s retry %v failed %d state %+v", n.id, n.retryAt, n.failed, n.state)
			}
		}
	})
}
