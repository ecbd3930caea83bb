package peer

import (
	"strings"
	"testing"
	"time"

	"github.com/p2phls/p2phls/hls"
)

const originText = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:40\n" +
	"#EXTINF:2.000,\nseg40.ts\n#EXTINF:2.000,\nseg41.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:2.000,\nseg42.ts\n#EXTINF:2.000,\nseg43.ts\n"

func TestOriginPlaylistLosesOnlyTheTailNotReady(t *testing.T) {
	const u = "http://o/live/index.m3u8"
	m, _, err := hls.Parse(u, []byte(originText))
	if err != nil {
		t.Fatal(err)
	}
	n := &Node{raw: []byte(originText), media: m}
	if _, ok := n.OriginPlaylist(); ok {
		t.Fatal("a playlist before the node has any segment")
	}
	f := hls.NewFollower()
	items := f.Update(m)
	var es []*entry
	for _, it := range items[1:] { // the node started at 41: 40 is older than its window
		e := n.win.add(it, time.Now())
		e.initial = true
		es = append(es, e)
	}
	es[0].ready, es[1].ready = true, true
	if _, ok := n.OriginPlaylist(); ok {
		t.Fatal("served before the whole start buffer was ready")
	}
	es[2].initial = false // 43 came later and is on its way
	b, ok := n.OriginPlaylist()
	want := "#EXT-X-MEDIA-SEQUENCE:40\n#EXTINF:2.000,\nseg40.ts\n#EXTINF:2.000,\nseg41.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:2.000,\nseg42.ts\n"
	if !ok || !strings.HasSuffix(string(b), want) {
		t.Fatalf("cut playlist:\n%s", b)
	}
	es[2].ready = true
	if b, _ := n.OriginPlaylist(); string(b) != originText {
		t.Fatalf("all ready, yet changed:\n%s", b)
	}
	if e := n.win.byURL("http://o/live/seg42.ts", nil); e != es[1] {
		t.Fatal("lookup by URL")
	}
	if _, err := n.SegmentByURL(t.Context(), "http://o/live/seg40.ts", nil, -1); err != ErrUnknownSegment {
		t.Fatalf("segment before the window: %v", err)
	}
}

func TestCutBefore(t *testing.T) {
	for i, want := range map[int]string{1: "#x\na\n", 2: "#x\na\n#y\nb\n"} {
		if got := string(cutBefore([]byte("#x\na\n#y\nb\n#z\nc"), i)); got != want {
			t.Errorf("cut %d: %q", i, got)
		}
	}
}

// A player polls the peer: the origin's offer of blocking reloads and delta
// updates does not reach it, and nothing else changes.
func TestPlayersDoNotSeeServerControl(t *testing.T) {
	ctl := strings.Replace(originText, "#EXT-X-MEDIA-SEQUENCE:40\n",
		"#EXT-X-MEDIA-SEQUENCE:40\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES\n", 1)
	if got := string(forPlayer([]byte(ctl))); got != originText {
		t.Fatalf("forPlayer:\n%s", got)
	}
	if got := string(forPlayer([]byte(originText))); got != originText {
		t.Fatalf("a playlist without the tag changed:\n%s", got)
	}
}
