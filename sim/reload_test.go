package sim

import (
	"testing"
	"time"
)

// Viewers that root a stripe learn of each segment by a blocking reload, when
// the origin publishes it, instead of at their next poll: the trees start
// sooner and the extra delay falls; nothing else may break.
func TestRootsLearnByBlockingReload(t *testing.T) {
	cfg := Config{Peers: 200, Duration: 40 * time.Second, Classes: MixedClasses(), ChurnPerMin: 0.1, Verify: true, Seed: 2}
	block := Run(cfg)
	cfg.PollOnly = true
	poll := Run(cfg)
	t.Logf("blocking reloads: offload %.3f, extra delay p50 %.0f / p95 %.0f ms; polls: %.3f, %.0f / %.0f ms",
		block.Offload, block.ExtraDelayP50Ms, block.ExtraDelayP95Ms, poll.Offload, poll.ExtraDelayP50Ms, poll.ExtraDelayP95Ms)
	for _, r := range []Report{block, poll} {
		if r.Corrupt != 0 || r.Stalls > r.CDNOnly.Stalls {
			t.Fatalf("corrupt %d, stalls %d (CDN-only %d)", r.Corrupt, r.Stalls, r.CDNOnly.Stalls)
		}
	}
	if block.ExtraDelayP50Ms >= poll.ExtraDelayP50Ms-200 {
		t.Fatalf("extra delay p50 %.0f ms with blocking reloads, %.0f ms without: want at least 200 ms less",
			block.ExtraDelayP50Ms, poll.ExtraDelayP50Ms)
	}
}
