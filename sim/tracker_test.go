package sim

import (
	"testing"
	"time"
)

// The simulator's tracker ranks as the real one does: a newcomer is given
// viewers with spare upload and uptime before busy or consume-only ones,
// from the upload rate each viewer reports.
func TestTrackerPrefersSpareUpload(t *testing.T) {
	cfg := Config{Peers: 100, Duration: time.Minute, Seed: 5, Classes: []Class{{Share: 0.5, Upload: 2}, {Share: 0.5, ConsumeOnly: true}}}
	cfg.defaults()
	w := newWorld(cfg)
	w.loop.now = 10 * time.Minute
	for range 100 {
		w.join()
	}
	busy := w.alive[0]
	busy.upRate = busy.upCap // uploads all it declared: no spare
	spare := 0
	for _, n := range w.alive {
		if n.upCap > 0 && n != busy {
			spare++
		}
		for id := range n.links { // a clean slate: only the newcomer asks
			delete(n.links, id)
		}
	}
	w.loop.now += time.Minute // the first 100 are old beside the newcomer
	w.join()
	n := w.alive[len(w.alive)-1]
	got := 0
	for _, p := range n.links {
		if p == busy {
			t.Errorf("linked to a viewer that reports using all its upload")
		}
		if p.upCap > 0 {
			got++
		}
	}
	t.Logf("%d links, %d to viewers with spare upload (%d of 100 have it)", len(n.links), got, spare)
	if len(n.links) != cfg.Neighbours || got != len(n.links) {
		t.Fatalf("%d links, %d with spare upload; want all %d with spare", len(n.links), got, cfg.Neighbours)
	}
}
