package integrity

import (
	"errors"
	"testing"
)

func TestOnlyAllowedOriginsAreWatched(t *testing.T) {
	s := New(Config{Allow: []string{"http://cdn.example:8080", "https://Edge.example", "not a url", "ftp://x"}})
	defer s.Close()
	for u, want := range map[string]bool{
		"http://cdn.example:8080/live/index.m3u8": true,
		"https://edge.example/a/b.m3u8":           true,
		"http://cdn.example/live/index.m3u8":      false, // another port
		"http://169.254.169.254/latest/meta-data": false,
		"https://cdn.example:8080/live.m3u8":      false, // another scheme
		"file:///etc/passwd":                      false,
		"ftp://x/y":                               false,
	} {
		if got := s.Allowed(u); got != want {
			t.Errorf("%s: allowed %v, want %v", u, got, want)
		}
	}
	if err := s.Watch("x", "http://169.254.169.254/live.m3u8"); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("forbidden origin: %v", err)
	}
	if err := s.Watch("some-other-swarm", "http://cdn.example:8080/live/index.m3u8"); !errors.Is(err, ErrSwarmMismatch) {
		t.Fatalf("wrong swarm: %v", err)
	}
	s.Release("never-watched") // no panic, no effect
}
