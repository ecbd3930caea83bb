package hls

import "testing"

func media(ms int64, disc int, n int) *Media {
	m := &Media{MediaSequence: ms, DiscSeq: disc}
	for i := range n {
		m.Segments = append(m.Segments, Segment{Seq: ms + int64(i), URL: "http://o/seg.ts"})
	}
	return m
}

func seqs(items []Item) []int64 {
	var out []int64
	for _, it := range items {
		out = append(out, it.Seq)
	}
	return out
}

func TestFollowerNewSegmentsOnce(t *testing.T) {
	f := NewFollower()
	if got := seqs(f.Update(media(10, 0, 3))); len(got) != 3 || got[0] != 10 {
		t.Fatalf("first update = %v", got)
	}
	if got := f.Update(media(10, 0, 3)); len(got) != 0 {
		t.Fatalf("unchanged playlist gave %v", seqs(got))
	}
	if got := seqs(f.Update(media(12, 0, 3))); len(got) != 2 || got[0] != 13 || got[1] != 14 {
		t.Fatalf("slide by two = %v, want [13 14]", got)
	}
	// A stale playlist from a lagging CDN node (sequence back by one) is not
	// a restart, and repeats nothing.
	if got := f.Update(media(11, 0, 3)); f.Epoch() != 0 || len(got) != 0 {
		t.Fatalf("stale playlist: epoch %d, got %v", f.Epoch(), seqs(got))
	}
	if got := seqs(f.Update(media(13, 0, 3))); len(got) != 1 || got[0] != 15 {
		t.Fatalf("after stale playlist = %v, want [15]", got)
	}
}

func TestFollowerEncoderRestart(t *testing.T) {
	f := NewFollower()
	f.Update(media(500, 2, 3))
	items := f.Update(media(0, 0, 2)) // encoder restarted from scratch
	if f.Epoch() != 1 || len(items) != 2 || items[0].Seq != 0 || items[0].Epoch != 1 {
		t.Fatalf("after restart: epoch %d items %v", f.Epoch(), seqs(items))
	}
	if items[0].ID == SegmentID(0, items[0].Segment) {
		t.Fatal("segment id does not change with the epoch")
	}
	// Same media sequence numbers, discontinuity sequence reset: also a restart.
	f.Update(media(3, 5, 3))
	if f.Update(media(3, 0, 3)); f.Epoch() != 2 {
		t.Fatalf("discontinuity sequence reset: epoch %d, want 2", f.Epoch())
	}
	// Normal growth of the discontinuity sequence is not a restart.
	f.Update(media(4, 1, 3))
	if f.Epoch() != 2 {
		t.Fatalf("growing discontinuity sequence changed the epoch to %d", f.Epoch())
	}
}
