package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/p2phls/p2phls/bench"
	"github.com/p2phls/p2phls/internal/testbin"
	"github.com/p2phls/p2phls/origin"
)

// TestSwarmEndToEnd: origin + tracker + 10 `p2phls peer` processes on
// loopback for 60 s of live, each read by a model player; 3 peers SIGKILLed
// at 30 s and one stopped with SIGTERM at 45 s; ffmpeg decodes one peer's
// live.m3u8. The players of the peers left must see no stall, and every byte
// they got must be the origin's.
func TestSwarmEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("60 s of live")
	}
	testbin.Require(t, "ffmpeg")
	var ffOut bytes.Buffer
	var ffErr error
	var ffMu sync.Mutex
	res, err := bench.RunSwarm(context.Background(), bench.SwarmConfig{Bin: binPath, Peers: 10, Duration: 60 * time.Second,
		Kill: 3, Stop: 1, During: func(ctx context.Context, urls []string) {
			time.Sleep(5 * time.Second)
			cmd := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", urls[9], "-t", "20", "-f", "null", "-")
			out, err := cmd.CombinedOutput()
			ffMu.Lock()
			ffOut.Write(out)
			ffErr = err
			ffMu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	ffMu.Lock()
	if ffErr != nil || ffOut.Len() > 0 {
		t.Errorf("ffmpeg reading a peer's live.m3u8: %v\n%s", ffErr, ffOut.String())
	}
	ffMu.Unlock()
	checkPlayers(t, res, 25)
	// 3 of 10 killed at once (SIGKILL, the first to join: the roots): the
	// swarm re-forms. With 7 of 10 left the ceiling 1-1/N itself falls from
	// 0.90 to 0.86; the 90 % recovery is asserted on 20 peers
	// (TestThirtyPercentOfPeersKilled). Here: >= 0.8, which a swarm that does
	// not re-form (about 0.5) fails.
	before, after := res.Recovery()
	var windows []string
	for a := res.KillAt - 6; a < res.KillAt+14; a += 2 {
		windows = append(windows, fmt.Sprintf("%+.0fs %.2f", a-res.KillAt, res.OffloadBetween(a, a+2)))
	}
	t.Logf("swarm offload: %.3f before the kill, %.3f from 2 segments after it (%.2f of it); per 2 s around the kill: %s; root stripes at the end: %d",
		before, after, after/before, strings.Join(windows, ", "), rootStripes(res))
	if after < 0.8*before {
		t.Errorf("offload %.3f after the kill, want >= 0.8 x %.3f", after, before)
	}
	t.Logf("offload %.3f, stalls %d, delay p50 %.0f ms p95 %.0f ms, CPU/peer %.3f, RSS/peer %.1f MB, wire overhead %.3f",
		res.Offload, res.Stalls, res.DelayP50MS, res.DelayP95MS, res.CPUPerPeer, float64(res.RSSPerPeer)/1e6, res.ControlOverhead)
	if res.Offload < 0.80 {
		t.Errorf("offload %.3f, want >= 0.80", res.Offload)
	}
}

// The fan-out measure: children in another process receive what one sender pushes.
func TestFanoutAcrossProcesses(t *testing.T) {
	r, err := bench.RunFanout(context.Background(), binPath, 3, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if r.Mbps <= 0 || r.SenderCPU <= 0 {
		t.Fatalf("nothing measured: %+v", r)
	}
}

// One poisoner among 20 peers corrupts every piece it sends, in a swarm whose
// tracker publishes digests: no corrupted byte reaches any player, and every
// peer it fed drops it at the first bad block (so within the segment it
// poisoned; its bytes waiting in other segments are thrown away with it).
func TestPoisonerAmongTwentyPeers(t *testing.T) {
	if testing.Short() {
		t.Skip("40 s of live")
	}
	res, err := bench.RunSwarm(context.Background(), bench.SwarmConfig{Bin: binPath, Peers: 20, Duration: 40 * time.Second,
		Integrity: true, Poisoners: 1, Stagger: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	hashes := map[[32]byte]int64{}
	o := origin.New(origin.Config{})
	for n := int64(0); n < 200; n++ {
		hashes[sha256.Sum256(o.Segment(n))] = n
	}
	caught := 0
	for i, p := range res.PerPeer {
		for j, s := range p.Player.Segments {
			if _, ok := hashes[s.SHA]; !ok {
				t.Fatalf("peer %d segment %d (%s): corrupted bytes reached the player", i, j, s.URL)
			}
		}
		if len(p.Player.Segments) < 15 || p.Stalls != 0 {
			t.Errorf("peer %d: %d segments, %d stalls", i, len(p.Player.Segments), p.Stalls)
		}
		var st struct {
			Renditions []struct {
				Engine struct {
					BadBlocks int64 `json:"bad_blocks"`
				} `json:"engine"`
			} `json:"renditions"`
		}
		if err := json.Unmarshal(p.Stats, &st); err != nil || len(st.Renditions) == 0 {
			t.Fatalf("peer %d stats: %v %s", i, err, p.Stats)
		}
		bad := st.Renditions[0].Engine.BadBlocks
		if i > 0 && bad > 1 {
			t.Errorf("peer %d: %d bad blocks: the poisoner was not dropped at its first bad block", i, bad)
		}
		if bad > 0 {
			caught++
		}
	}
	if caught == 0 {
		t.Fatal("no peer ever got a bad block: the poisoner fed nobody, nothing was shown")
	}
	t.Logf("%d peers caught the poisoner; offload %.3f, stalls %d", caught, res.Offload, res.Stalls)
}

// checkPlayers: every peer that was not killed played at least least
// segments with no stall, each the origin's next segment byte for byte.
func checkPlayers(t *testing.T, res bench.SwarmResult, least int) {
	t.Helper()
	hashes := map[[32]byte]int64{}
	o := origin.New(origin.Config{})
	for n := int64(0); n < 200; n++ {
		hashes[sha256.Sum256(o.Segment(n))] = n
	}
	for i, p := range res.PerPeer {
		if p.Killed {
			continue
		}
		if p.Stalls != 0 {
			t.Errorf("peer %d: %d stalls (%v)", i, p.Stalls, p.Player.StallTime)
		}
		if len(p.Player.Segments) < least {
			t.Errorf("peer %d: only %d segments", i, len(p.Player.Segments))
		}
		prev := int64(-1)
		for j, s := range p.Player.Segments {
			n, ok := hashes[s.SHA]
			if !ok || prev >= 0 && n != prev+1 {
				t.Fatalf("peer %d segment %d (%s): not the origin's next segment (known %v, n %d after %d)", i, j, s.URL, ok, n, prev)
			}
			prev = n
		}
	}
}

// rootStripes counts the stripes the surviving peers fetch as roots.
func rootStripes(res bench.SwarmResult) int {
	n := 0
	for _, p := range res.PerPeer {
		var st struct {
			Renditions []struct {
				Engine struct {
					Roots int `json:"root_stripes"`
				} `json:"engine"`
			} `json:"renditions"`
		}
		if !p.Killed && json.Unmarshal(p.Stats, &st) == nil {
			for _, r := range st.Renditions {
				n += r.Engine.Roots
			}
		}
	}
	return n
}
