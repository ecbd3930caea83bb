package sim

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/p2phls/p2phls/engine"
)

// Point is one step of the timeline.
type Point struct {
	T       float64 `json:"t_s"`
	Offload float64 `json:"offload"` // over the step
	Stalls  int     `json:"stalls"`  // cumulative, P2P arm
	Peers   int     `json:"peers"`
}

// Arm is one arm's figures.
type Arm struct {
	Stalls      int     `json:"stalls"`
	Played      int     `json:"segments_played"`
	StallRatio  float64 `json:"stall_ratio"`  // stalls per segment played
	DelayP05Ms  float64 `json:"delay_p05_ms"` // the fastest segments: what every one pays
	DelayP50Ms  float64 `json:"delay_p50_ms"`
	DelayP95Ms  float64 `json:"delay_p95_ms"`
	CDNRequests int64   `json:"cdn_requests"`
	CDNBytes    int64   `json:"cdn_bytes"`
}

// Report is what `p2phls sim --json` prints.
type Report struct {
	Config          Config  `json:"config"`
	Peers           int     `json:"peers"`
	Viewers         int     `json:"viewers"` // including churn replacements
	Offload         float64 `json:"offload"`
	Ceiling         float64 `json:"offload_ceiling"`
	UploadCeiling   float64 `json:"upload_ceiling"` // the most offload the viewers' upload slots can carry
	Stalls          int     `json:"stalls"`
	StallRatio      float64 `json:"stall_ratio"`
	CDNOnly         Arm     `json:"cdn_only"`
	P2P             Arm     `json:"p2p"`
	ExtraDelayP50Ms float64 `json:"extra_delay_p50_ms"`
	ExtraDelayP95Ms float64 `json:"extra_delay_p95_ms"`
	ControlOverhead float64 `json:"control_overhead"`
	CDNRequests     int64   `json:"cdn_requests"`
	BytesP2P        int64   `json:"bytes_p2p"`
	BytesCDN        int64   `json:"bytes_cdn"`
	CDNStart        int64   `json:"bytes_cdn_start"`    // of which: fast start
	CDNRoot         int64   `json:"bytes_cdn_root"`     // of which: root stripes
	CDNDeadline     int64   `json:"bytes_cdn_deadline"` // of which: deadline completions
	CDNBacklog      int64   `json:"bytes_cdn_backlog"`  // of the root and deadline bytes: each viewer's first playlist after the fast start
	LateShare       float64 `json:"late_segment_share"` // segments of which some bytes came at the deadline
	Climbs          int64   `json:"climbs"`             // moves asked for, to an upstream two or more levels up (engine Stats.Climbs)
	// BytesUnused is media received and thrown away (engine
	// Stats.BytesWasted): mostly bytes already held — a push that came after
	// a pull, a CDN completion or another upstream had brought them — and a
	// few out of order. Offload counts them as received, as DESIGN's measure
	// says; CDNSaving does not.
	BytesUnused int64 `json:"bytes_unused"`
	// CDNSaving is 1 − the P2P arm's CDN bytes ÷ the CDN-only arm's: what
	// the operator's CDN bill falls by.
	CDNSaving float64 `json:"cdn_saving"`
	// RootCauses counts the root stripes of the viewers alive at the end by
	// what kept their closest neighbour from feeding them (engine.Cause).
	RootCauses map[string]int `json:"root_causes"`
	// FreeSlots is the share of the live viewers' stripe slots that were
	// free at the end on viewers fed in their home stripe: upload that roots
	// could have used had they been linked to it.
	FreeSlots      float64        `json:"free_slots"`
	Corrupt        int64          `json:"corrupt_segments"`
	ProtocolErrors int64          `json:"protocol_errors"`
	Events         int64          `json:"events"`
	WallSeconds    float64        `json:"wall_seconds"`
	Stripes        *StripeFigures `json:"stripes,omitempty"` // P2P arm: how and when stripes came
	Goals          []Goal         `json:"goals"`
	Timeline       []Point        `json:"timeline"`
}

