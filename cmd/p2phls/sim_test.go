package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// `p2phls sim --cpuprofile FILE` runs the simulation and leaves a CPU
// profile (gzip-compressed protobuf, as go tool pprof reads) beside the
// report; a path it cannot create fails the command before any run.
func TestSimWritesACPUProfile(t *testing.T) {
	prof := filepath.Join(t.TempDir(), "cpu.prof")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"sim", "--peers", "5", "--duration", "10s", "--join-over", "2s", "--json", "--cpuprofile", prof}, &out); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Peers int `json:"peers"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep.Peers != 5 {
		t.Fatalf("report: %v %+v", err, rep)
	}
	b, err := os.ReadFile(prof)
	if err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("profile: %v, %d bytes, want a gzip stream", err, len(b))
	}
	err = run(context.Background(), []string{"sim", "--peers", "5", "--cpuprofile", filepath.Join(t.TempDir(), "no", "such", "dir", "cpu.prof")}, &out)
	if err == nil {
		t.Fatal("an uncreatable profile path was accepted")
	}
}
