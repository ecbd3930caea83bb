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
