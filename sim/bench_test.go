package sim

import (
	"testing"
	"time"
)

// BenchmarkSim500 times the simulator itself (go test -bench Sim500 ./sim).
func BenchmarkSim500(b *testing.B) {
	for range b.N {
		Run(Config{Peers: 500, Duration: time.Minute, Classes: MixedClasses(), ChurnPerMin: 0.1, Seed: 1})
	}
}