// Run simulates the P2P arm and the CDN-only arm of the same stream and
// viewers, and reports both.
func Run(cfg Config) Report {
	r, _ := RunContext(context.Background(), cfg)
	return r
}

// RunContext is Run that gives up when ctx ends (a 10,000-viewer run takes
// minutes): then it returns ctx's error and no report.
func RunContext(ctx context.Context, cfg Config) (Report, error) {
	cfg.defaults()
	start := time.Now()
	p2p := newWorld(cfg)
	p2p.loop.stop = ctx.Done()
	p2p.run()
	c := cfg
	c.cdnOnly = true
	cdnArm := newWorld(c)
	cdnArm.loop.stop = ctx.Done()
	cdnArm.run()
	if err := ctx.Err(); err != nil {
		return Report{}, fmt.Errorf("sim: stopped after %d events: %w", p2p.events()+cdnArm.events(), err)
	}
	r := Report{Config: cfg, Peers: cfg.Peers, Viewers: len(p2p.nodes), P2P: p2p.arm(), CDNOnly: cdnArm.arm(),
		Corrupt: p2p.corrupt() + cdnArm.corrupt(), ProtocolErrors: p2p.errors(), Events: p2p.events() + cdnArm.events(), Timeline: p2p.timeline}
	var media, control, late, segs int64
	for _, n := range p2p.nodes {
		st := n.eng.Stats()
		r.BytesP2P += st.BytesP2P
		r.BytesCDN += st.BytesCDN
		r.BytesUnused += st.BytesWasted
		r.CDNStart += st.CDNStart
		r.CDNRoot += st.CDNRoot
		r.CDNDeadline += st.CDNDeadline
		r.CDNBacklog += st.CDNBacklog
		r.Climbs += st.Climbs
		late, segs = late+st.LateSegments, segs+st.Segments
		control += n.control
	}
	if segs > 0 {
		r.LateShare = float64(late) / float64(segs)
	}
	r.RootCauses = p2p.rootCauses()
	r.FreeSlots = p2p.freeSlots()
	r.Stripes = p2p.stripeFigures()
	media = r.BytesP2P + r.BytesCDN
	if media > 0 {
		r.Offload = float64(r.BytesP2P) / float64(media)
		r.ControlOverhead = float64(control) / float64(media)
	}
	if r.CDNOnly.CDNBytes > 0 {
		r.CDNSaving = 1 - float64(r.P2P.CDNBytes)/float64(r.CDNOnly.CDNBytes)
	}
	r.Ceiling = 1 - 1/float64(max(1, cfg.Peers))
	r.UploadCeiling = uploadCeiling(cfg)
	r.Stalls, r.StallRatio, r.CDNRequests = r.P2P.Stalls, r.P2P.StallRatio, r.P2P.CDNRequests
	r.ExtraDelayP50Ms = r.P2P.DelayP50Ms - r.CDNOnly.DelayP50Ms
	r.ExtraDelayP95Ms = r.P2P.DelayP95Ms - r.CDNOnly.DelayP95Ms
	r.Goals = r.goals()
	r.WallSeconds = time.Since(start).Seconds()
	return r, nil
}

// rootCauses counts the live viewers' root stripes by cause.
func (w *World) rootCauses() map[string]int {
	c := map[string]int{}
	for _, n := range w.alive {
		for k := range w.cfg.Stripes {
			if why := n.eng.RootCause(k); why != engine.CauseNone {
				c[why.String()]++
			}
		}
	}
	return c
}

// freeSlots is the share of the live viewers' slots free on fed viewers.
func (w *World) freeSlots() float64 {
	var slots, free int
	for _, n := range w.alive {
		s, f := n.eng.Capacity()
		slots, free = slots+s, free+f
	}
	if slots == 0 {
		return 0
	}
	return float64(free) / float64(slots)
}

func (w *World) end() time.Duration { return w.cfg.JoinOver + w.cfg.Duration }

