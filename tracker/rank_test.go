package tracker

import (
	"testing"
	"time"

	"github.com/p2phls/p2phls/tracker/peerstore"
)

func TestRankPrefersStableWithSpareUpload(t *testing.T) {
	now := time.Unix(10_000, 0)
	peers := []peerstore.Peer{
		{ID: "new-busy", Joined: now.Add(-5 * time.Second), UploadCap: 1000, UpRate: 1000},
		{ID: "old-spare", Joined: now.Add(-time.Hour), UploadCap: 1000, UpRate: 0},
		{ID: "old-busy", Joined: now.Add(-time.Hour), UploadCap: 1000, UpRate: 900},
		{ID: "asker", Joined: now.Add(-time.Hour), UploadCap: 5000},
	}
	got := Rank(peers, "asker", 10, now)
	if len(got) != 3 || got[0].ID != "old-spare" || got[1].ID != "old-busy" || got[2].ID != "new-busy" {
		t.Fatalf("rank = %v", ids(got))
	}
	if got := Rank(peers, "asker", 1, now); len(got) != 1 || got[0].ID != "old-spare" {
		t.Fatalf("rank size 1 = %v", ids(got))
	}
}

func TestRankShufflesEquals(t *testing.T) {
	now := time.Unix(10_000, 0)
	var peers []peerstore.Peer
	for _, id := range []string{"a", "b", "c", "d", "e", "f"} {
		peers = append(peers, peerstore.Peer{ID: id, Joined: now.Add(-time.Hour)})
	}
	firsts := map[string]bool{}
	for range 200 {
		firsts[Rank(peers, "", 1, now)[0].ID] = true
	}
	if len(firsts) < 4 {
		t.Fatalf("equal peers not spread: first picks %v", firsts)
	}
}
