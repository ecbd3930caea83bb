package main

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"
)

// A client that dialled but never sent its request must not make SIGTERM
// fail: after the grace period what is left is closed and shutdown succeeds.
func TestShutdownClosesAConnectionThatNeverSentARequest(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.NotFoundHandler()}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(50 * time.Millisecond) // let the server accept it: it is "new" for 5 s
	if err := shutdown(slog.New(slog.DiscardHandler), "test", srv, 200*time.Millisecond); err != nil {
		t.Fatalf("shutdown with an idle new connection: %v", err)
	}
	if err := <-served; err != http.ErrServerClosed {
		t.Fatalf("Serve returned %v", err)
	}
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("the silent client's connection: read %v, want EOF (closed by the server)", err)
	}
}
