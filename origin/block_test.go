package origin

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/p2phls/p2phls/hls"
)

// newest parses a playlist response and returns its newest media sequence
// number and whether it offers blocking reloads.
func newest(t *testing.T, r *http.Response) (int64, bool) {
	t.Helper()
	b, _ := io.ReadAll(r.Body)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", r.StatusCode, b)
	}
	m, _, err := hls.Parse("http://o/live/index.m3u8", b)
	if err != nil || m == nil {
		t.Fatalf("parse: %v", err)
	}
	return m.Segments[len(m.Segments)-1].Seq, m.CanBlockReload
}

// A reload asking for the next segment (_HLS_msn) is held until the origin
// publishes it, then lists it; malformed or far-ahead directives get 400.
func TestBlockingReload(t *testing.T) {
	o := New(Config{Segment: 150 * time.Millisecond, Window: 3, BlockingReload: true})
	last, offered := newest(t, get(t, o, "GET", "/live/index.m3u8"))
	if !offered {
		t.Fatal("EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES missing")
	}
	for want := last + 1; want <= last+3; want++ {
		got, _ := newest(t, get(t, o, "GET", fmt.Sprintf("/live/index.m3u8?_HLS_msn=%d", want)))
		if got < want {
			t.Fatalf("_HLS_msn=%d answered with newest %d: not held until published", want, got)
		}
	}
	now, _ := newest(t, get(t, o, "GET", "/live/index.m3u8"))
	for _, q := range []string{"abc", "-1", fmt.Sprint(now + 3)} {
		if r := get(t, o, "GET", "/live/index.m3u8?_HLS_msn="+q); r.StatusCode != http.StatusBadRequest {
			t.Fatalf("_HLS_msn=%s: status %d, want 400", q, r.StatusCode)
		}
	}
	// An origin that does not offer it answers at once, as a plain reload.
	plain := New(Config{Segment: time.Hour, Window: 3})
	got, offered := newest(t, get(t, plain, "GET", "/live/index.m3u8?_HLS_msn=4"))
	if offered || got != 2 {
		t.Fatalf("plain origin: newest %d, offered %v; want 2, false", got, offered)
	}
}
