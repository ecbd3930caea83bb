// Package redistest starts a real redis-server on a free loopback port for a
// test, and stops it when the test ends.
package redistest

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/p2phls/p2phls/internal/testbin"
)

// Server is a redis-server process owned by one test.
type Server struct {
	Port int
	URL  string
	dir  string
	cmd  *exec.Cmd
	t    testing.TB
}

// Start launches redis-server. Without the binary the test is skipped, except
// under CI=true where a missing server is a failure.
func Start(t testing.TB) *Server {
	t.Helper()
	testbin.Require(t, "redis-server")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	s := &Server{Port: port, URL: fmt.Sprintf("redis://127.0.0.1:%d/0", port), dir: t.TempDir(), t: t}
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

// Stop kills the server (as a crash would) and waits for it.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart starts the server again on the same port, empty.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.cmd = exec.Command("redis-server", "--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", s.Port)})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c.Ping(context.Background()).Err() == nil {
			return
		}
	}
	s.t.Fatalf("redis-server on port %d did not answer within 10s", s.Port)
}
