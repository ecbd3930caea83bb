// Package tick runs a function on a ticker until a context ends.
package tick

import (
	"context"
	"time"
)

// Every runs f every d until ctx ends (first after d).
func Every(ctx context.Context, d time.Duration, f func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}
