package sim

import (
	"testing"
	"time"

	"github.com/p2phls/p2phls/engine"
)

// With PlayerReloads a player learns of a ready segment at its next reload:
// within one segment duration, on a grid of its own phase; without, at once.
func TestPlayerSeesSegmentsAtItsReloads(t *testing.T) {
	const d = 500 * time.Millisecond
	on := &node{w: &World{cfg: Config{Segment: d, PlayerReloads: true}}, id: engine.PeerID("viewer-7")}
	on.phase = reloadPhase(on.id, d)
	off := &node{w: &World{cfg: Config{Segment: d}}, id: on.id, phase: on.phase}
	phase := on.seen(0)
	if phase < 0 || phase >= d {
		t.Fatalf("phase %v outside [0, %v)", phase, d)
	}
	for at := time.Duration(0); at < 5*time.Second; at += 37 * time.Millisecond {
		got := on.seen(at)
		if got < at || got-at >= d || (got-phase)%d != 0 {
			t.Fatalf("ready at %v, seen at %v (phase %v)", at, got, phase)
		}
		if off.seen(at) != at {
			t.Fatalf("without reloads: ready at %v, seen at %v", at, off.seen(at))
		}
	}
	// A player that starts at a reload and gets every segment a period apart
	// never stalls; one segment ready just after the reload that would have
	// shown it waits a whole period: a stall.
	on.playStart, on.ready = time.Second, map[int64]time.Duration{}
	for s := int64(0); s < 8; s++ {
		on.ready[s] = on.seen(time.Second) + time.Duration(s)*d
	}
	end := on.seen(time.Second) + 8*d // the run ends as the last one is played
	if st, played := on.stalls(end); st != 0 || played != 8 {
		t.Fatalf("in phase: %d stalls, %d played", st, played)
	}
	on.ready[3] += time.Millisecond
	if st, _ := on.stalls(end); st != 1 {
		t.Fatalf("segment 3 a millisecond after its reload: %d stalls, want 1", st)
	}
}
