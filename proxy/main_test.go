package proxy_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every viewer (engine reactor, pion links, tracker client, playlist
// follower), tracker and origin the tests start is stopped with nothing left
// running; idle keep-alive connections of the shared HTTP client are not ours,
// nor the two workers nbio's default WebSocket engine starts when its package
// is imported (the tracker runs pollers of its own and stops them).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("github.com/lesismal/nbio/taskpool.New.func3"))
}
