package proxy_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/p2phls/p2phls/origin"
	"github.com/p2phls/p2phls/peer"
	"github.com/p2phls/p2phls/player"
	"github.com/p2phls/p2phls/proxy"
	"github.com/p2phls/p2phls/tracker"
)

// originHashes maps the SHA-256 of each segment the origin can serve to its number.
func originHashes(o *origin.Origin) map[[32]byte]int64 {
	m := map[[32]byte]int64{}
	for n := int64(0); n < 400; n++ {
		m[sha256.Sum256(o.Segment(n))] = n
	}
	return m
}

// checkBytes asserts every segment is one the origin served, in order, none skipped.
func checkBytes(t *testing.T, name string, res player.Result, hashes map[[32]byte]int64) {
	t.Helper()
	if len(res.Segments) < 3 {
		t.Fatalf("%s: only %d segments played", name, len(res.Segments))
	}
	prev := int64(-1)
	for i, s := range res.Segments {
		n, ok := hashes[s.SHA]
		if !ok {
			t.Fatalf("%s: segment %d (%s, %d bytes) is not a byte-identical origin segment", name, i, s.URL, s.Size)
		}
		if prev >= 0 && n != prev+1 {
			t.Fatalf("%s: origin segment %d after %d", name, n, prev)
		}
		prev = n
	}
}

type stack struct {
	origin  *httptest.Server
	o       *origin.Origin
	tracker *tracker.Server
}

func startStack(t *testing.T, seg time.Duration) *stack {
	t.Helper()
	o := origin.New(origin.Config{Segment: seg})
	alt := origin.New(origin.Config{Segment: seg})
	mux := http.NewServeMux()
	mux.Handle("/live/", o)
	mux.Handle("/alt/", http.StripPrefix("/alt", alt))
	mux.HandleFunc("/master.m3u8", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "#EXTM3U\n#EXT-X-INDEPENDENT-SEGMENTS\n"+
			"#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=426x240\nlive/index.m3u8\n"+
			"#EXT-X-STREAM-INF:BANDWIDTH=400000,RESOLUTION=426x240\nalt/live/index.m3u8\n"+
			"#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=100000,URI=\"iframes.m3u8\"\n")
	})
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return &stack{origin: hs, o: o, tracker: startTracker(t)}
}

// startTracker runs an in-memory tracker on a free loopback port, closed when
// the test ends.
func startTracker(t *testing.T) *tracker.Server {
	t.Helper()
	tr, err := tracker.Start(tracker.ServerConfig{Listen: "127.0.0.1:0", Heartbeat: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close(context.Background()) })
	return tr
}

func (s *stack) viewer(t *testing.T, ctx context.Context, playlist string) (*proxy.Server, *httptest.Server) {
	t.Helper()
	srv, err := proxy.New(ctx, proxy.Config{Playlist: s.origin.URL + playlist,
		Node: peer.Config{Tracker: "ws://" + s.tracker.Addr + "/v1/ws", Loopback: true}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Close() })
	return srv, hs
}

