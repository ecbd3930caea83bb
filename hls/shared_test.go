package hls

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestUpdateSharedRules(t *testing.T) {
	f := NewFollower()
	if _, err := f.UpdateShared(media(10, 0, 3)); !errors.Is(err, ErrSharedRefused) {
		t.Fatalf("before any CDN playlist: %v, want refused", err)
	}
	f.Update(media(10, 1, 3)) // 10..12 from the CDN
	foreign := media(11, 1, 3)
	foreign.Segments[2].URL = "http://elsewhere/seg.ts"
	longer := media(11, 1, 3)
	longer.TargetDuration = 6 * time.Second
	gap := media(11, 1, 3)
	gap.Segments[2].Gap = true
	for _, c := range []struct {
		name string
		m    *Media
		want error
		new  int
	}{
		{"older media sequence", media(9, 1, 3), ErrSharedStale, 0},
		{"older discontinuity sequence (no epoch from a peer)", media(11, 0, 3), ErrSharedStale, 0},
		{"a host the CDN never used", foreign, ErrSharedRefused, 0},
		{"another target duration", longer, ErrSharedRefused, 0},
		{"a new segment marked as a gap (the CDN's word only)", gap, ErrSharedStale, 0},
		{"nothing new", media(10, 1, 3), nil, 0},
		{"one new segment", media(11, 1, 3), nil, 1},
		{"whole window ahead", media(20, 1, 3), nil, 3},
	} {
		items, err := f.UpdateShared(c.m)
		if !errors.Is(err, c.want) || (c.want == nil && err != nil) || len(items) != c.new {
			t.Errorf("%s: %d new, err %v; want %d, %v", c.name, len(items), err, c.new, c.want)
		}
	}
	if f.Epoch() != 0 {
		t.Fatalf("a shared playlist moved the epoch to %d", f.Epoch())
	}
}

// liveDoer serves a live playlist whose newest segment is now/2s, with no
// network (synctest), and counts the requests.
type liveDoer struct {
	start time.Time
	lag   time.Duration // the CDN node's playlist trails the encoder by this
	polls atomic.Int64
}

func livePlaylist(newest int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:%d\n", max(0, newest-2))
	for s := max(0, newest-2); s <= newest; s++ {
		fmt.Fprintf(&b, "#EXTINF:2.000,\nseg%d.ts\n", s)
	}
	return b.String()
}

func (d *liveDoer) Do(r *http.Request) (*http.Response, error) {
	d.polls.Add(1)
	body := livePlaylist(int64((time.Since(d.start) - d.lag) / (2 * time.Second)))
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{},
		ContentLength: int64(len(body)), Request: r}, nil
}

// TestFollowTakesSharedPlaylists: a peer passes on each playlist the moment
// its segment exists, the CDN's copy is polled as usual; relaxed, the CDN
// is polled about once every 3 target durations and every segment still
// comes at once. A liar's playlist is refused: pointing at another host at
// once, announcing a segment the CDN does not have when the CDN's playlist
// contradicts it (the one segment it announced is lost to this viewer).
func TestFollowTakesSharedPlaylists(t *testing.T) {
	for _, relaxed := range []bool{false, true} {
		t.Run(fmt.Sprint("relaxed=", relaxed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { followShared(t, relaxed) })
		})
	}
}

