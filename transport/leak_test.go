package transport

import (
	"testing"

	"go.uber.org/goleak"
)

// Closing a Network ends every goroutine it and pion started.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	p := newPair(t, "a", "b")
	_ = p.nets["a"].Connect("b")
	wait(t, p.opened["a"], "a open")
	wait(t, p.opened["b"], "b open")
	_ = p.nets["a"].Close()
	_ = p.nets["b"].Close()
	// goleak retries for a while: pion's read loops end when their conns close
}
