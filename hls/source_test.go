package hls

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

var body = bytes.Repeat([]byte("0123456789"), 1000)

func okServer(t *testing.T) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	}))
	t.Cleanup(s.Close)
	return s
}

func deadAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func TestSourceFailoverWhenFirstIsDown(t *testing.T) {
	good := okServer(t)
	src := NewSource(SourceConfig{Servers: []string{deadAddr(t), good.URL}, Attempt: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	b, err := src.Fetch(ctx, "http://origin.invalid/live/seg1.ts?token=x", nil)
	if err != nil || !bytes.Equal(b, body) {
		t.Fatalf("fetch: %v (%d bytes)", err, len(b))
	}
	if st := src.Stats(); st.Failures != 1 || st.Failovers != 1 || st.Bytes != int64(len(body)) || st.Requests != 2 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestSourceFailoverWhenFirstIsSlow(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	good := okServer(t)
	src := NewSource(SourceConfig{Servers: []string{slow.URL, good.URL}, Attempt: 200 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second) // the segment's deadline
	defer cancel()
	start := time.Now()
	b, total, err := src.Get(ctx, "http://x/seg.ts", &ByteRange{Start: 10, Length: 20})
	if err != nil || !bytes.Equal(b, body[10:30]) {
		t.Fatalf("fetch: %v %q", err, b)
	}
	if total != int64(len(body)) {
		t.Fatalf("total = %d, want %d (Content-Range)", total, len(body))
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("took %v, past the deadline", el)
	}
	if st := src.Stats(); st.Failovers != 1 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestSourceRoundRobin(t *testing.T) {
	hits := map[string]int{}
	mk := func(name string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits[name]++; w.Write(body) }))
		t.Cleanup(s.Close)
		return s
	}
	a, b := mk("a"), mk("b")
	src := NewSource(SourceConfig{Servers: []string{a.URL, b.URL}})
	for range 4 {
		if _, err := src.Fetch(context.Background(), "http://x/p", nil); err != nil {
			t.Fatal(err)
		}
	}
	if hits["a"] != 2 || hits["b"] != 2 {
		t.Fatalf("hits = %v, want 2 each", hits)
	}
}

func TestSourceRangeAndLimits(t *testing.T) {
	good := okServer(t)
	ignoring := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	defer ignoring.Close()
	lying := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Range", "bytes 0-19/10000")
		w.WriteHeader(http.StatusPartialContent)
		w.Write(body[:20])
	}))
	defer lying.Close()
	missing := httptest.NewServer(http.NotFoundHandler())
	defer missing.Close()
	ctx := context.Background()
	r := &ByteRange{Start: 100, Length: 20}
	for _, u := range []string{good.URL, ignoring.URL} {
		b, err := NewSource(SourceConfig{}).Fetch(ctx, u+"/s.ts", r)
		if err != nil || !bytes.Equal(b, body[100:120]) {
			t.Fatalf("%s: range fetch = %q, %v", u, b, err)
		}
	}
	one := SourceConfig{Rounds: 1}
	if _, err := NewSource(one).Fetch(ctx, lying.URL+"/s.ts", r); !errors.Is(err, ErrBadRange) {
		t.Fatalf("wrong range answered: %v, want ErrBadRange", err)
	}
	if _, err := NewSource(one).Fetch(ctx, missing.URL+"/s.ts", nil); !errors.Is(err, ErrBadStatus) {
		t.Fatalf("404: %v, want ErrBadStatus", err)
	}
	small := one
	small.MaxBody = 100
	if _, err := NewSource(small).Fetch(ctx, good.URL+"/s.ts", nil); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversize body: %v, want ErrTooLarge", err)
	}
}
