package engine

import (
	"testing"
	"testing/synctest"
	"time"
)

// TestStripeWatcherSaysHowEachStripeCame: a peer pushed stripe 0 by its
// upstream (a root: depth 1) and rooting stripes 1-3 tells its watcher, for
// each segment it hands over, how each stripe came and when: by push, from
// the CDN as a root, and, when the upstream sends nothing, from the CDN at
// the deadline.
func TestStripeWatcherSaysHowEachStripeCame(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTWorld(3)
		b := w.add(Config{Self: "b", Stripes: 4})
		up := w.rootOfAllButStripeZero(b, true)
		w.publish(1, b)
		seg := w.o.segs[1]
		w.r.do(func() {
			_, z := stripeBounds(int64(len(seg)), 0, 4)
			m := Message{Type: TPiece, Seg: segInfo(1, 0).ID, Size: uint32(len(seg)), Stripe: 0, Data: seg[:z]}
			if err := b.eng.OnMessage(up.id, &m); err != nil {
				t.Fatal(err)
			}
		})
		time.Sleep(time.Second)
		synctest.Wait()
		w.publish(2, b) // up pushes nothing of this one
		time.Sleep(6 * time.Second)
		synctest.Wait()
		var got []doneRec
		w.r.do(func() { got = b.done })
		want := map[[2]int64]Via{{1, 0}: ViaPush, {1, 1}: ViaCDNRoot, {1, 2}: ViaCDNRoot, {1, 3}: ViaCDNRoot,
			{2, 0}: ViaCDNDeadline, {2, 1}: ViaCDNRoot, {2, 2}: ViaCDNRoot, {2, 3}: ViaCDNRoot}
		seen := map[[2]int64]bool{}
		for _, d := range got {
			key := [2]int64{d.seq, int64(d.k)}
			if d.seq == 0 {
				if d.via != ViaCDNStart {
					t.Errorf("fast-start segment, stripe %d: via %v, want cdn_start", d.k, d.via)
				}
				continue
			}
			if v, ok := want[key]; !ok || v != d.via || seen[key] {
				t.Errorf("segment %d stripe %d: via %v (seen before %v), want %v", d.seq, d.k, d.via, seen[key], v)
			}
			seen[key] = true
			if wantDepth := map[bool]int{true: 1, false: 0}[d.via == ViaPush]; d.depth != wantDepth {
				t.Errorf("segment %d stripe %d: depth %d, want %d", d.seq, d.k, d.depth, wantDepth)
			}
			if d.seq == 2 && d.k == 0 && d.at < 2*time.Second {
				t.Errorf("segment 2 stripe 0 done at %v: before its deadline completion could be", d.at)
			}
		}
		if len(seen) != len(want) {
			t.Fatalf("watched %d stripes of segments 1-2, want %d: %+v", len(seen), len(want), got)
		}
	})
}
