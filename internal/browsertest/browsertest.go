// Package browsertest drives the web page in headless Chromium for tests:
// web/e2e/viewers.mjs (playwright-core, Debian's chromium) opens it in a few
// pages and reports what each saw.
package browsertest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/p2phls/p2phls/internal/testbin"
	"github.com/p2phls/p2phls/web"
)

// Page is what web/e2e/viewers.mjs reports for one page.
type Page struct {
	StartTime   float64  `json:"startTime"`
	CurrentTime float64  `json:"currentTime"`
	Errors      []string `json:"errors"`
	Waiting     int      `json:"waiting"`
	Stalls      int      `json:"stalls"`
	Wasm        bool     `json:"wasm"`
	ChartP2P    int64    `json:"chartP2P"` // P2P bytes drawn in the page's chart
	Stats       *struct {
		BytesCDN      int64 `json:"bytes_cdn"`
		BytesP2P      int64 `json:"bytes_p2p"`
		BytesUploaded int64 `json:"bytes_uploaded"`
		Peers         int   `json:"peers"`
		LeafPulls     int64 `json:"leaf_pulls"`
		Roots         int   `json:"root_stripes"`
		CDNDeadline   int64 `json:"bytes_cdn_deadline"`
	} `json:"stats"`
	Fed []Fed `json:"fed"`
}

// Fed is one fragment a page handed to hls.js.
type Fed struct {
	URL    string `json:"url"`
	SHA256 string `json:"sha256"`
	Source string `json:"source"` // p2phls pages: "p2p" (through the peer) or "http" (hls.js's own loader)
	Bytes  int64  `json:"bytes"`
}

// Require ends the test (skip locally,
// fail under CI=true) when the browser side cannot run.
func Require(t *testing.T) {
	t.Helper()
	testbin.Require(t, "chromium")
	testbin.Require(t, "node")
	_, err := os.Stat(filepath.Join(root(), "node_modules/playwright-core"))
	if err != nil || !web.Built() {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browser side not built (run `make web`): playwright-core %v, wasm built %v", err, web.Built())
		}
		t.Skip("browser side not built: run `make web`")
	}
}

// Hashes maps the hex SHA-256 of the origin's first n segments to their
// numbers (o.Segment: the built-in clip's bytes, the same in every origin).
func Hashes(segment func(int64) []byte, n int64) map[string]int64 {
	m := map[string]int64{}
	for i := range n {
		s := sha256.Sum256(segment(i))
		m[hex.EncodeToString(s[:])] = i
	}
	return m
}

// CheckFed: every segment hls.js got is byte-identical to the origin segment
// its URL names (/live/seg{N}.ts), and together they run from the first to
// the last with none skipped. The order is hls.js's: it may take a segment
// again or step back one (a live start that backtracks), which is logged.
func CheckFed(t *testing.T, name string, fed []Fed, hashes map[string]int64, least int) {
	t.Helper()
	if len(fed) < least {
		t.Fatalf("%s: only %d segments fed to hls.js", name, len(fed))
	}
	seen := map[int64]bool{}
	lo, hi, prev := int64(math.MaxInt64), int64(-1), int64(-1)
	for i, f := range fed {
		m := segRe.FindStringSubmatch(f.URL)
		if m == nil {
			t.Fatalf("%s: segment %d has an URL not from the origin: %s", name, i, f.URL)
		}
		want, _ := strconv.ParseInt(m[1], 10, 64)
		if n, ok := hashes[f.SHA256]; !ok || n != want {
			t.Fatalf("%s: segment %d (%s, via %s) is not byte-identical to origin segment %d", name, i, f.URL, f.Source, want)
		}
		if prev >= 0 && want != prev+1 {
			t.Logf("%s: hls.js asked for segment %d after %d", name, want, prev)
		}
		seen[want], prev, lo, hi = true, want, min(lo, want), max(hi, want)
	}
	for n := lo; n <= hi; n++ {
		if !seen[n] {
			t.Fatalf("%s: origin segment %d never fed to hls.js (fed %d to %d)", name, n, lo, hi)
		}
	}
}

var segRe = regexp.MustCompile(`/seg(\d+)\.ts$`)

// Run drives the page in headless Chromium (web/e2e/viewers.mjs).
func Run(t *testing.T, url string, pages int, d time.Duration, shot string) []Page {
	t.Helper()
	dir := os.Getenv("P2PHLS_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(root(), "test-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shotPath, _ := filepath.Abs(filepath.Join(dir, shot))
	var r struct {
		Pages []Page `json:"pages"`
	}
	Script(t, &r, "web/e2e/viewers.mjs", "--url", url, "--pages", fmt.Sprint(pages),
		"--seconds", fmt.Sprint(int(d.Seconds())), "--screenshot", shotPath)
	t.Logf("screenshot: %s", shotPath)
	return r.Pages
}

// Script runs a node script of the repository (path from its root) that
// prints one JSON object, decodes it into out and logs its "logs".
func Script(t *testing.T, out any, script string, args ...string) {
	t.Helper()
	cmd := exec.Command("node", append([]string{filepath.Join(root(), script)}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, stderr.Bytes())
	}
	var logs struct {
		Logs []string `json:"logs"`
	}
	if err := json.Unmarshal(b, out); err != nil || json.Unmarshal(b, &logs) != nil {
		t.Fatalf("%s output: %v\n%s", script, err, b)
	}
	for _, l := range logs.Logs {
		t.Log(l)
	}
}

// root is the repository's directory.
func root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "../..")
}
