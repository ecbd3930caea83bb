package main

import (
	"os/exec"
	"strings"
	"testing"
)

func TestParseRate(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "500000": 500000, "500k": 500000, "2M": 2000000, "4Mbit": 500000, "800kbit": 100000} {
		if got, err := parseRate(in); err != nil || got != want {
			t.Errorf("parseRate(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "fast", "-1", "2X"} {
		if _, err := parseRate(bad); err == nil {
			t.Errorf("parseRate(%q) accepted", bad)
		}
	}
}

func TestParseICE(t *testing.T) {
	s, err := parseICE("stun:stun.example:3478, turn:alice:secret@turn.example:3478?transport=udp")
	if err != nil || len(s) != 2 {
		t.Fatalf("%v %v", s, err)
	}
	if s[0].URLs[0] != "stun:stun.example:3478" || s[0].Username != "" {
		t.Errorf("stun: %+v", s[0])
	}
	if s[1].URLs[0] != "turn:turn.example:3478?transport=udp" || s[1].Username != "alice" || s[1].Credential != "secret" {
		t.Errorf("turn: %+v", s[1])
	}
	if _, err := parseICE("nocolon"); err == nil {
		t.Error("a server without a scheme accepted")
	}
}

// `p2phls peer --piece` takes 0 (the engine's 16 KiB) or 1 KiB to 64 KiB;
// anything else stops the command with a message naming the flag.
func TestPeerRefusesAPieceSizeOutOfBounds(t *testing.T) {
	for _, bad := range []string{"100", "65537", "-4096", "big"} {
		out, err := exec.Command(binPath, "peer", "--playlist", "http://127.0.0.1:1/live.m3u8", "--piece", bad).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "piece") {
			t.Errorf("peer --piece %s: err %v, output %q: want a failure naming --piece", bad, err, out)
		}
	}
}

// `p2phls peer --utilization` (and `bench swarm`'s, for its peers) takes 0
// (the engine's 0.8) or a share in (0, 1]; anything else stops the command
// with a message naming the flag, before anything starts.
func TestPeerRefusesAUtilizationOutOfBounds(t *testing.T) {
	for _, bad := range []string{"1.5", "-0.2", "NaN", "most"} {
		out, err := exec.Command(binPath, "peer", "--playlist", "http://127.0.0.1:1/live.m3u8", "--utilization", bad).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "utilization") {
			t.Errorf("peer --utilization %s: err %v, output %q: want a failure naming --utilization", bad, err, out)
		}
		out, err = exec.Command(binPath, "bench", "swarm", "--utilization", bad).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "utilization") {
			t.Errorf("bench swarm --utilization %s: err %v, output %q: want a failure naming --utilization", bad, err, out)
		}
	}
}

// `bench swarm --max-upload` takes a rate as `peer --max-upload` does, and
// stops with a message naming the flag on anything else.
func TestBenchSwarmRefusesABadMaxUpload(t *testing.T) {
	for _, bad := range []string{"fast", "-1M"} {
		out, err := exec.Command(binPath, "bench", "swarm", "--max-upload", bad).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "max-upload") {
			t.Errorf("bench swarm --max-upload %s: err %v, output %q: want a failure naming --max-upload", bad, err, out)
		}
	}
}
