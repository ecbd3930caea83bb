package sim

import (
	"strings"
	"testing"
	"time"
)

// TestReportSaysHowStripesCame: the report counts every stripe of every
// segment the P2P arm's viewers got (but their fast starts) once, by how it
// came, the pushed ones by depth, and each segment's last stripe once; and
// the delay goal's why gives the cost of a tree level from those figures.
func TestReportSaysHowStripesCame(t *testing.T) {
	r := Run(Config{Peers: 200, Duration: 40 * time.Second, Classes: MixedClasses(), ChurnPerMin: 0.1, Seed: 2})
	f := r.Stripes
	if f == nil || f.Via["push"].Count == 0 || f.Via["cdn_root"].Count == 0 {
		t.Fatalf("stripe figures %+v: want pushed and rooted stripes", f)
	}
	var stripes, segs, pushed, lastPushed int64
	for _, s := range f.Via {
		stripes += s.Count
		if s.P50Ms <= 0 || s.P95Ms < s.P50Ms {
			t.Errorf("spread %+v: want 0 < p50 <= p95", s)
		}
	}
	for _, n := range f.LastVia {
		segs += n
	}
	for i, d := range f.Depth {
		pushed, lastPushed = pushed+d.Count, lastPushed+d.Last
		if d.Depth < 1 || i > 0 && d.Depth <= f.Depth[i-1].Depth {
			t.Errorf("depths %+v: want 1 and up, in order", f.Depth)
		}
	}
	if stripes != int64(r.Config.Stripes)*segs || pushed != f.Via["push"].Count || lastPushed != f.LastVia["push"] {
		t.Fatalf("%d stripes for %d segments of %d stripes; %d pushed by depth of %d; %d last pushed of %d",
			stripes, segs, r.Config.Stripes, pushed, f.Via["push"].Count, lastPushed, f.LastVia["push"])
	}
	if _, ok := f.Via["cdn_start"]; ok {
		t.Errorf("fast starts counted: %+v", f.Via["cdn_start"])
	}
	if d := r.Goals[2]; !d.Met && !strings.Contains(d.Why, "ms per level") {
		t.Errorf("delay why %q: want the cost of a tree level", d.Why)
	}
	t.Logf("%+v", *f)
}