func (w *World) run() {
	cfg := w.cfg
	// joins spread over JoinOver, starting once the origin has a window
	t0 := 3 * cfg.Segment
	for i := range cfg.Peers {
		w.loop.At(t0+time.Duration(int64(cfg.JoinOver)*int64(i)/int64(max(1, cfg.Peers))), w.join)
	}
	// each new segment reaches each viewer's playlist refresh
	for s := int64(0); w.availableAt(s) <= w.end(); s++ {
		w.loop.At(w.availableAt(s), func() { w.publish(s) })
	}
	if cfg.ChurnPerMin > 0 {
		w.churnFrom(t0 + cfg.JoinOver)
	}
	w.sampleFrom(cfg.Sample)
	if !cfg.cdnOnly {
		w.reportFrom(t0 + reportEvery)
	}
	w.runUntil(w.end() + 2*cfg.Segment)
}

func (w *World) publish(s int64) {
	for _, n := range w.alive {
		if n.first > s {
			continue
		}
		at := w.loop.Now() + w.cfg.CDNRTT + time.Duration(w.rng.Int64N(int64(w.cfg.Segment/2)))
		if !w.cfg.PollOnly && n.eng.Stats().Roots > 0 {
			at = w.loop.Now() + w.cfg.CDNRTT/2 // its blocking reload, answered at once
		}
		n.p.loop.Post(at, func() { n.learn(s) })
	}
}

// churnFrom replaces ChurnPerMin of the viewers every minute, in tenths.
func (w *World) churnFrom(t time.Duration) {
	step := 6 * time.Second
	w.loop.At(t, func() {
		k := int(math.Round(w.cfg.ChurnPerMin * float64(w.cfg.Peers) / 10))
		for range min(k, len(w.alive)) {
			w.leave(w.alive[w.rng.IntN(len(w.alive))])
		}
		for range k {
			w.join()
		}
		if w.loop.Now()+step < w.end() {
			w.churnFrom(w.loop.Now() + step)
		}
	})
}

func (w *World) sampleFrom(t time.Duration) {
	w.loop.At(t, func() {
		var dp, dc int64
		for _, n := range w.nodes {
			st := n.eng.Stats()
			dp += st.BytesP2P - n.lastSampled.BytesP2P
			dc += st.BytesCDN - n.lastSampled.BytesCDN
			n.lastSampled = st
		}
		p := Point{T: w.loop.Now().Seconds(), Peers: len(w.alive)}
		if dp+dc > 0 {
			p.Offload = float64(dp) / float64(dp+dc)
		}
		for _, n := range w.nodes {
			s, _ := n.stalls(w.loop.Now())
			p.Stalls += s
		}
		w.timeline = append(w.timeline, p)
		if w.loop.Now()+w.cfg.Sample <= w.end() {
			w.sampleFrom(w.loop.Now() + w.cfg.Sample)
		}
	})
}

// arm sums the player figures: stalls, and the delay from a segment's
// availability at the origin to its being playable at each viewer.
func (w *World) arm() Arm {
	a := Arm{CDNRequests: w.sum(func(p *part) int64 { return p.cdnRequests }), CDNBytes: w.sum(func(p *part) int64 { return p.cdnBytes })}
	var delays []float64
	for _, n := range w.nodes {
		s, p := n.stalls(w.end())
		a.Stalls += s
		a.Played += p
		for seq, at := range n.ready {
			if seq > n.first { // the fast-start segments were old when fetched
				delays = append(delays, float64(at-w.availableAt(seq))/float64(time.Millisecond))
			}
		}
	}
	if a.Played > 0 {
		a.StallRatio = float64(a.Stalls) / float64(a.Played)
	}
	sort.Float64s(delays)
	a.DelayP05Ms, a.DelayP50Ms, a.DelayP95Ms = pct(delays, 0.05), pct(delays, 0.5), pct(delays, 0.95)
	return a
}

func pct(s []float64, p float64) float64 {
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(p*float64(len(s))))]
}
