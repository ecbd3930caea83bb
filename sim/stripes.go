package sim

import (
	"fmt"
	"time"

	"github.com/p2phls/p2phls/engine"
)

// Where the P2P arm's delay comes from: how each stripe of each segment a
// viewer got came (engine.StripeWatcher), and when, from publication.

// binWidth and bins: a histogram of delays, 10 ms wide up to a minute.
const (
	binWidth = 10 * time.Millisecond
	bins     = 6000
)

type hist struct {
	n   int64
	bin []int64
}

func (h *hist) add(d time.Duration) {
	if h.bin == nil {
		h.bin = make([]int64, bins)
	}
	h.n++
	h.bin[min(bins-1, max(0, int(d/binWidth)))]++
}

func (h *hist) merge(o *hist) {
	for i, c := range o.bin {
		if c > 0 {
			h.add(time.Duration(i) * binWidth)
			h.bin[i] += c - 1
			h.n += c - 1
		}
	}
}

// pct is the delay below which a share p of the entries fall, in ms (the
// bin's upper edge).
func (h *hist) pct(p float64) float64 {
	var seen int64
	for i, c := range h.bin {
		seen += c
		if float64(seen) >= p*float64(h.n) && seen > 0 {
			return float64(time.Duration(i+1)*binWidth) / float64(time.Millisecond)
		}
	}
	return 0
}

// depths is the tree depths counted apart: 1 .. engine.MaxDepth, deeper in
// the last.
const depths = engine.MaxDepth + 1

// tally is one part's counts (its own loop writes them: no lock).
type tally struct {
	via       [engine.NumVia]hist
	depth     [depths + 1]hist // pushed stripes by depth
	lastVia   [engine.NumVia]int64
	lastDepth [depths + 1]int64 // segments whose last stripe was pushed, by its depth
	// the segment being handed over: its stripes so far
	last    time.Duration
	lastHow engine.Via
	lastD   int
	seen    int
}

// StripeDone implements engine.StripeWatcher: the P2P arm's viewers count
// every stripe but their fast-start segment's (as the arm's delays do).
func (n *node) StripeDone(seg engine.SegmentInfo, k int, via engine.Via, depth int, at time.Duration) {
	w := n.w
	if w.cfg.cdnOnly || seg.Seq <= n.first {
		return
	}
	t := &n.p.tally
	d := at - w.availableAt(seg.Seq)
	t.via[via].add(d)
	depth = min(depth, depths)
	if via == engine.ViaPush {
		t.depth[depth].add(d)
	}
	if t.seen == 0 || at >= t.last {
		t.last, t.lastHow, t.lastD = at, via, depth
	}
	if t.seen++; t.seen == w.cfg.Stripes { // the segment's last stripe: Ready comes next
		t.lastVia[t.lastHow]++
		if t.lastHow == engine.ViaPush {
			t.lastDepth[t.lastD]++
		}
		t.seen = 0
	}
}

// Spread is a count of stripes and when they were complete.
type Spread struct {
	Count int64   `json:"count"`
	P50Ms float64 `json:"p50_ms"` // from publication
	P95Ms float64 `json:"p95_ms"`
}

// DepthSpread is Spread for the stripes pushed to viewers at one depth.
type DepthSpread struct {
	Depth int `json:"depth"` // 1: children of a root
	Spread
	Last int64 `json:"last"` // segments whose last stripe this was
}

// StripeFigures: how the stripes of the segments the P2P arm's viewers got
// came, when, and which way the last stripe of each segment came (a segment
// is ready when its last stripe is).
type StripeFigures struct {
	Via     map[string]Spread `json:"via"`      // push, peer (pulls), cdn_root, cdn_deadline, cdn_start
	Depth   []DepthSpread     `json:"depth"`    // pushed stripes by the viewer's depth in the tree
	LastVia map[string]int64  `json:"last_via"` // segments by how their last stripe came
}

func (w *World) stripeFigures() *StripeFigures {
	var all tally
	for _, p := range w.parts {
		for v := range all.via {
			all.via[v].merge(&p.tally.via[v])
			all.lastVia[v] += p.tally.lastVia[v]
		}
		for d := range all.depth {
			all.depth[d].merge(&p.tally.depth[d])
			all.lastDepth[d] += p.tally.lastDepth[d]
		}
	}
	f := &StripeFigures{Via: map[string]Spread{}, LastVia: map[string]int64{}}
	for v := range all.via {
		if h := &all.via[v]; h.n > 0 {
			f.Via[engine.Via(v).String()] = Spread{h.n, h.pct(0.5), h.pct(0.95)}
			f.LastVia[engine.Via(v).String()] = all.lastVia[v]
		}
	}
	for d := range all.depth {
		if h := &all.depth[d]; h.n > 0 {
			f.Depth = append(f.Depth, DepthSpread{Depth: d, Spread: Spread{h.n, h.pct(0.5), h.pct(0.95)}, Last: all.lastDepth[d]})
		}
	}
	return f
}

// depthWhy says what the trees' levels cost: when the children of roots
// have their pushed stripes (p50), and how much each level below adds, down
// to the deepest level holding at least 1 % of pushed stripes.
func (f *StripeFigures) depthWhy() string {
	if f == nil || len(f.Depth) == 0 {
		return ""
	}
	var total int64
	for _, d := range f.Depth {
		total += d.Count
	}
	first, deep := f.Depth[0], f.Depth[0]
	var lastDeep, segs int64
	for _, d := range f.Depth {
		if 100*d.Count >= total {
			deep = d
		}
		if d.Depth >= 5 {
			lastDeep += d.Last
		}
	}
	for _, c := range f.LastVia {
		segs += c
	}
	why := fmt.Sprintf("; pushed stripes were complete %.2f s after publication at depth %d (p50)", first.P50Ms/1000, first.Depth)
	if deep.Depth > first.Depth {
		why += fmt.Sprintf(" and %.2f s at depth %d: %.0f ms per level", deep.P50Ms/1000, deep.Depth,
			(deep.P50Ms-first.P50Ms)/float64(deep.Depth-first.Depth))
	}
	if segs > 0 {
		why += fmt.Sprintf("; a segment is ready with its last stripe, which came down %.0f%% of segments' trees from depth 5 or more "+
			"and from the deadline completion for %.0f%%", 100*float64(lastDeep)/float64(segs), 100*float64(f.LastVia["cdn_deadline"])/float64(segs))
	}
	return why
}