func TestThreeViewersShareBytesIntact(t *testing.T) {
	st := startStack(t, time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hashes := originHashes(st.o)
	var wg sync.WaitGroup
	results := make([]player.Result, 3)
	var proxies []*proxy.Server
	var urls []string
	for i := range 3 {
		srv, hs := st.viewer(t, ctx, "/live/index.m3u8")
		proxies = append(proxies, srv)
		urls = append(urls, hs.URL)
		wg.Go(func() {
			pctx, pcancel := context.WithTimeout(ctx, 14*time.Second)
			defer pcancel()
			results[i], _ = player.Play(pctx, player.Config{URL: hs.URL + "/live.m3u8"})
		})
		time.Sleep(300 * time.Millisecond)
	}
	wg.Wait()
	var p2p, uploaded int64
	fed := 0
	for i, r := range results {
		checkBytes(t, fmt.Sprintf("viewer %d", i), r, hashes)
		if r.Stalls != 0 {
			t.Errorf("viewer %d: %d stalls (%v)", i, r.Stalls, r.StallTime)
		}
		s := proxies[i].Stats()
		p2p += s.BytesP2P
		if s.BytesP2P > 0 {
			fed++
		}
		uploaded += s.BytesUploaded
		if s.Peers != 2 {
			t.Errorf("viewer %d: %d links, want 2", i, s.Peers)
		}
	}
	m := get(t, urls[0]+"/metrics")
	if !strings.Contains(m, "p2phls_peer_links 2\n") || !strings.Contains(m, "p2phls_peer_p2p_bytes_total") ||
		!strings.Contains(m, "p2phls_peer_stalls_total 0\n") {
		t.Errorf("metrics:\n%s", m)
	}
	js := get(t, urls[0]+"/stats")
	for _, f := range []string{`"bytes_cdn"`, `"bytes_p2p"`, `"bytes_uploaded"`, `"stalls"`, `"peers"`} {
		if !strings.Contains(js, f) {
			t.Errorf("/stats has no %s: %s", f, js)
		}
	}
	if fed < 2 || uploaded == 0 {
		t.Fatalf("%d of 3 viewers got bytes from peers (%d bytes), %d uploaded: the viewers did not share", fed, p2p, uploaded)
	}
}

func TestMasterPlaylistRenditionsAreSwarms(t *testing.T) {
	st := startStack(t, time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, hs := st.viewer(t, ctx, "/master.m3u8")
	b := get(t, hs.URL+"/live.m3u8")
	if !strings.Contains(b, "r/0/live.m3u8") || !strings.Contains(b, "r/1/live.m3u8") ||
		!strings.Contains(b, "RESOLUTION=426x240") || strings.Contains(b, "iframes") {
		t.Fatalf("master:\n%s", b)
	}
	hashes := originHashes(st.o)
	for _, r := range []string{"r/0", "r/1"} {
		pctx, pcancel := context.WithTimeout(ctx, 6*time.Second)
		res, err := player.Play(pctx, player.Config{URL: hs.URL + "/" + r + "/live.m3u8"})
		pcancel()
		if err != nil {
			t.Fatal(err)
		}
		checkBytes(t, r, res, hashes)
	}
	resp, err := http.Get(hs.URL + "/r/7/live.m3u8")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown rendition: %d", resp.StatusCode)
	}
	sw := get(t, "http://"+st.tracker.Addr+"/v1/swarms")
	if !strings.Contains(sw, "live~index.m3u8") || !strings.Contains(sw, "alt~live~index.m3u8") {
		t.Fatalf("swarms: %s", sw)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// A player that asks for a segment before it is ready gets it as soon as a
// CDN fetch can bring it, not at the engine's own deadline: a lone viewer's
// second and third start segments would otherwise wait for the player's turn
// (2 s and 4 s away) because no peer is there to bring them.
func TestSegmentAskedEarlyComesAtCDNSpeed(t *testing.T) {
	st := startStack(t, 2*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, hs := st.viewer(t, ctx, "/live/index.m3u8")
	hashes := originHashes(st.o)
	var resp *http.Response
	var el time.Duration
	for range 100 { // until the node has read the origin's first playlist
		start := time.Now()
		r, err := http.Get(hs.URL + "/seg/2.ts")
		if err != nil {
			t.Fatal(err)
		}
		if r.StatusCode != http.StatusNotFound {
			resp, el = r, time.Since(start)
			break
		}
		r.Body.Close()
		time.Sleep(20 * time.Millisecond)
	}
	if resp == nil {
		t.Fatal("segment 2 never known")
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if _, ok := hashes[sha256.Sum256(b)]; resp.StatusCode != 200 || !ok {
		t.Fatalf("status %d, %d bytes, origin's: %v", resp.StatusCode, len(b), ok)
	}
	if el > time.Second {
		t.Fatalf("served after %v: the request did not pull the CDN fetch forward", el)
	}
	if resp, err := http.Get(hs.URL + "/seg/99.ts"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown segment: %v %v", resp.StatusCode, err)
	}
}

// The first playlist lists the whole start buffer (3 segments), and comes at
// CDN speed: the node pulls its start segments forward for it (without that,
// the last one would come at the player's turn, 4 s away).
func TestFirstPlaylistHasTheStartBufferAtCDNSpeed(t *testing.T) {
	st := startStack(t, 2*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, hs := st.viewer(t, ctx, "/live/index.m3u8")
	start := time.Now()
	p := get(t, hs.URL+"/live.m3u8")
	if el := time.Since(start); el > 1500*time.Millisecond {
		t.Errorf("first playlist after %v", el)
	}
	if !strings.Contains(p, "seg/0.ts") || !strings.Contains(p, "seg/2.ts") {
		t.Fatalf("first playlist without the start buffer:\n%s", p)
	}
}
