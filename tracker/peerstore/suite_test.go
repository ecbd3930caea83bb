package peerstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/p2phls/p2phls/internal/redistest"
	"github.com/p2phls/p2phls/tracker/peerstore"
)

type storeBus interface {
	peerstore.Store
	peerstore.Bus
}

// One suite, run against every implementation.
func runSuite(t *testing.T, newStore func(t *testing.T) storeBus) {
	ctx := context.Background()
	peer := func(swarm, id string) peerstore.Peer {
		return peerstore.Peer{ID: id, Swarm: swarm, Node: "n1", Joined: time.Now().Truncate(time.Millisecond)}
	}
	t.Run("PutGetListRemove", func(t *testing.T) {
		s := newStore(t)
		for _, id := range []string{"a", "b", "c"} {
			if err := s.Put(ctx, peer("s1", id), time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		_ = s.Put(ctx, peer("s2", "x"), time.Minute)
		got, err := s.Get(ctx, "s1", "b")
		if err != nil || got.ID != "b" || got.Node != "n1" {
			t.Fatalf("Get = %+v, %v", got, err)
		}
		if _, err := s.Get(ctx, "s2", "b"); !errors.Is(err, peerstore.ErrNotFound) {
			t.Fatalf("Get in other swarm: %v, want ErrNotFound", err)
		}
		if l, _ := s.List(ctx, "s1"); len(l) != 3 {
			t.Fatalf("List = %d peers, want 3", len(l))
		}
		if err := s.Remove(ctx, "s1", "b"); err != nil {
			t.Fatal(err)
		}
		if l, _ := s.List(ctx, "s1"); len(l) != 2 {
			t.Fatalf("after Remove: %d peers, want 2", len(l))
		}
		sw, _ := s.Swarms(ctx)
		if len(sw) != 2 || sw[0].Peers+sw[1].Peers != 3 {
			t.Fatalf("Swarms = %+v", sw)
		}
		if _, err := s.Swarm(ctx, "nope"); !errors.Is(err, peerstore.ErrNotFound) {
			t.Fatalf("Swarm(nope) = %v", err)
		}
	})
	t.Run("Expiry", func(t *testing.T) {
		s := newStore(t)
		_ = s.Put(ctx, peer("s", "short"), 150*time.Millisecond)
		_ = s.Put(ctx, peer("s", "long"), time.Minute)
		_ = s.Put(ctx, peer("s", "kept"), 150*time.Millisecond)
		for range 4 { // keep refreshing "kept" past the others' expiry
			time.Sleep(60 * time.Millisecond)
			if err := s.Refresh(ctx, []peerstore.Peer{peer("s", "kept")}, 150*time.Millisecond); err != nil {
				t.Fatal(err)
			}
		}
		l, _ := s.List(ctx, "s")
		if len(l) != 2 || l[0].ID == "short" || l[1].ID == "short" {
			t.Fatalf("after expiry: %+v, want long and kept", l)
		}
		if _, err := s.Get(ctx, "s", "short"); !errors.Is(err, peerstore.ErrNotFound) {
			t.Fatalf("expired peer still found: %v", err)
		}
	})
	t.Run("Sample", func(t *testing.T) {
		s := newStore(t)
		for i := range 100 {
			_ = s.Put(ctx, peer("big", fmt.Sprint("p", i)), time.Minute)
		}
		_ = s.Put(ctx, peer("big", "gone"), 100*time.Millisecond)
		_ = s.Put(ctx, peer("small", "a"), time.Minute)
		_ = s.Put(ctx, peer("small", "b"), time.Minute)
		time.Sleep(150 * time.Millisecond)
		seen := map[string]int{}
		for range 20 {
			got, err := s.Sample(ctx, "big", 10)
			if err != nil || len(got) != 10 {
				t.Fatalf("Sample(big, 10) = %d peers, %v; want 10", len(got), err)
			}
			ids := map[string]bool{}
			for _, p := range got {
				if ids[p.ID] || p.ID == "gone" || p.Swarm != "big" || p.Node != "n1" {
					t.Fatalf("Sample(big, 10) = %+v: a repeat, an expired or a foreign peer", got)
				}
				ids[p.ID] = true
				seen[p.ID]++
			}
		}
		if len(seen) < 60 { // 200 draws from 100: about 87 different expected
			t.Errorf("20 samples of 10 touched %d of 100 peers: not random", len(seen))
		}
		if got, _ := s.Sample(ctx, "small", 10); len(got) != 2 {
			t.Errorf("Sample(small, 10) = %+v, want both", got)
		}
		if got, err := s.Sample(ctx, "nope", 10); len(got) != 0 || err != nil {
			t.Errorf("Sample(nope) = %+v, %v; want none", got, err)
		}
		if l, _ := s.List(ctx, "big"); len(l) != 100 {
			t.Errorf("List(big) = %d after expiry, want 100", len(l))
		}
	})
	t.Run("RefreshReadds", func(t *testing.T) {
		s := newStore(t)
		if err := s.Refresh(ctx, []peerstore.Peer{peer("s", "lost")}, time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, "s", "lost"); err != nil {
			t.Fatalf("Refresh of an unknown peer must re-add it: %v", err)
		}
	})
	t.Run("ReportTotals", func(t *testing.T) {
		s := newStore(t)
		_ = s.Put(ctx, peer("s", "a"), time.Minute)
		at := time.Now()
		rep := func(cdn, up int64, dt time.Duration) {
			if err := s.Report(ctx, "s", "a", peerstore.Report{Stats: peerstore.Stats{BytesCDN: cdn, BytesUploaded: up}, At: at.Add(dt), UploadCap: 1000}); err != nil {
				t.Fatal(err)
			}
		}
		rep(100, 0, 0)
		rep(150, 2000, time.Second)
		rep(20, 2000, 2*time.Second) // counter restarted: adds 20
		si, err := s.Swarm(ctx, "s")
		if err != nil || si.Totals.BytesCDN != 170 || si.Totals.BytesUploaded != 2000 {
			t.Fatalf("Swarm = %+v, %v; want cdn 170 uploaded 2000", si, err)
		}
		p, _ := s.Get(ctx, "s", "a")
		if p.UploadCap != 1000 || p.Stats.BytesCDN != 20 {
			t.Fatalf("peer after report = %+v", p)
		}
		if err := s.Report(ctx, "s", "ghost", peerstore.Report{}); !errors.Is(err, peerstore.ErrNotFound) {
			t.Fatalf("report for unknown peer: %v", err)
		}
	})
	t.Run("Bus", func(t *testing.T) {
		s := newStore(t)
		var mu sync.Mutex
		var got []string
		stop, err := s.Subscribe(ctx, "nodeA", func(b []byte) { mu.Lock(); got = append(got, string(b)); mu.Unlock() })
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		for i := range 3 {
			if err := s.Publish(ctx, "nodeA", fmt.Appendf(nil, "m%d", i)); err != nil {
				t.Fatal(err)
			}
		}
		_ = s.Publish(ctx, "nodeB", []byte("not for A"))
		waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 3 })
		mu.Lock()
		defer mu.Unlock()
		if got[0] != "m0" || got[2] != "m2" {
			t.Fatalf("bus delivered %v", got)
		}
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 5s")
}

func TestMemory(t *testing.T) {
	runSuite(t, func(*testing.T) storeBus { return peerstore.NewMemory(nil) })
}

func TestRedis(t *testing.T) {
	srv := redistest.Start(t)
	n := 0
	runSuite(t, func(t *testing.T) storeBus {
		n++
		s, err := peerstore.NewRedis(srv.URL, fmt.Sprintf("test%d:", n), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func TestRedisDownIsUnavailable(t *testing.T) {
	srv := redistest.Start(t)
	s, _ := peerstore.NewRedis(srv.URL, "", nil)
	defer s.Close()
	srv.Stop()
	if err := s.Ping(context.Background()); !errors.Is(err, peerstore.ErrUnavailable) {
		t.Fatalf("Ping with Redis down = %v, want ErrUnavailable", err)
	}
	srv.Restart()
	waitFor(t, func() bool { return s.Ping(context.Background()) == nil })
}
