package sim

import (
	"fmt"
	"io"
	"strings"
)

// WriteSVG draws offload (0..1, left axis) and cumulative stalls (right axis)
// over time.
func WriteSVG(w io.Writer, r Report) error {
	const W, H, pad = 720.0, 300.0, 40.0
	tl := r.Timeline
	if len(tl) == 0 {
		_, err := fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%v" height="%v"/>`, W, H)
		return err
	}
	tmax := tl[len(tl)-1].T
	smax := 1
	for _, p := range tl {
		smax = max(smax, p.Stalls)
	}
	x := func(t float64) float64 { return pad + (W-2*pad)*t/max(tmax, 1) }
	y := func(v float64) float64 { return H - pad - (H-2*pad)*v }
	line := func(val func(Point) float64) string {
		var b strings.Builder
		for i, p := range tl {
			c := "L"
			if i == 0 {
				c = "M"
			}
			fmt.Fprintf(&b, "%s%.1f,%.1f ", c, x(p.T), y(val(p)))
		}
		return b.String()
	}
	_, err := fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%v" height="%v" font-family="sans-serif" font-size="12">
<rect width="100%%" height="100%%" fill="white"/>
<text x="%v" y="20">p2phls sim: %d peers — offload %.3f (ceiling %.3f), stalls %d (CDN-only %d)</text>
<line x1="%v" y1="%v" x2="%v" y2="%v" stroke="#999"/><line x1="%v" y1="%v" x2="%v" y2="%v" stroke="#999"/>
<text x="4" y="%v">1.0</text><text x="4" y="%v">0</text><text x="%v" y="%v">%.0f s</text>
<path d="%s" fill="none" stroke="#1a7f37" stroke-width="2"/><text x="%v" y="%v" fill="#1a7f37">offload</text>
<path d="%s" fill="none" stroke="#cf222e" stroke-width="2"/><text x="%v" y="%v" fill="#cf222e">stalls (max %d)</text>
</svg>
`, W, H, pad, r.Peers, r.Offload, r.Ceiling, r.Stalls, r.CDNOnly.Stalls,
		pad, H-pad, W-pad, H-pad, pad, pad, pad, H-pad,
		y(1)+4, y(0)+4, W-pad-30, H-pad+16, tmax,
		line(func(p Point) float64 { return p.Offload }), W-pad-120, y(1)+14,
		line(func(p Point) float64 { return float64(p.Stalls) / float64(smax) }), W-pad-120, y(1)+28, smax)
	return err
}
