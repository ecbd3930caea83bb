//go:build js && wasm

// Command wasm is the browser peer: the same peer.Node as `p2phls peer`,
// compiled to WebAssembly, behind a small JavaScript API that the hls.js
// integration (web/static/p2phls-hlsjs.js) calls:
//
//	p2phls.configure(json)           options: tracker, iceServers, relayOnly, stripes, maxUpload, consumeOnly, token, logLevel, leafPull, deadlineMs, pieceSize, utilization
//	p2phls.playlist(url) → Promise<string|null>    the origin's playlist without the tail not ready here
//	p2phls.segment(url, start, end, dueMs) → Promise<Uint8Array|null>  null: not this peer's (use the CDN);
//	    dueMs (optional, ≥ 0): the player plays it in that many ms
//	p2phls.stats() → string          JSON: the sum over the renditions being played, and each one
//	p2phls.stop()
//
// One node per media playlist URL, started on the first request for it and
// stopped after a minute without one (the player switched renditions).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"syscall/js"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/p2phls/p2phls/engine"
	"github.com/p2phls/p2phls/hls"
	"github.com/p2phls/p2phls/peer"
)

// options are what the page configures, in the names the JS side uses.
type options struct {
	Tracker     string             `json:"tracker"`
	ICEServers  []webrtc.ICEServer `json:"iceServers"`
	Stripes     int                `json:"stripes"`
	MaxUpload   int64              `json:"maxUpload"` // bytes/s
	ConsumeOnly bool               `json:"consumeOnly"`
	RelayOnly   bool               `json:"relayOnly"` // TURN only: peers never learn this viewer's address
	Token       string             `json:"token"`
	LogLevel    string             `json:"logLevel"`
	LeafPull    bool               `json:"leafPull"`    // peer.Config.LeafPull
	DeadlineMS  int64              `json:"deadlineMs"`  // peer.Config.Deadline; 0 = engine.DefaultDeadline
	PieceSize   int                `json:"pieceSize"`   // peer.Config.PieceSize; 0 = by the segment's duration
	Utilization float64            `json:"utilization"` // peer.Config.Utilization; 0 = 0.8
}

const idleStop = time.Minute

type running struct {
	node   *peer.Node
	cancel context.CancelFunc
	used   time.Time
}

type bridge struct {
	mu    sync.Mutex
	opt   options
	log   *slog.Logger
	nodes map[string]*running
}

