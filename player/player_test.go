package player

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// Three 0.5 s segments; the third takes 1.5 s to come: the buffer runs dry
// once, for about 0.5 s. Every segment's hash is recorded.
func TestPlayCountsStallsAndHashes(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/live.m3u8", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n"+
			"#EXTINF:0.5,\ns0.ts\n#EXTINF:0.5,\ns1.ts\n#EXTINF:0.5,\ns2.ts\n#EXT-X-ENDLIST\n")
	})
	mux.HandleFunc("/s2.ts", func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(1500 * time.Millisecond)
		fmt.Fprint(w, "two")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.URL.Path) })
	hs := httptest.NewServer(mux)
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := Play(ctx, Config{URL: hs.URL + "/live.m3u8"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Segments) != 3 || res.Segments[2].SHA != sha256.Sum256([]byte("two")) ||
		res.Segments[0].SHA != sha256.Sum256([]byte("/s0.ts")) {
		t.Fatalf("segments %+v", res.Segments)
	}
	if res.Stalls != 1 || res.StallTime < 300*time.Millisecond || res.StallTime > 1500*time.Millisecond {
		t.Fatalf("stalls %d for %v, want 1 of about 0.5 s", res.Stalls, res.StallTime)
	}
}

func TestPlayNoStallWhenInTime(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/live.m3u8" {
			fmt.Fprint(w, "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\na.ts\n#EXTINF:1,\nb.ts\n#EXT-X-ENDLIST\n")
			return
		}
		fmt.Fprint(w, "x")
	}))
	defer hs.Close()
	res, err := Play(context.Background(), Config{URL: hs.URL + "/live.m3u8"})
	if err != nil || res.Stalls != 0 || len(res.Segments) != 2 {
		t.Fatalf("%+v %v", res, err)
	}
}
