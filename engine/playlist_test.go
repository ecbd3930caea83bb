package engine

import (
	"testing"
	"testing/synctest"
	"time"
)

// TestPlaylistGoesDownOneTree: a playlist shared by the root of stripe
// newest mod K reaches every peer of that tree exactly once, from its
// upstream in that stripe; each of the K trees carries its own updates.
func TestPlaylistGoesDownOneTree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTWorld(20)
		ps := meshOf(w, 8, Config{SharePlaylists: true})
		w.run(0, 8, ps...)
		raw := []byte("#EXTM3U\n")
		for newest := range uint32(4) {
			k := int(newest) % 4
			treeFormed(t, w, ps, k)
			roots := map[PeerID]bool{} // at the share: a root may merge into another tree meanwhile
			w.r.do(func() {
				for _, p := range ps {
					if _, root := p.eng.Upstream(k); root {
						roots[p.id] = true
						p.eng.SharePlaylist(raw, int64(newest))
					}
				}
			})
			time.Sleep(time.Second)
			synctest.Wait()
			for _, p := range ps {
				if got := p.lists[newest]; !roots[p.id] && got != 1 {
					t.Errorf("%s: playlist %d (stripe %d) taken %d times, want once", p.id, newest, k, got)
				}
			}
		}
		var sent int64
		for _, p := range ps {
			sent += p.eng.Stats().PlaylistsSent
		}
		if sent == 0 {
			t.Fatal("no playlist sent")
		}
		t.Logf("%d playlist messages for 4 updates to 8 peers", sent)
	})
}

// treeFormed waits (virtual time, bounded) until every peer is fed in
// stripe k: a peer between upstreams when a playlist goes down the tree
// misses it, which is not what the test is about.
func treeFormed(t *testing.T, w *tworld, ps []*tpeer, k int) {
	t.Helper()
	for range 20 {
		fed := 0
		w.r.do(func() {
			for _, p := range ps {
				if _, ok := p.eng.path(k); ok {
					fed++
				}
			}
		})
		if fed == len(ps) {
			return
		}
		time.Sleep(500 * time.Millisecond)
		synctest.Wait()
	}
	t.Fatalf("stripe %d: not every peer fed after 10 s", k)
}

// TestPlaylistOnlyWhenBothShare: a peer that did not say it takes playlists
// gets none, and one that does not share ignores those sent to it.
func TestPlaylistOnlyWhenBothShare(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTWorld(20)
		a := w.add(Config{SharePlaylists: true})
		b := w.add(Config{})
		w.link(a, b)
		w.run(0, 6, a, b)
		w.r.do(func() {
			for k := range 4 {
				a.eng.SharePlaylist([]byte("#EXTM3U\n"), int64(k))
				b.eng.SharePlaylist([]byte("#EXTM3U\n"), int64(k))
			}
		})
		time.Sleep(time.Second)
		synctest.Wait()
		if a.eng.Stats().PlaylistsSent+b.eng.Stats().PlaylistsSent != 0 || len(a.lists)+len(b.lists) != 0 {
			t.Fatalf("sent %d+%d, taken %v %v", a.eng.Stats().PlaylistsSent, b.eng.Stats().PlaylistsSent, a.lists, b.lists)
		}
		// sent anyway by a peer that breaks the rule: ignored
		w.r.do(func() {
			if err := b.eng.OnMessage(a.id, &Message{Type: TPlaylist, Newest: 1, Data: []byte("x")}); err != nil {
				t.Fatal(err)
			}
		})
		if len(b.lists) != 0 {
			t.Fatal("a peer that does not share took a playlist")
		}
	})
}