func main() {
	b := &bridge{nodes: map[string]*running{}, log: newLogger("warn")}
	api := js.Global().Get("Object").New()
	api.Set("configure", js.FuncOf(b.configure))
	api.Set("playlist", js.FuncOf(b.playlist))
	api.Set("segment", js.FuncOf(b.segment))
	api.Set("stats", js.FuncOf(b.stats))
	api.Set("stop", js.FuncOf(b.stop))
	js.Global().Set("p2phls", api)
	if f := js.Global().Get("onP2PHLSReady"); f.Type() == js.TypeFunction {
		f.Invoke()
	}
	go b.reapIdle()
	select {}
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

func (b *bridge) configure(_ js.Value, args []js.Value) any {
	if len(args) != 1 || args[0].Type() != js.TypeString {
		return "configure: want one JSON string"
	}
	var o options
	if err := json.Unmarshal([]byte(args[0].String()), &o); err != nil {
		return fmt.Sprintf("configure: %v", err)
	}
	if o.DeadlineMS < 0 || o.MaxUpload < 0 {
		return "configure: deadlineMs and maxUpload must be >= 0"
	}
	if err := engine.CheckPieceSize(o.PieceSize); err != nil {
		return fmt.Sprintf("configure: pieceSize %v", err)
	}
	if err := engine.CheckUtilization(o.Utilization); err != nil {
		return fmt.Sprintf("configure: utilization %v", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.opt = o
	b.log = newLogger(o.LogLevel)
	return nil
}

// node returns the node for a media playlist, starting it if needed.
func (b *bridge) node(url string) (*peer.Node, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if r := b.nodes[url]; r != nil {
		r.used = time.Now()
		return r.node, nil
	}
	o := b.opt
	n, err := peer.New(peer.Config{Playlist: url, Tracker: o.Tracker, ICEServers: o.ICEServers,
		Stripes: o.Stripes, MaxUpload: o.MaxUpload, ConsumeOnly: o.ConsumeOnly, Token: o.Token, RelayOnly: o.RelayOnly,
		LeafPull: o.LeafPull, Deadline: time.Duration(o.DeadlineMS) * time.Millisecond, PieceSize: o.PieceSize, Utilization: o.Utilization,
		Logger: b.log.With("playlist", url)})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.nodes[url] = &running{node: n, cancel: cancel, used: time.Now()}
	go func() {
		if err := n.Run(ctx); err != nil {
			b.log.Error("peer stopped", "playlist", url, "err", err)
		}
	}()
	return n, nil
}

func (b *bridge) playlist(_ js.Value, args []js.Value) any {
	url := hls.WithoutDirectives(arg(args, 0)) // one node per playlist, however hls.js reloads it
	return promise(func() (any, error) {
		n, err := b.node(url)
		if err != nil {
			return nil, err
		}
		if p, ok := n.OriginPlaylist(); ok {
			return string(p), nil
		}
		return js.Null(), nil
	})
}

func (b *bridge) segment(_ js.Value, args []js.Value) any {
	url := arg(args, 0)
	var r *hls.ByteRange
	if len(args) >= 3 && args[1].Type() == js.TypeNumber && args[2].Type() == js.TypeNumber {
		if s, e := int64(args[1].Int()), int64(args[2].Int()); e > s {
			r = &hls.ByteRange{Start: s, Length: e - s}
		}
	}
	due := time.Duration(-1) // not known
	if len(args) >= 4 && args[3].Type() == js.TypeNumber && args[3].Float() >= 0 {
		due = time.Duration(args[3].Float() * float64(time.Millisecond))
	}
	return promise(func() (any, error) {
		b.mu.Lock()
		var nodes []*peer.Node
		for _, x := range b.nodes {
			nodes = append(nodes, x.node)
		}
		b.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, n := range nodes {
			data, err := n.SegmentByURL(ctx, url, r, due)
			if errors.Is(err, peer.ErrUnknownSegment) {
				continue
			}
			if err != nil {
				return js.Null(), nil
			}
			u := js.Global().Get("Uint8Array").New(len(data))
			js.CopyBytesToJS(u, data)
			return u, nil
		}
		return js.Null(), nil
	})
}

// total is the sum over the renditions being played.
type total struct {
	BytesCDN      int64   `json:"bytes_cdn"`
	BytesP2P      int64   `json:"bytes_p2p"`
	BytesUploaded int64   `json:"bytes_uploaded"`
	Stalls        int64   `json:"stalls"`
	Peers         int     `json:"peers"`
	Segments      int64   `json:"segments"`
	Offload       float64 `json:"offload"`
	DelayP95MS    float64 `json:"extra_delay_p95_ms"` // the worst rendition's
	LeafPulls     int64   `json:"leaf_pulls"`
	Roots         int     `json:"root_stripes"`
	CDNDeadline   int64   `json:"bytes_cdn_deadline"`
}

// stats is the total and each rendition's own counters.
func (b *bridge) stats(js.Value, []js.Value) any {
	b.mu.Lock()
	var all []peer.Stats
	for _, r := range b.nodes {
		all = append(all, r.node.Stats())
	}
	b.mu.Unlock()
	var sum total
	for _, s := range all {
		sum.BytesCDN += s.BytesCDN
		sum.BytesP2P += s.BytesP2P
		sum.BytesUploaded += s.BytesUploaded
		sum.Stalls += s.Stalls
		sum.Peers += s.Peers
		sum.Segments += s.Segments
		sum.LeafPulls += s.Engine.LeafPulls
		sum.Roots += s.Engine.Roots
		sum.CDNDeadline += s.Engine.CDNDeadline
		sum.DelayP95MS = max(sum.DelayP95MS, s.DelayP95MS)
	}
	if t := sum.BytesCDN + sum.BytesP2P; t > 0 {
		sum.Offload = float64(sum.BytesP2P) / float64(t)
	}
	out, _ := json.Marshal(map[string]any{"total": sum, "renditions": all})
	return string(out)
}

func (b *bridge) stop(js.Value, []js.Value) any {
	b.mu.Lock()
	defer b.mu.Unlock()
	for u, r := range b.nodes {
		r.cancel()
		delete(b.nodes, u)
	}
	return nil
}

func (b *bridge) reapIdle() {
	for range time.Tick(10 * time.Second) {
		b.mu.Lock()
		for u, r := range b.nodes {
			if time.Since(r.used) > idleStop {
				b.log.Info("rendition idle: leaving its swarm", "playlist", u)
				r.cancel()
				delete(b.nodes, u)
			}
		}
		b.mu.Unlock()
	}
}

func arg(args []js.Value, i int) string {
	if i < len(args) && args[i].Type() == js.TypeString {
		return args[i].String()
	}
	return ""
}

// promise runs f on its own goroutine (a js.Func must not block) and
// settles a JS Promise with its result.
func promise(f func() (any, error)) js.Value {
	var h js.Func
	h = js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		go func() {
			defer h.Release()
			v, err := f()
			if err != nil {
				reject.Invoke(js.Global().Get("Error").New(err.Error()))
				return
			}
			resolve.Invoke(v)
		}()
		return nil
	})
	return js.Global().Get("Promise").New(h)
}
