package peer

import (
	"sync"
	"time"
)

// reactor runs functions one at a time on its own goroutine: the engine's
// single thread. The queue is unbounded so that a pion callback posting into
// it never blocks while holding a link's lock.
type reactor struct {
	mu    sync.Mutex
	queue []func()
	wake  chan struct{}
	done  chan struct{}
}

func newReactor() *reactor {
	return &reactor{wake: make(chan struct{}, 1), done: make(chan struct{})}
}

func (r *reactor) post(f func()) {
	r.mu.Lock()
	r.queue = append(r.queue, f)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// call runs f on the reactor and waits for it (not from the reactor itself).
func (r *reactor) call(f func()) {
	ch := make(chan struct{})
	r.post(func() { f(); close(ch) })
	select {
	case <-ch:
	case <-r.done:
	}
}

func (r *reactor) run(stop <-chan struct{}) {
	defer close(r.done)
	var batch []func()
	for {
		select {
		case <-stop:
			return
		case <-r.wake:
		}
		r.mu.Lock()
		batch, r.queue = r.queue, batch[:0]
		r.mu.Unlock()
		for i, f := range batch {
			f()
			batch[i] = nil
		}
	}
}

// clock is the engine's Clock on the wall clock, firing on the reactor.
type clock struct {
	start time.Time
	r     *reactor
}

func (c *clock) Now() time.Duration { return time.Since(c.start) }

func (c *clock) AfterFunc(d time.Duration, f func()) func() {
	stopped := false // touched only on the reactor
	t := time.AfterFunc(d, func() {
		c.r.post(func() {
			if !stopped {
				f()
			}
		})
	})
	return func() { stopped = true; t.Stop() }
}
