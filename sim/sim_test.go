package sim

import (
	"testing"
	"time"
)

func TestSmallSwarm(t *testing.T) {
	r := Run(Config{Peers: 30, Duration: 60 * time.Second, Verify: true, Seed: 1})
	t.Logf("offload %.3f (ceiling %.3f) stalls %d/%d cdn-only stalls %d, extra delay p95 %.0f ms, control %.4f, events %d, wall %.1fs",
		r.Offload, r.Ceiling, r.Stalls, r.P2P.Played, r.CDNOnly.Stalls, r.ExtraDelayP95Ms, r.ControlOverhead, r.Events, r.WallSeconds)
	if r.Corrupt != 0 || r.ProtocolErrors != 0 {
		t.Fatalf("corrupt %d, protocol errors %d", r.Corrupt, r.ProtocolErrors)
	}
}
