package engine

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// An upstream that hangs without a goodbye (its host has not noticed) is
// pinged once it has been silent for upSilence while a segment lacks its
// stripe; it does not answer, so the child completes that stripe from the
// CDN at once — not at the deadline — and its subtree gets it from there.
// No peer of a healthy swarm, and no peer the hung one did not feed, takes
// anything early from the CDN.
func TestSilentUpstreamIsPingedThenCompletedFromTheCDN(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTWorld(40)
		ps := meshOf(w, 5, Config{})
		victim := ps[4]
		fed := map[*tpeer][]int{} // the victim's children, and the stripes
		avail := map[int64]time.Duration{}
		for s := int64(0); s <= 12; s++ {
			if s == 9 {
				for _, p := range ps {
					if n := silentUpstreams(w, p); n != 0 {
						t.Fatalf("%s completed %d stripes early in a healthy swarm", p.id, n)
					}
				}
				w.r.do(func() {
					for _, p := range ps[:4] {
						for k := range 4 {
							if up, _ := p.eng.Upstream(k); up == victim.id {
								fed[p] = append(fed[p], k)
							}
						}
					}
					victim.frozen = true
				})
			}
			avail[s] = w.r.Now()
			w.publish(s, ps...)
			if s >= 2 { // the player starts 3 segments behind the live edge, so it needs each 4 s after it appears
				time.Sleep(2 * time.Second)
			}
		}
		time.Sleep(6 * time.Second)
		synctest.Wait()
		if len(fed) == 0 {
			t.Skip("victim feeds nobody in this topology")
		}
		for _, p := range ps[:4] {
			for s := int64(9); s <= 12; s++ {
				w.checkBytes(t, p, s)
			}
			ks, ok := fed[p]
			if !ok {
				if n := silentUpstreams(w, p); n != 0 {
					t.Errorf("%s, not fed by the hung peer, completed %d stripes early", p.id, n)
				}
				continue
			}
			if silentUpstreams(w, p) == 0 {
				t.Errorf("%s never found its hung upstream silent", p.id)
			}
			// the deadline completion would start at 4 s less twice the CDN time
			within := upSilence + pongWait + time.Second
			for _, d := range p.done {
				if d.seq == 9 && slices.Contains(ks, d.k) && (d.via != ViaCDNDeadline || d.at-avail[9] > within) {
					t.Errorf("%s: stripe %d of segment 9 came %v after it appeared, via %v: want from the CDN within %v",
						p.id, d.k, d.at-avail[9], d.via, within)
				}
			}
		}
	})
}

// silentUpstreams reads p's count on the reactor, where its engine runs.
func silentUpstreams(w *tworld, p *tpeer) (n int64) {
	w.r.do(func() { n = p.eng.Stats().SilentUpstreams })
	return n
}
