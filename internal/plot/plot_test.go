package plot

import (
	"encoding/xml"
	"strings"
	"testing"
)

func TestLinesIsSVGWithEverySeries(t *testing.T) {
	var b strings.Builder
	err := Lines(&b, "a <b> & c", "s", []Series{
		{Name: "one", Color: "red", Points: [][2]float64{{0, 0}, {10, 0.5}, {20, 2}}},
		{Name: "two", Color: "blue", Points: [][2]float64{{5, 1}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(strings.NewReader(b.String()))
	paths := 0
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		if e, ok := tok.(xml.StartElement); ok && e.Name.Local == "path" {
			paths++
		}
	}
	if paths != 2 || !strings.Contains(b.String(), "a &lt;b&gt; &amp; c") || !strings.Contains(b.String(), "20 s") {
		t.Fatalf("%d paths:\n%s", paths, b.String())
	}
	if !strings.Contains(b.String(), "L680.0,40.0") { // (20, 2): the right edge, y held at the top
		t.Fatalf("a y above 1 drawn outside the chart:\n%s", b.String())
	}
}
