package main

import (
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/p2phls/p2phls/web"
)

// TestWebPassesViewerOptionsToThePage: `p2phls web` flags for the browser
// viewers (upload cap, leaf pulls, deadline, piece, utilization) reach the page's config.json,
// which app.js hands to P2PHls; bad values stop the command with a message.
func TestWebPassesViewerOptionsToThePage(t *testing.T) {
	_, addr := startProc(t, "web", "--listen", "127.0.0.1:0", "--playlist", "http://127.0.0.1:1/live/index.m3u8",
		"--tracker", "ws://127.0.0.1:2/v1/ws", "--max-upload", "62.5k", "--leaf-pull", "--deadline", "5s", "--piece", "4096", "--utilization", "0.875")
	resp, err := http.Get("http://" + addr + "/config.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c web.Config
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		t.Fatal(err)
	}
	if c.UploadCap != 62500 || !c.LeafPull || c.DeadlineMS != 5000 || c.PieceSize != 4096 || c.Utilization != 0.875 || c.Tracker != "ws://127.0.0.1:2/v1/ws" {
		t.Fatalf("config.json: %+v, want uploadCap 62500, leafPull, deadlineMs 5000, pieceSize 4096, utilization 0.875", c)
	}
	for _, bad := range [][]string{{"--max-upload", "fast"}, {"--deadline", "-1s"}, {"--piece", "100"}, {"--utilization", "1.5"}} {
		args := append([]string{"web", "--listen", "127.0.0.1:0", "--playlist", "http://127.0.0.1:1/live/index.m3u8"}, bad...)
		out, err := exec.Command(binPath, args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), bad[0]) {
			t.Errorf("web %v: err %v, output %q: want a failure naming %s", bad, err, out, bad[0])
		}
	}
}
