package sim

import (
	"testing"
	"time"
)

func TestZZ(t *testing.T) {
	cfg := Config{Peers: 30, Duration: 3 * time.Minute, Seed: 1}
	cfg.defaults()
	w := newWorld(cfg)
	w.run()
	var late, roots, dropped, req int64
	homes := map[int]int{}
	for _, n := range w.nodes {
		st := n.eng.Stats()
		late += st.Late
		roots += int64(st.Roots)
		dropped += st.Dropped
		req += st.CDNRequests
	}
	_ = homes
	t.Logf("late %d roots %d dropped %d req %d segs/peer %d", late, roots, dropped, req, int64(cfg.Duration/cfg.Segment))
}
