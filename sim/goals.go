package sim

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/p2phls/p2phls/engine"
)

// Goal is one of the engine's targets (issue #4), checked against a run;
// when it is not met, Why says where the shortfall comes from.
type Goal struct {
	Name string  `json:"name"`
	Want string  `json:"want"`
	Got  float64 `json:"got"`
	Met  bool    `json:"met"`
	Why  string  `json:"why,omitempty"`
}

// goals checks a run: offload ≥ 0.95·(1 − 1/N) for one class of viewers,
// ≥ 0.97 for a mixed population; stall ratio at most the CDN-only arm's +
// 0.1 percentage point; extra delay p95 ≤ 1 s.
func (r *Report) goals() []Goal {
	want := 0.95 * r.Ceiling
	if len(r.Config.Classes) > 1 {
		want = 0.97
	}
	off := Goal{Name: "offload", Want: fmt.Sprintf(">= %.3f", want), Got: r.Offload, Met: r.Offload >= want}
	if !off.Met {
		off.Why = fmt.Sprintf("short by %.3f; %s", want-r.Offload, r.cdnWhy())
		if r.UploadCeiling > 0 && want > r.UploadCeiling {
			off.Why += fmt.Sprintf("; and the goal is above what this population's upload can carry: %.3f "+
				"(whole stripe slots at u = %.2f over the %d stripes each viewer needs)", r.UploadCeiling, r.utilization(), r.Config.Stripes)
		}
	}
	st := Goal{Name: "stall_ratio", Want: fmt.Sprintf("<= %.5f (CDN-only + 0.001)", r.CDNOnly.StallRatio+0.001),
		Got: r.StallRatio, Met: r.StallRatio <= r.CDNOnly.StallRatio+0.001}
	if !st.Met {
		st.Why = fmt.Sprintf("%d stalls against %d in the CDN-only arm", r.Stalls, r.CDNOnly.Stalls)
	}
	d := Goal{Name: "extra_delay_p95_ms", Want: "<= 1000", Got: r.ExtraDelayP95Ms, Met: r.ExtraDelayP95Ms <= 1000}
	if !d.Met {
		d.Why = r.delayWhy(want)
	}
	return []Goal{off, st, d}
}

// delayWhy splits the P2P arm's delay: what even the fastest segments pay
// (the roots' fetch, then the first tree edge at 1/u of the stripe's
// real-time rate), what each level adds, and the segments that waited for
// their deadline; and it gives the fluid bound at the offload goal (want):
// no swarm of these viewers delivers that share of a segment sooner than
// want × segment ÷ (upload ÷ stream rate), every uplink busy with it alone.
func (r *Report) delayWhy(want float64) string {
	u := r.utilization()
	why := fmt.Sprintf("over by %.0f ms; even the fastest 5%% of segments were ready %.2f s after publication (CDN-only arm %.2f s): "+
		"a stripe comes down each tree edge at 1/u of its real-time rate, u × segment = %.1f s at u = %.2f, and each level "+
		"of a tree adds a piece's time at every parent; %.1f%% of segments waited for a completion from the CDN at their deadline; "+
		"a lower --utilization and a shorter --deadline trade offload for delay (docs/BENCHMARKS.md, \"Offload against delay\"); "+
		"shorter segments shorten the edge's pace and the fluid bound with them (1 s segments with --deadline 1.5s: "+
		"docs/BENCHMARKS.md, session 16)",
		r.ExtraDelayP95Ms-1000, r.P2P.DelayP05Ms/1000, r.CDNOnly.DelayP05Ms/1000, u*r.Config.Segment.Seconds(), u, 100*r.LateShare)
	why += r.Stripes.depthWhy()
	if up := uploadRatio(r.Config); up > 0 {
		why += fmt.Sprintf("; the fluid bound: with the offload goal's %.3f of each segment from peers, even a swarm that gave "+
			"every viewer's whole upload (%.2f× the stream on average) to the newest segment alone would finish it %.2f s after "+
			"publication", want, up, want*r.Config.Segment.Seconds()/up)
	}
	return why
}

// uploadRatio is the viewers' mean upload over the stream rate
// (consume-only viewers give none).
func uploadRatio(cfg Config) float64 {
	var up, share float64
	for _, c := range cfg.Classes {
		share += c.Share
		if !c.ConsumeOnly {
			up += c.Share * c.Upload
		}
	}
	if share <= 0 {
		return 0
	}
	return up / share
}

