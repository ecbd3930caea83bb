package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/p2phls/p2phls/web"
)

func fetch(t *testing.T, h http.Handler, path, accept string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if accept != "" {
		req.Header.Set("Accept-Encoding", accept)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Result()
}

func TestHandlerServesPagesAndConfig(t *testing.T) {
	h := web.Handler(web.Config{Playlist: "http://o/live/index.m3u8", Tracker: "ws://t/v1/ws", Swarm: "s1", Loopback: true})
	r := fetch(t, h, "/", "")
	b, _ := io.ReadAll(r.Body)
	if r.StatusCode != 200 || !strings.Contains(string(b), "p2phls-hlsjs.js") || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("index: %d %s", r.StatusCode, r.Header)
	}
	r = fetch(t, h, "/config.json", "")
	var c web.Config
	if err := json.NewDecoder(r.Body).Decode(&c); err != nil || c.Swarm != "s1" || c.Tracker != "ws://t/v1/ws" || !c.Loopback {
		t.Fatalf("config: %+v %v", c, err)
	}
	for _, p := range []string{"/swarm.html", "/p2phls-hlsjs.js", "/app.js", "/chart.js", "/style.css"} {
		if r := fetch(t, h, p, ""); r.StatusCode != 200 {
			t.Errorf("%s: %d", p, r.StatusCode)
		}
	}
	for _, p := range []string{"/nope.js", "/p2phls.wasm.br", "/../web.go", "/static/index.html"} {
		if r := fetch(t, h, p, ""); r.StatusCode == 200 {
			t.Errorf("%s: %d, want none", p, r.StatusCode)
		}
	}
}

func TestWasmServedCompressed(t *testing.T) {
	if !web.Built() {
		t.Skip("browser peer not built: run `make web`")
	}
	h := web.Handler(web.Config{})
	plain := fetch(t, h, "/p2phls.wasm", "")
	raw, _ := io.ReadAll(plain.Body)
	if plain.Header.Get("Content-Type") != "application/wasm" || string(raw[:4]) != "\x00asm" {
		t.Fatalf("plain wasm: %s % x", plain.Header, raw[:4])
	}
	for _, enc := range []string{"br", "gzip"} {
		r := fetch(t, h, "/p2phls.wasm", "gzip, deflate, "+enc)
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Encoding") != enc || len(b) >= len(raw)/2 || r.Header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("%s: encoding %q, %d of %d bytes", enc, r.Header.Get("Content-Encoding"), len(b), len(raw))
		}
		t.Logf("p2phls.wasm: %d bytes raw, %d %s", len(raw), len(b), enc)
	}
}

// Every file has an entity tag of its own content and encoding, and
// "no-cache": a browser asks again each time and gets 304 while the file is
// the same, so it keeps its copy.
func TestFilesRevalidateByEntityTag(t *testing.T) {
	h := web.Handler(web.Config{})
	files := []string{"/p2phls-hlsjs.js", "/index.html"}
	if web.Built() {
		files = append(files, "/p2phls.wasm")
	}
	for _, p := range files {
		tags := map[string]bool{}
		for _, enc := range []string{"", "br"} {
			r := fetch(t, h, p, enc)
			tag := r.Header.Get("ETag")
			if r.StatusCode != 200 || len(tag) < 10 || r.Header.Get("Cache-Control") != "no-cache" {
				t.Fatalf("%s (%q): %d, ETag %q, Cache-Control %q", p, enc, r.StatusCode, tag, r.Header.Get("Cache-Control"))
			}
			tags[r.Header.Get("Content-Encoding")+tag] = true
			req := httptest.NewRequest(http.MethodGet, p, nil)
			req.Header.Set("If-None-Match", tag)
			if enc != "" {
				req.Header.Set("Accept-Encoding", enc)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusNotModified || w.Body.Len() != 0 {
				t.Errorf("%s (%q) again with its tag: %d and %d bytes, want 304 and none", p, enc, w.Code, w.Body.Len())
			}
			req.Header.Set("If-None-Match", `"0123456789abcdef"`)
			w = httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 200 {
				t.Errorf("%s (%q) with another tag: %d, want 200", p, enc, w.Code)
			}
		}
		if p == "/p2phls.wasm" && len(tags) != 2 {
			t.Errorf("%s: the plain and the br copies share a tag: %v", p, tags)
		}
	}
}
