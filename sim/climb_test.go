package sim

import (
	"testing"
	"time"
)

// Climbing (engine/climb.go) in a mixed, churning swarm: viewers move up
// (Report.Climbs), every byte still the origin's and no stall, and fewer
// stripes are pushed at the last level the depth bound allows than with
// NoClimb on the same seed (3: at 300 viewers × 1 min, 1.0 % against 5.1 %; a
// seed replays exactly, so this guards the mechanism, not a figure).
func TestClimbingEmptiesTheDeepestLevel(t *testing.T) {
	deepest := func(r Report) float64 {
		var all, deep int64
		for _, d := range r.Stripes.Depth {
			all += d.Count
			if d.Depth >= 7 {
				deep += d.Count
			}
		}
		return float64(deep) / float64(max(1, all))
	}
	var share [2]float64
	for i, off := range []bool{false, true} {
		r := Run(Config{Peers: 300, Duration: time.Minute, Classes: MixedClasses(), ChurnPerMin: 0.1, Seed: 3, Verify: true, NoClimb: off})
		share[i] = deepest(r)
		t.Logf("NoClimb %v: offload %.3f, %d climbs, %.1f %% of pushed stripes at depth 7, stalls %d / %d", off, r.Offload, r.Climbs, 100*share[i], r.Stalls, r.CDNOnly.Stalls)
		if r.Corrupt != 0 || r.ProtocolErrors != 0 || r.Stalls != 0 {
			t.Fatalf("NoClimb %v: corrupt %d, protocol errors %d, stalls %d", off, r.Corrupt, r.ProtocolErrors, r.Stalls)
		}
		if (r.Climbs == 0) != off {
			t.Errorf("NoClimb %v: %d climbs", off, r.Climbs)
		}
	}
	if share[0] >= share[1] {
		t.Errorf("depth 7 holds %.1f %% of pushed stripes climbing, %.1f %% without: want fewer", 100*share[0], 100*share[1])
	}
}
