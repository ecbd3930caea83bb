// Package plot draws the small SVG line charts kept with the benchmarks
// (no dependency: a few paths and labels).
package plot

import (
	"fmt"
	"io"
	"strings"
)

// Series is one line: points (x, y) with y in 0..1.
type Series struct {
	Name   string
	Color  string
	Points [][2]float64
}

// Lines writes a chart of the series, y from 0 to 1, x from 0 to the largest x.
func Lines(w io.Writer, title, xUnit string, series []Series) error {
	const W, H, pad = 720.0, 300.0, 40.0
	xmax := 1.0
	for _, s := range series {
		for _, p := range s.Points {
			xmax = max(xmax, p[0])
		}
	}
	x := func(v float64) float64 { return pad + (W-2*pad)*v/xmax }
	y := func(v float64) float64 { return H - pad - (H-2*pad)*min(max(v, 0), 1) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%v" height="%v" font-family="sans-serif" font-size="12">
<rect width="100%%" height="100%%" fill="white"/>
<text x="%v" y="20">%s</text>
<line x1="%v" y1="%v" x2="%v" y2="%v" stroke="#999"/><line x1="%v" y1="%v" x2="%v" y2="%v" stroke="#999"/>
<text x="4" y="%v">1.0</text><text x="4" y="%v">0.5</text><text x="4" y="%v">0</text><text x="%v" y="%v">%.0f %s</text>
`, W, H, pad, escape(title), pad, H-pad, W-pad, H-pad, pad, pad, pad, H-pad, y(1)+4, y(0.5)+4, y(0)+4, W-pad-40, H-pad+16, xmax, xUnit)
	for i, s := range series {
		var d strings.Builder
		for j, p := range s.Points {
			c := "L"
			if j == 0 {
				c = "M"
			}
			fmt.Fprintf(&d, "%s%.1f,%.1f ", c, x(p[0]), y(p[1]))
		}
		fmt.Fprintf(&b, "<path d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>\n", d.String(), s.Color)
		fmt.Fprintf(&b, "<text x=\"%v\" y=\"%v\" fill=\"%s\">%s</text>\n", pad+10, 40+16*i, s.Color, escape(s.Name))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