// cdnWhy names the largest share of the CDN bytes.
func (r *Report) cdnWhy() string {
	if r.BytesCDN == 0 {
		return "no CDN bytes"
	}
	share := func(b int64) float64 { return 100 * float64(b) / float64(r.BytesCDN) }
	var why string
	switch {
	case r.CDNRoot >= r.CDNDeadline && r.CDNRoot >= r.CDNStart:
		why = fmt.Sprintf("%.0f%% of the CDN bytes feed root stripes (viewers with no usable upstream in a stripe%s)%s",
			share(r.CDNRoot), r.rootWhy(), r.freeWhy())
	case r.CDNDeadline >= r.CDNStart:
		why = fmt.Sprintf("%.0f%% of the CDN bytes are deadline completions (upstreams late, lost or frozen)", share(r.CDNDeadline))
	default:
		why = fmt.Sprintf("%.0f%% of the CDN bytes are fast starts (each viewer's first segment; short runs weigh them more)", share(r.CDNStart))
	}
	return why + r.backlogWhy()
}

// backlogWhy gives the newcomers' share of the CDN bytes, when 2 % or
// more: the segments of their first playlist after the fast start, needed
// as their links come up (engine Stats.CDNBacklog).
func (r *Report) backlogWhy() string {
	if r.BytesCDN == 0 || 50*r.CDNBacklog < r.BytesCDN {
		return ""
	}
	return fmt.Sprintf("; %.0f%% of the CDN bytes (%.1f%% of all bytes) are the newcomers' backlog: the segments of their "+
		"first playlist after the fast start (the player starts --start-with segments behind the live edge), which "+
		"no tree pushes and which they need as their links come up",
		100*float64(r.CDNBacklog)/float64(r.BytesCDN), 100*float64(r.CDNBacklog)/float64(r.BytesCDN+r.BytesP2P))
}

// freeWhy says that upload was left over while most roots had only full
// neighbours: the swarm had the slots, the roots were not linked to them.
func (r *Report) freeWhy() string {
	total := 0
	for _, n := range r.RootCauses {
		total += n
	}
	if r.FreeSlots < 0.02 || 2*r.RootCauses[engine.CauseFull.String()] < total {
		return ""
	}
	return fmt.Sprintf("; yet %.0f%% of the viewers' slots were free at the end, on fed viewers out of the roots' reach "+
		"(their neighbours were full): which viewers meet binds here, not their upload", 100*r.FreeSlots)
}

// rootWhy lists the causes of the root stripes at the end, most first.
func (r *Report) rootWhy() string {
	total := 0
	names := make([]string, 0, len(r.RootCauses))
	for name, n := range r.RootCauses {
		total += n
		names = append(names, name)
	}
	if total == 0 {
		return ""
	}
	slices.SortFunc(names, func(a, b string) int {
		return cmp.Or(cmp.Compare(r.RootCauses[b], r.RootCauses[a]), strings.Compare(a, b))
	})
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = fmt.Sprintf("%s %.0f%%", causeText(name), 100*float64(r.RootCauses[name])/float64(total))
	}
	return fmt.Sprintf("; of the %d root stripes at the end, what kept the closest neighbour out: %s", total, strings.Join(parts, ", "))
}

// causeText says a cause named in RootCauses in words.
func causeText(name string) string {
	for c := engine.CauseNoNeighbour; c <= engine.CauseWaiting; c++ {
		if c.String() == name {
			return c.Text()
		}
	}
	return name
}

func (r *Report) utilization() float64 { return utilization(r.Config) }

// utilization is the share of upload the engines give to children.
func utilization(cfg Config) float64 {
	if cfg.Utilization > 0 {
		return cfg.Utilization
	}
	return 0.8 // the engine's default
}

// uploadCeiling is the most offload the viewers' upload can carry, ignoring
// roots, fast starts and churn: each class's stripe-children slots, counted
// as the engine counts them (whole slots of upload × u at the stripe rate),
// against the K stripes every viewer needs.
func uploadCeiling(cfg Config) float64 {
	u := utilization(cfg)
	var slots, share float64
	for _, c := range cfg.Classes {
		share += c.Share
		if !c.ConsumeOnly && c.Upload > 0 {
			slots += c.Share * float64(engine.Slots(c.Upload, u, cfg.Stripes))
		}
	}
	if share <= 0 || cfg.Stripes <= 0 {
		return 0
	}
	return min(1, slots/share/float64(cfg.Stripes))
}
