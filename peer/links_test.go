package peer

import "testing"

// A node aims at Neighbours links, and at two more than it has (up to
// MaxLinks) while its engine wants peers for a stripe it takes from the CDN.
func TestLinkTarget(t *testing.T) {
	for _, c := range []struct {
		count int
		wants bool
		want  int
	}{
		{0, false, 12}, {12, false, 12}, {20, false, 12},
		{5, true, 12}, {12, true, 14}, {29, true, 30}, {30, true, 30}, {40, true, 30},
	} {
		if got := linkTarget(12, 30, c.count, c.wants); got != c.want {
			t.Errorf("%d links, wants %v: target %d, want %d", c.count, c.wants, got, c.want)
		}
	}
}
