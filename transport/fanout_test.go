package transport

import (
	"context"
	"testing"
	"time"
)

// BenchmarkFanout20 prints the rate one peer pushes to 20 children.
func BenchmarkFanout20(b *testing.B) {
	for b.Loop() {
		r, err := Fanout(context.Background(), 20, 3*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(r.Mbps, "Mbit/s")
	}
}

func TestFanoutDelivers(t *testing.T) {
	r, err := Fanout(context.Background(), 3, 500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if r.Bytes == 0 || r.Mbps <= 0 {
		t.Fatalf("nothing delivered: %+v", r)
	}
}
