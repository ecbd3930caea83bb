package sim

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestGoalsSayHowFarAndWhy(t *testing.T) {
	cfg := Config{Segment: 2 * time.Second, Stripes: 4, Classes: MixedClasses()}
	r := Report{Config: cfg, Ceiling: 0.999, UploadCeiling: uploadCeiling(cfg), Offload: 0.6,
		BytesCDN: 100, CDNRoot: 80, CDNDeadline: 15, CDNStart: 5, ExtraDelayP95Ms: 2500,
		Stalls: 3, StallRatio: 0.002, CDNOnly: Arm{StallRatio: 0, DelayP05Ms: 400}, P2P: Arm{DelayP05Ms: 1950}, LateShare: 0.062,
		RootCauses: map[string]int{"full": 30, "depth": 10},
		Stripes: &StripeFigures{Depth: []DepthSpread{{1, Spread{300, 1670, 2500}, 10}, {4, Spread{300, 2150, 3000}, 30},
			{7, Spread{300, 2630, 3300}, 50}, {8, Spread{2, 2500, 3000}, 0}},
			LastVia: map[string]int64{"push": 90, "cdn_deadline": 10}}}
	g := r.goals()
	if len(g) != 3 || g[0].Met || g[1].Met || g[2].Met {
		t.Fatalf("every goal missed, got %+v", g)
	}
	// slots at u = 0.8, K = 4: 2× uploaders (reachable or not, 50 %) 6, 0.7× ones (40 %) 2, consume-only 0
	if math.Abs(r.UploadCeiling-0.95) > 1e-9 {
		t.Errorf("upload ceiling of the mixed population %.4f, want (0.5×6 + 0.4×2)/4 = 0.95", r.UploadCeiling)
	}
	for _, want := range []string{"short by 0.370", "80% of the CDN bytes feed root stripes", "above what this population's upload can carry: 0.950",
		"of the 40 root stripes at the end, what kept the closest neighbour out: every fed neighbour full in that stripe 75%, trees at the depth bound 25%"} {
		if !strings.Contains(g[0].Why, want) {
			t.Errorf("offload why %q lacks %q", g[0].Why, want)
		}
	}
	for _, want := range []string{"over by 1500 ms", "fastest 5% of segments were ready 1.95 s after publication (CDN-only arm 0.40 s)",
		"1.6 s at u = 0.80", "6.2% of segments waited for a completion from the CDN at their deadline",
		// depth 8 holds under 1 % of the pushed stripes: the levels run to 7
		"complete 1.67 s after publication at depth 1 (p50) and 2.63 s at depth 7: 160 ms per level",
		"came down 50% of segments' trees from depth 5 or more and from the deadline completion for 10%",
		// 0.4 × 2 + 0.4 × 0.7 + 0.1 × 2 (unreachable) = 1.28× the stream; 0.97 × 2 s ÷ 1.28 = 1.52 s
		"1.28× the stream on average) to the newest segment alone would finish it 1.52 s after publication"} {
		if !strings.Contains(g[2].Why, want) {
			t.Errorf("delay why %q lacks %q", g[2].Why, want)
		}
	}
	if strings.Contains(g[0].Why, "were free") {
		t.Errorf("offload why %q speaks of free slots, and none were free", g[0].Why)
	}
	r.FreeSlots = 0.11
	if why := r.goals()[0].Why; !strings.Contains(why, "yet 11% of the viewers' slots were free at the end") {
		t.Errorf("offload why %q lacks the free slots", why)
	}
	if strings.Contains(g[0].Why, "backlog") {
		t.Errorf("offload why %q speaks of a backlog, and none came from the CDN", g[0].Why)
	}
	r.CDNBacklog, r.BytesP2P = 30, 900 // 30 % of the CDN bytes, 3 % of all
	if why := r.goals()[0].Why; !strings.Contains(why, "30% of the CDN bytes (3.0% of all bytes) are the newcomers' backlog") {
		t.Errorf("offload why %q lacks the newcomers' backlog", why)
	}
	r.CDNRoot, r.CDNDeadline = 15, 80 // the backlog at the deadline (a root grace): said there too
	if why := r.goals()[0].Why; !strings.Contains(why, "deadline completions") || !strings.Contains(why, "are the newcomers' backlog") {
		t.Errorf("offload why %q lacks the deadline completions' backlog", why)
	}
	r.CDNRoot, r.CDNDeadline = 80, 15
	r.CDNBacklog = 1 // under 2 % of the CDN bytes: not worth a word
	if why := r.goals()[0].Why; strings.Contains(why, "backlog") {
		t.Errorf("offload why %q speaks of a backlog of 1%% of the CDN bytes", why)
	}
	r.RootCauses = map[string]int{"full": 10, "depth": 30}
	if why := r.goals()[0].Why; strings.Contains(why, "were free") {
		t.Errorf("offload why %q blames who meets whom, but most roots were at the depth bound", why)
	}
	if u9 := uploadCeiling(Config{Stripes: 4, Utilization: 0.9, Classes: MixedClasses()}); u9 != 1 {
		t.Errorf("upload ceiling at u = 0.9: %.4f, want 1 (4.3 slots for 4 stripes)", u9)
	}
	r = Report{Config: Config{Segment: 2 * time.Second, Classes: []Class{{Share: 1, Upload: 2}}}, Ceiling: 1 - 1.0/30,
		Offload: 0.93, ExtraDelayP95Ms: 900}
	for _, x := range r.goals() {
		if !x.Met || x.Why != "" {
			t.Errorf("%s: want met (0.95 × ceiling is 0.918), got %+v", x.Name, x)
		}
	}
}
