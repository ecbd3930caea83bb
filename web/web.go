// Package web serves the browser side: the demo page with its live panel,
// the swarm overview page, the hls.js integration (p2phls-hlsjs.js) and the
// browser peer (p2phls.wasm, built from web/wasm by `make web`), compressed
// when the browser accepts it.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed static
var static embed.FS

//go:embed all:dist
var dist embed.FS

// ErrNotBuilt: the binary was built without `make web` (no p2phls.wasm).
var ErrNotBuilt = errors.New("web: the browser peer is not built into this binary: run `make web` then `make build`")

// ICEServer is a STUN/TURN server for the browser, as RTCPeerConnection takes it.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// Config is what the pages are told in /config.json.
type Config struct {
	Playlist    string      `json:"playlist"`    // what the player plays (master or media)
	Tracker     string      `json:"tracker"`     // ws://host/v1/ws
	TrackerHTTP string      `json:"trackerHTTP"` // http://host, for the swarm overview
	Swarm       string      `json:"swarm"`       // the swarm the overview shows
	ICEServers  []ICEServer `json:"iceServers,omitempty"`
	Loopback    bool        `json:"loopback"` // ask for a media device so Chromium offers loopback candidates
	CDNOnly     bool        `json:"cdnOnly"`
	// What every browser viewer of the page does (P2PHls core options of
	// the same names; docs/ARCHITECTURE.md, "Browser peer"):
	UploadCap  int64 `json:"uploadCap,omitempty"`  // bytes/s; 0 = 4× the stream
	LeafPull   bool  `json:"leafPull,omitempty"`   // leaf roots pull from neighbours instead of the CDN
	DeadlineMS int64 `json:"deadlineMs,omitempty"` // the player needs a segment this long after it appears; 0 = engine.DefaultDeadline
	PieceSize  int   `json:"pieceSize,omitempty"`  // bytes per piece sent to peers; 0 = by the segment's duration
	// Utilization: share of the upload cap given to children; 0 = 0.8.
	Utilization float64 `json:"utilization,omitempty"`
}

// Built says whether the browser peer is in this binary.
func Built() bool {
	_, err := fs.Stat(dist, "dist/p2phls.wasm")
	return err == nil
}

// Handler serves the pages and assets.
func Handler(cfg Config) http.Handler {
	conf, _ := json.Marshal(cfg)
	started := time.Now()
	tags := &etags{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /config.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(conf)
	})
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /{file...}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("file")
		if name == "" {
			name = "index.html"
		}
		if !serve(w, r, name, started, tags) {
			if name == "p2phls.wasm" {
				http.Error(w, ErrNotBuilt.Error(), http.StatusNotFound)
				return
			}
			http.NotFound(w, r)
		}
	})
	return mux
}

// etags holds each served file's entity tag (by name and encoding), so that
// the 7.8 MB wasm is hashed once, not per request.
type etags struct{ m sync.Map }

func (t *etags) of(key string, b []byte) string {
	if v, ok := t.m.Load(key); ok {
		return v.(string)
	}
	sum := sha256.Sum256(b)
	tag := `"` + hex.EncodeToString(sum[:12]) + `"`
	t.m.Store(key, tag)
	return tag
}

// serve writes file name from static/ or dist/, choosing a precompressed
// copy the client accepts (br, then gzip). Each copy has an entity tag from
// its content and "no-cache": a browser keeps it and asks each time whether
// it changed (304 when not), so a viewer who opens the page again does not
// download the wasm again (1.6 MB with br), and a new binary's files are
// never mixed with old ones (wasm_exec.js must match the wasm's Go).
func serve(w http.ResponseWriter, r *http.Request, name string, mod time.Time, tags *etags) bool {
	if strings.Contains(name, "..") || strings.HasSuffix(name, ".br") || strings.HasSuffix(name, ".gz") {
		return false
	}
	b, err := fs.ReadFile(static, path.Join("static", name))
	enc := ""
	if err != nil {
		b, enc, err = compressed(r, name)
	}
	if err != nil {
		return false
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Vary", "Accept-Encoding")
	if enc != "" {
		w.Header().Set("Content-Encoding", enc)
	}
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", tags.of(enc+"/"+name, b))
	http.ServeContent(w, r, name, mod, bytes.NewReader(b))
	return true
}

func compressed(r *http.Request, name string) ([]byte, string, error) {
	accept := r.Header.Get("Accept-Encoding")
	for _, c := range []struct{ enc, ext string }{{"br", ".br"}, {"gzip", ".gz"}} {
		if !strings.Contains(accept, c.enc) {
			continue
		}
		if b, err := fs.ReadFile(dist, path.Join("dist", name+c.ext)); err == nil {
			return b, c.enc, nil
		}
	}
	b, err := fs.ReadFile(dist, path.Join("dist", name))
	return b, "", err
}
