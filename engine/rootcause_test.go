package engine

import (
	"testing"
	"testing/synctest"
)

// RootCause names what keeps each root stripe on the CDN: a peer alone has
// no neighbour; a peer beside a consume-only one has none that can feed;
// two peers under a depth bound of one are each other's only candidates and
// too deep; in a mesh the stripes with an upstream have no cause.
func TestRootCauseNamesWhyAStripeIsFromTheCDN(t *testing.T) {
	cases := []struct {
		name  string
		build func(w *tworld) *tpeer
		want  Cause
		wants bool // WantsPeers: a new neighbour could help
	}{
		{"alone", func(w *tworld) *tpeer { return w.add(Config{}) }, CauseNoNeighbour, true},
		{"beside a consume-only peer", func(w *tworld) *tpeer {
			p, c := w.add(Config{}), w.add(Config{ConsumeOnly: true})
			w.link(p, c)
			return p
		}, CauseUnknown, false},
		{"depth bound 1", func(w *tworld) *tpeer {
			p, q := w.add(Config{MaxDepth: 1}), w.add(Config{MaxDepth: 1})
			w.link(p, q)
			return p
		}, CauseDepth, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newTWorld(10)
				p := c.build(w)
				w.run(0, 5, w.peers...)
				w.r.do(func() {
					for k := range p.eng.cfg.Stripes {
						if _, root := p.eng.Upstream(k); !root {
							t.Fatalf("stripe %d has an upstream", k)
						}
						if got := p.eng.RootCause(k); got != c.want {
							t.Errorf("stripe %d: cause %v, want %v", k, got, c.want)
						}
					}
					if got := p.eng.WantsPeers(); got != c.wants {
						t.Errorf("WantsPeers %v, want %v", got, c.wants)
					}
				})
			})
		})
	}
	t.Run("mesh", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			w := newTWorld(10)
			ps := meshOf(w, 6, Config{})
			w.run(0, 5, ps...)
			fed := 0
			w.r.do(func() {
				for _, p := range ps {
					for k := range p.eng.cfg.Stripes {
						up, root := p.eng.Upstream(k)
						cause := p.eng.RootCause(k)
						if (up != "" || !root) != (cause == CauseNone) {
							t.Errorf("%s stripe %d: upstream %q root %v, cause %v", p.id, k, up, root, cause)
						}
						if up != "" {
							fed++
						}
					}
					if p.eng.WantsPeers() && p.eng.Stats().Roots == 0 {
						t.Errorf("%s wants peers with every stripe fed", p.id)
					}
				}
			})
			if fed == 0 {
				t.Fatal("no stripe fed by a peer in a mesh of 6")
			}
		})
	})
	if CauseDepth.String() != "depth" || Cause(200).String() != "cause?" {
		t.Errorf("names: %v %v", CauseDepth, Cause(200))
	}
}
