package transport

import (
	"fmt"
	"testing"
)

// The offerer sends the moment its side opens (a peer's HELLO and STATE);
// the answerer's DataChannel may deliver that message before its own open
// event has run. The message must not be lost: its arrival opens the link.
func TestFirstMessageAfterOpenIsNotLost(t *testing.T) {
	for i := range 20 {
		a, b := fmt.Sprintf("a%d", i), fmt.Sprintf("b%d", i)
		p := newPair(t, a, b)
		if err := p.nets[a].Connect(b); err != nil {
			t.Fatal(err)
		}
		wait(t, p.opened[a], "offerer open")
		if !p.nets[a].Send(b, []byte("hello")) {
			t.Fatal("send on an open link failed")
		}
		if got := wait(t, p.got[b], "the first message"); string(got) != "hello" {
			t.Fatalf("link %d: got %q", i, got)
		}
		if got := wait(t, p.opened[b], "answerer open"); got != a {
			t.Fatalf("answerer opened %q", got)
		}
		_ = p.nets[a].Close()
		_ = p.nets[b].Close()
	}
}