func followShared(t *testing.T, relaxed bool) {
	d := &liveDoer{start: time.Now(), lag: 300 * time.Millisecond} // peers tell of each segment first
	src := NewSource(SourceConfig{Client: d})
	shared := make(chan Shared)
	var refused, late int
	var lied time.Time
	got := map[int64]bool{}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	go func() {
		for s := int64(1); s < 30; s++ {
			time.Sleep(time.Until(d.start.Add(time.Duration(s) * 2 * time.Second)))
			shared <- Shared{From: "up", Raw: []byte(livePlaylist(s))}
			switch s {
			case 10: // another host: refused at once
				shared <- Shared{From: "liar", Raw: []byte(strings.ReplaceAll(livePlaylist(s+1), "seg", "http://evil/seg"))}
			case 20: // a next segment the CDN will not have: refused when the CDN's playlist contradicts it
				lied = time.Now() // before the send: the send orders it before the follower's reads
				shared <- Shared{From: "liar", Raw: []byte(strings.ReplaceAll(livePlaylist(s+1), fmt.Sprintf("seg%d.ts", s+1), "fake.ts"))}
			}
		}
	}()
	_ = Follow(ctx, FollowConfig{URL: "http://cdn/live/index.m3u8", Source: src, Shared: shared,
		Relaxed: func() bool { return relaxed },
		OnShared: func(s Shared, _ *Media, err error) {
			if errors.Is(err, ErrSharedRefused) {
				refused++
				if s.From != "liar" {
					t.Errorf("refused from %s: %v", s.From, err)
				}
				if !lied.IsZero() && time.Since(lied) > 6*time.Second {
					t.Errorf("a lie found out %v later: the CDN is polled every 3 target durations at least", time.Since(lied))
				}
			}
		},
		OnSegment: func(it Item) {
			got[it.Seq] = true
			if at := d.start.Add(time.Duration(it.Seq) * 2 * time.Second); it.URL == "http://cdn/live/fake.ts" && it.Seq != 21 || time.Since(at) > 2*time.Second {
				t.Errorf("segment %d (%s) at %v", it.Seq, it.URL, time.Since(d.start))
			}
			if at := d.start.Add(time.Duration(it.Seq) * 2 * time.Second); time.Since(at) > 100*time.Millisecond {
				late++
			}
		}})
	for s := int64(1); s < 30; s++ {
		if !got[s] {
			t.Fatalf("segment %d never reported", s)
		}
	}
	polls := d.polls.Load()
	t.Logf("CDN polls in 60 s: %d; segments late: %d; refused: %d", polls, late, refused)
	if refused != 2 || late != 0 {
		t.Errorf("refused %d (want 2), %d segments later than the shared playlist", refused, late)
	}
	// not relaxed: one poll per target duration as without sharing (a CDN
	// playlist that brings nothing new because peers told first has still
	// moved: no half-duration re-poll)
	if relaxed && polls > 12 || !relaxed && (polls < 25 || polls > 35) {
		t.Errorf("relaxed=%v: %d CDN polls in 60 s", relaxed, polls)
	}
}

// After an encoder restart the CDN reuses sequence numbers: a segment a
// peer announced before it is not compared with the new epoch's.
func TestRestartForgetsAnnouncedSegments(t *testing.T) {
	var refused []string
	fl := &follow{f: NewFollower(), cfg: FollowConfig{URL: "http://o/live/index.m3u8", OnSegment: func(Item) {},
		OnShared: func(s Shared, _ *Media, err error) {
			if err != nil {
				refused = append(refused, s.From)
			}
		}}}
	cdn := func(ms int64) *Media {
		m := media(ms, 0, 3)
		m.TargetDuration = 2 * time.Second
		return m
	}
	fl.f.Update(cdn(10))                                         // 10..12
	fl.shared(Shared{From: "up", Raw: []byte(livePlaylist(13))}) // 11..13, 13 first from the peer
	if len(fl.taken) != 1 || len(refused) != 0 {
		t.Fatalf("taken %v, refused %v", fl.taken, refused)
	}
	for _, m := range []*Media{cdn(0), cdn(11)} { // restart, then the new epoch reaches 13 under other URLs
		fl.check(m)
		fl.f.Update(m)
	}
	if len(refused) != 0 || fl.f.Epoch() != 1 {
		t.Fatalf("after a restart: refused %v, epoch %d", refused, fl.f.Epoch())
	}
	// without the restart the same playlist is a contradiction
	fl.f.Update(cdn(20))
	fl.shared(Shared{From: "liar", Raw: []byte(livePlaylist(23))})
	fl.check(cdn(21))
	// so is the right URL with another duration
	fl.f.Update(cdn(30))
	fl.shared(Shared{From: "liar2", Raw: []byte(strings.ReplaceAll(livePlaylist(33), "seg33.ts", "../seg.ts"))})
	fl.check(cdn(31))
	if len(refused) != 2 || refused[0] != "liar" || refused[1] != "liar2" {
		t.Fatalf("contradictions: refused %v", refused)
	}
}
