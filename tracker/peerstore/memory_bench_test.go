package peerstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/p2phls/p2phls/tracker/peerstore"
)

// BenchmarkMemoryAnnounce is what one announce asks of the store (the
// swarm's count, a sample to rank, one peer looked up to relay to) in swarms
// of growing size: the cost must not grow with the swarm.
func BenchmarkMemoryAnnounce(b *testing.B) {
	ctx := context.Background()
	for _, size := range []int{100, 10_000, 100_000} {
		b.Run(fmt.Sprint("swarm=", size), func(b *testing.B) {
			m := peerstore.NewMemory(nil)
			for i := range size {
				_ = m.Put(ctx, peerstore.Peer{ID: fmt.Sprint("p", i), Swarm: "s"}, time.Hour)
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := m.Swarm(ctx, "s"); err != nil {
					b.Fatal(err)
				}
				if got, _ := m.Sample(ctx, "s", 21); len(got) != 21 {
					b.Fatalf("sample of %d", len(got))
				}
				if _, err := m.Get(ctx, "s", fmt.Sprint("p", i%size)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
