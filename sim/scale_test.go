package sim

import (
	"testing"
	"time"
)

func TestScaleProbe(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	r := Run(Config{Peers: 1000, Duration: 60 * time.Second, Classes: MixedClasses(), ChurnPerMin: 0.1, Seed: 2})
	t.Logf("offload %.3f stalls %d/%d cdn-only %d, extra p95 %.0f ms, control %.4f, events %d, wall %.1fs, errors %d",
		r.Offload, r.Stalls, r.P2P.Played, r.CDNOnly.Stalls, r.ExtraDelayP95Ms, r.ControlOverhead, r.Events, r.WallSeconds, r.ProtocolErrors)
}
