package sim

import (
	"testing"
	"time"
)

// Viewers leaving without a goodbye (10 % a minute) cost no stall: their
// children complete from the CDN and re-attach.
func TestChurnCostsNoStall(t *testing.T) {
	r := Run(Config{Peers: 60, Duration: 90 * time.Second, ChurnPerMin: 0.1, Verify: true, Seed: 3})
	t.Logf("viewers %d offload %.3f stalls %d (CDN-only %d)", r.Viewers, r.Offload, r.Stalls, r.CDNOnly.Stalls)
	if r.Viewers <= 60 {
		t.Fatalf("no churn happened: %d viewers", r.Viewers)
	}
	if r.Stalls > r.CDNOnly.Stalls || r.Corrupt != 0 {
		t.Fatalf("stalls %d (CDN-only %d), corrupt %d", r.Stalls, r.CDNOnly.Stalls, r.Corrupt)
	}
}
