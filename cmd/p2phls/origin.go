package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/p2phls/p2phls/origin"
)

func runOrigin(ctx context.Context, args []string, _ io.Writer) error {
	fs := flag.NewFlagSet("origin", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8081", "HTTP address; the live playlist is /live/index.m3u8")
	dir := fs.String("dir", "", "loop this folder's .ts segments instead of the built-in clip")
	seg := fs.Duration("segment", 2*time.Second, "segment duration (and publishing pace)")
	window := fs.Int("window", 6, "segments in the sliding window")
	latency := fs.Duration("latency", 0, "added delay per request")
	failRate := fs.Float64("fail-rate", 0, "fraction of segment requests answered 503")
	rate := fs.Int64("rate-limit", 0, "bytes/s cap per response (0 = none)")
	block := fs.Bool("blocking-reload", true, "offer blocking playlist reloads (_HLS_msn, EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES)")
	logger := logFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := logger()
	if err != nil {
		return err
	}
	if *failRate < 0 || *failRate > 1 {
		return fmt.Errorf("--fail-rate %v: want 0..1", *failRate)
	}
	cfg := origin.Config{Segment: *seg, Window: *window, Latency: *latency, FailRate: *failRate, Rate: *rate, Logger: log,
		BlockingReload: *block}
	if *dir != "" {
		if cfg.Clip, err = origin.LoadDir(*dir); err != nil {
			return err
		}
	}
	return serveHTTP(ctx, log, "origin", *listen, origin.New(cfg))
}

// serveHTTP serves h on addr until ctx ends, logging "<name> listening addr=...".
func serveHTTP(ctx context.Context, log *slog.Logger, name, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s: listen: %w", name, err)
	}
	return serveListener(ctx, log, name, ln, h)
}

// serveListener serves h on ln until ctx ends.
func serveListener(ctx context.Context, log *slog.Logger, name string, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Info(name+" listening", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	return shutdown(log, name, srv, 5*time.Second)
}

// shutdown lets srv's requests finish for up to grace, then closes whatever
// is still open: a client that dialled but never sent its request keeps a
// connection "new" for 5 s, and SIGTERM must not wait on it or fail for it.
func shutdown(log *slog.Logger, name string, srv *http.Server, grace time.Duration) error {
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		log.Warn(name+" connections still open after the grace period: closed", "grace", grace)
		err = srv.Close()
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("%s: shutdown: %w", name, err)
	}
	return nil
}
