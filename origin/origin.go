// Package origin is a live HLS test origin: it loops a short clip (embedded,
// or a folder of .ts segments) as a sliding-window live playlist, with knobs
// that make it slow or failing like a real CDN on a bad day.
package origin

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed clip/*.ts
var clipFS embed.FS

// ErrNoSegments is returned for a clip folder without .ts files.
var ErrNoSegments = errors.New("origin: no .ts segments")

// Clip is the looped material: segments played in order, then again.
type Clip struct {
	Segments [][]byte
	etags    []string
	loop     loopMeta
}

func newClip(segs [][]byte) *Clip {
	c := &Clip{Segments: segs, loop: measureLoop(segs)}
	for _, s := range segs {
		sum := sha256.Sum256(s)
		c.etags = append(c.etags, `"`+hex.EncodeToString(sum[:8])+`"`)
	}
	return c
}

// BuiltinClip is the embedded 12 s clip (scripts/make-clip.sh).
func BuiltinClip() *Clip {
	c, err := loadFS(clipFS, "clip")
	if err != nil {
		panic(err) // the embed is part of the build
	}
	return c
}

// LoadDir loads a folder's .ts segments, in name order (seg2 before seg10).
func LoadDir(dir string) (*Clip, error) { return loadFS(os.DirFS(dir), ".") }

func loadFS(fsys fs.FS, dir string) (*Clip, error) {
	names, err := fs.Glob(fsys, filepath.Join(dir, "*.ts"))
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%w in %s", ErrNoSegments, dir)
	}
	sort.Slice(names, func(i, j int) bool { return natLess(names[i], names[j]) })
	segs := make([][]byte, len(names))
	for i, n := range names {
		if segs[i], err = fs.ReadFile(fsys, n); err != nil {
			return nil, err
		}
	}
	return newClip(segs), nil
}

// natLess orders names by length then lexically, so seg2 < seg10.
func natLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// Config configures an Origin. Zero values take the defaults noted.
type Config struct {
	Clip     *Clip            // default BuiltinClip
	Segment  time.Duration    // segment duration and publishing pace, default 2s
	Window   int              // segments in the playlist, default 6
	Latency  time.Duration    // added before every response
	FailRate float64          // fraction of segment requests answered 503
	Rate     int64            // bytes/s cap per response, 0 = none
	Now      func() time.Time // default time.Now
	Rand     *rand.Rand       // for FailRate; default seeded randomly
	Logger   *slog.Logger
	// BlockingReload offers blocking playlist reloads (block.go):
	// EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES, and a playlist request
	// with _HLS_msn=N is answered when segment N exists.
	BlockingReload bool
}

// Origin serves /live/index.m3u8 and /live/seg{N}.ts.
type Origin struct {
	cfg   Config
	start time.Time
	mu    sync.Mutex // guards cfg.Rand
}

// New returns an origin whose stream starts now with a full window.
func New(cfg Config) *Origin {
	if cfg.Clip == nil {
		cfg.Clip = BuiltinClip()
	}
	if cfg.Segment <= 0 {
		cfg.Segment = 2 * time.Second
	}
	if cfg.Window <= 0 {
		cfg.Window = 6
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Origin{cfg: cfg, start: cfg.Now()}
}

// published is how many segments exist at now: a full window at start, one
// more every segment duration.
func (o *Origin) published() int64 {
	return int64(o.cfg.Window) + int64(o.cfg.Now().Sub(o.start)/o.cfg.Segment)
}

// Playlist renders the live playlist as it stands now.
func (o *Origin) Playlist() []byte {
	p := o.published()
	first := p - int64(o.cfg.Window)
	k := int64(len(o.cfg.Clip.Segments))
	var disc int64
	if first > 0 {
		disc = (first - 1) / k // discontinuities on segments 1..first-1 that have left the window
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:%d\n", int((o.cfg.Segment+time.Second-1)/time.Second))
	fmt.Fprintf(&b, "#EXT-X-MEDIA-SEQUENCE:%d\n#EXT-X-DISCONTINUITY-SEQUENCE:%d\n", first, disc)
	if o.cfg.BlockingReload {
		b.WriteString("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES\n")
	}
	for n := first; n < p; n++ {
		if n > 0 && n%k == 0 {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		at := o.start.Add(time.Duration(n-int64(o.cfg.Window)) * o.cfg.Segment).UTC()
		fmt.Fprintf(&b, "#EXT-X-PROGRAM-DATE-TIME:%s\n", at.Format("2006-01-02T15:04:05.000Z"))
		fmt.Fprintf(&b, "#EXTINF:%.3f,\nseg%d.ts\n", o.cfg.Segment.Seconds(), n)
	}
	return b.Bytes()
}

// ServeHTTP implements http.Handler.
func (o *Origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if o.cfg.Latency > 0 {
		select {
		case <-time.After(o.cfg.Latency):
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Access-Control-Expose-Headers", "Content-Length, Content-Range")
	switch {
	case r.URL.Path == "/live/index.m3u8":
		if err := o.hold(r); err != nil {
			o.cfg.Logger.Warn("playlist request refused", "query", r.URL.RawQuery, "err", err)
			http.Error(w, err.Error(), statusOf(err))
			return
		}
		w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(o.Playlist()))
	case strings.HasPrefix(r.URL.Path, "/live/seg") && strings.HasSuffix(r.URL.Path, ".ts"):
		o.serveSegment(w, r)
	case r.URL.Path == "/healthz":
		w.WriteHeader(http.StatusOK)
	default:
		http.NotFound(w, r)
	}
}

func (o *Origin) fail() bool {
	if o.cfg.FailRate <= 0 {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.cfg.Rand.Float64() < o.cfg.FailRate
}

func (o *Origin) serveSegment(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/live/seg"), ".ts"), 10, 64)
	p := o.published()
	// Retired segments stay fetchable for one more window, as on a CDN.
	if err != nil || n < 0 || n >= p || n < p-2*int64(o.cfg.Window) {
		http.NotFound(w, r)
		return
	}
	if o.fail() {
		http.Error(w, "injected failure", http.StatusServiceUnavailable)
		return
	}
	body := o.Segment(n)
	w.Header().Set("Content-Type", "video/mp2t")
	w.Header().Set("Cache-Control", "public, max-age=60, immutable")
	w.Header().Set("ETag", fmt.Sprintf(`%s-%d"`, strings.TrimSuffix(o.cfg.Clip.etags[o.clipIndex(n)], `"`), o.loop(n)))
	var out http.ResponseWriter = w
	if o.cfg.Rate > 0 {
		out = &throttled{ResponseWriter: w, rate: o.cfg.Rate}
	}
	http.ServeContent(out, r, "", o.start, bytes.NewReader(body))
}

func (o *Origin) clipIndex(n int64) int { return int(n % int64(len(o.cfg.Clip.Segments))) }
func (o *Origin) loop(n int64) int64    { return n / int64(len(o.cfg.Clip.Segments)) }

// Segment returns the bytes of live segment n as the origin serves them.
func (o *Origin) Segment(n int64) []byte {
	return rewriteLoop(o.cfg.Clip.Segments[o.clipIndex(n)], o.cfg.Clip.loop, o.loop(n))
}

// throttled caps a response at rate bytes/s.
type throttled struct {
	http.ResponseWriter
	rate int64
}

func (t *throttled) Write(b []byte) (int, error) {
	const chunk = 16 << 10
	n := 0
	for len(b) > 0 {
		c := min(len(b), chunk)
		time.Sleep(time.Duration(int64(c) * int64(time.Second) / t.rate))
		m, err := t.ResponseWriter.Write(b[:c])
		n += m
		if err != nil {
			return n, err
		}
		if f, ok := t.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		b = b[c:]
	}
	return n, nil
}
