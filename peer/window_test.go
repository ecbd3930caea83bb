package peer

import (
	"strings"
	"testing"
	"time"

	"github.com/p2phls/p2phls/engine"
	"github.com/p2phls/p2phls/hls"
)

func item(epoch int, seq int64, disc int) hls.Item {
	return hls.Item{ID: hls.SegmentID(epoch, hls.Segment{Seq: seq, URL: "http://o/live/seg.ts"}), Epoch: epoch,
		Segment: hls.Segment{Seq: seq, URL: "http://o/live/seg.ts", Duration: 2 * time.Second, DiscSeq: disc}}
}

func TestWindowListsOnlyReadySegments(t *testing.T) {
	var w window
	w.target = 2 * time.Second
	now := time.Now()
	var es []*entry
	for s := int64(10); s < 14; s++ {
		es = append(es, w.add(item(0, s, 0), now))
	}
	if got := w.playlist(); strings.Contains(string(got), "seg/") {
		t.Fatalf("nothing ready, but listed:\n%s", got)
	}
	es[0].ready, es[1].ready, es[3].ready = true, true, true
	p := string(w.playlist())
	if !strings.Contains(p, "#EXT-X-MEDIA-SEQUENCE:0\n") || !strings.Contains(p, "seg/1.ts") || strings.Contains(p, "seg/3.ts") {
		t.Fatalf("segment 2 not ready hides 3:\n%s", p)
	}
	// 2 is given up on: 3 follows it after a discontinuity, and the sequence counts it
	w.markGone(es[2])
	p = string(w.playlist())
	if !strings.Contains(p, "seg/1.ts\n#EXT-X-DISCONTINUITY\n") || !strings.Contains(p, "seg/3.ts") || strings.Contains(p, "seg/2.ts") {
		t.Fatalf("after a gone segment:\n%s", p)
	}
	if es[3].discSeq != 1 || w.byLocal(3) != es[3] || w.byID(es[1].item.ID) != es[1] {
		t.Fatalf("discSeq %d, lookups wrong", es[3].discSeq)
	}
}

func TestWindowNumbersAcrossEncoderRestart(t *testing.T) {
	var w window
	now := time.Now()
	a := w.add(item(0, 500, 3), now)
	b := w.add(item(1, 0, 0), now) // the encoder restarted: sequence 0 again, new epoch
	a.ready, b.ready = true, true
	p := string(w.playlist())
	if !strings.Contains(p, "seg/0.ts\n#EXT-X-DISCONTINUITY\n") || !strings.Contains(p, "seg/1.ts") || b.local != 1 || b.discSeq != 1 {
		t.Fatalf("restart not seamless for the player:\n%s", p)
	}
	for s := int64(1); s < keep+5; s++ {
		e := w.add(item(1, s, 0), now)
		e.ready = true
	}
	if len(w.entries) != keep || len(w.shown()) != listed {
		t.Fatalf("window %d entries, %d shown", len(w.entries), len(w.shown()))
	}
	w.ended = true
	if !strings.HasSuffix(string(w.playlist()), "#EXT-X-ENDLIST\n") {
		t.Fatal("no ENDLIST at the end of the stream")
	}
}

func TestAbsRange(t *testing.T) {
	base := &hls.ByteRange{Start: 1000, Length: 500}
	r, err := absRange(base, engineRange(100, 50))
	if err != nil || r.Start != 1100 || r.Length != 50 {
		t.Fatalf("%+v %v", r, err)
	}
	if _, err := absRange(base, engineRange(480, 50)); err == nil {
		t.Fatal("range past the segment accepted")
	}
	if r, _ := absRange(nil, engineRange(0, 0)); r != nil {
		t.Fatal("whole resource should have no range")
	}
}

func engineRange(start, length int64) engine.Range { return engine.Range{Start: start, Length: length} }

func TestWindowStartsWithTheWholeStartBuffer(t *testing.T) {
	var w window
	now := time.Now()
	var es []*entry
	for s := int64(20); s < 23; s++ {
		e := w.add(item(0, s, 0), now)
		e.initial = true
		es = append(es, e)
	}
	es[0].ready = true
	if w.started() {
		t.Fatal("started with one of three start segments: the player would begin with one segment of buffer")
	}
	es[1].ready = true
	w.markGone(es[2])
	if !w.started() {
		t.Fatal("not started once every start segment is ready or given up")
	}
	later := w.add(item(0, 23, 0), now) // a later segment still on its way does not hold the start back
	if !w.started() || later.ready {
		t.Fatal("a live segment held back the start")
	}
}
