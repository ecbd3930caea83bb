package bench

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// WTRatios compares the first server (ours) with the second: memory per idle
// peer and CPU per announce as ours ÷ theirs (goal ≤ 1/3), plain announce
// rate as ours ÷ theirs (goal ≥ 3).
func WTRatios(reps []WTReport) map[string]float64 {
	out := map[string]float64{}
	if len(reps) < 2 {
		return out
	}
	a, b := reps[0], reps[1]
	if b.RSSPerPeer > 0 {
		out["memory_per_peer_ours_over_theirs"] = a.RSSPerPeer / b.RSSPerPeer
	}
	if b.MaxPlainRate > 0 {
		out["plain_rate_ours_over_theirs"] = float64(a.MaxPlainRate) / float64(b.MaxPlainRate)
	}
	// CPU per plain announce at the highest rate both held: the fair
	// comparison where one generator on one core caps both servers' rate.
	for i := len(a.Plain) - 1; i >= 0; i-- {
		if i < len(b.Plain) && a.Plain[i].held() && b.Plain[i].held() && b.Plain[i].CPUUS > 0 {
			out[fmt.Sprintf("cpu_per_plain_announce_ours_over_theirs_at_%d", a.Plain[i].Rate)] = a.Plain[i].CPUUS / b.Plain[i].CPUUS
			break
		}
	}
	for i := range min(len(a.Offered), len(b.Offered)) {
		if b.Offered[i].CPUUS > 0 {
			out[fmt.Sprintf("cpu_per_offer_announce_ours_over_theirs_at_%d", a.Offered[i].Rate)] = a.Offered[i].CPUUS / b.Offered[i].CPUUS
		}
		// the same outside the kernel: what each server's own code costs
		if ub := b.Offered[i].CPUUS - b.Offered[i].SysUS; ub > 0 {
			out[fmt.Sprintf("user_cpu_per_offer_announce_ours_over_theirs_at_%d", a.Offered[i].Rate)] = (a.Offered[i].CPUUS - a.Offered[i].SysUS) / ub
		}
	}
	return out
}

// WriteWTSVG plots each server's p99 reply latency against the plain
// announce rate (log scales), with the 100 ms line.
func WriteWTSVG(w io.Writer, reps []WTReport) error {
	const W, H, pad = 720.0, 340.0, 50.0
	maxRate, colors := 1000.0, []string{"#1a7f37", "#cf222e", "#0969da"}
	for _, r := range reps {
		for _, s := range r.Plain {
			maxRate = max(maxRate, float64(s.Rate))
		}
	}
	lo := 100.0
	x := func(rate float64) float64 {
		return pad + (W-2*pad)*math.Log10(max(rate, lo)/lo)/math.Log10(maxRate*1.5/lo)
	}
	y := func(ms float64) float64 { // 0.1 ms .. 10 s
		v := math.Log10(min(max(ms, 0.1), 10000)/0.1) / 5
		return H - pad - (H-2*pad)*v
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%v" height="%v" font-family="sans-serif" font-size="12">
<rect width="100%%" height="100%%" fill="white"/>
<text x="%v" y="20">WebTorrent /announce: p99 reply latency against plain re-announces per second (server on one core)</text>
<line x1="%v" y1="%v" x2="%v" y2="%v" stroke="#999"/><line x1="%v" y1="%v" x2="%v" y2="%v" stroke="#999"/>
<line x1="%v" y1="%.1f" x2="%v" y2="%.1f" stroke="#999" stroke-dasharray="4"/><text x="%v" y="%.1f">100 ms</text>
`, W, H, pad, pad, H-pad, W-pad, H-pad, pad, pad, pad, H-pad, pad, y(100), W-pad, y(100), W-pad-40, y(100)-4)
	for _, ms := range []float64{1, 10, 1000} {
		fmt.Fprintf(&b, "<text x=\"4\" y=\"%.1f\">%g ms</text>\n", y(ms)+4, ms)
	}
	for _, r := range []float64{1000, 10000, 100000} {
		if r <= maxRate*1.5 {
			fmt.Fprintf(&b, "<text x=\"%.1f\" y=\"%v\">%g/s</text>\n", x(r)-15, H-pad+16, r)
		}
	}
	for i, r := range reps {
		c := colors[i%len(colors)]
		var d strings.Builder
		for j, s := range r.Plain {
			fmt.Fprintf(&d, "%s%.1f,%.1f ", map[bool]string{true: "M", false: "L"}[j == 0], x(float64(s.Rate)), y(s.P99Ms))
		}
		fmt.Fprintf(&b, "<path d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>\n", d.String(), c)
		fmt.Fprintf(&b, "<text x=\"%v\" y=\"%v\" fill=\"%s\">%s: %d/s held</text>\n", pad+10, 40+16*i, c, r.Name, r.MaxPlainRate)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
