package token

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var secret = []byte("s3cret")

func TestTokenCases(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	good := Make(secret, Claims{Swarm: "live", Expiry: now.Add(time.Hour).Unix(), Peer: "p1"})
	p, sig, _ := strings.Cut(good, ".")
	other := Make([]byte("other"), Claims{Swarm: "live", Expiry: now.Add(time.Hour).Unix()})
	_, forgedSig, _ := strings.Cut(other, ".")
	for _, c := range []struct {
		name, tok string
		want      error
	}{
		{"empty", "", ErrMalformed},
		{"no dot", "abc", ErrMalformed},
		{"too long", strings.Repeat("a", MaxLen+1), ErrMalformed},
		{"bad base64 sig", p + ".!!", ErrMalformed},
		{"signed by another secret", p + "." + forgedSig, ErrSignature},
		{"claims changed", Make(secret, Claims{Swarm: "x", Expiry: 1})[:10] + p[10:] + "." + sig, ErrSignature},
		{"expired", Make(secret, Claims{Swarm: "live", Expiry: now.Unix()}), ErrExpired},
		{"no swarm", Make(secret, Claims{Expiry: now.Add(time.Hour).Unix()}), ErrMalformed},
	} {
		if _, err := Parse(secret, c.tok, now); !errors.Is(err, c.want) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
		}
	}
	auth := Authorizer(secret, func() time.Time { return now })
	if id, err := auth(good, "live"); err != nil || id != "p1" {
		t.Fatalf("good token: %q %v", id, err)
	}
	if _, err := auth(good, "other"); !errors.Is(err, ErrWrongSwarm) {
		t.Fatalf("wrong swarm: %v", err)
	}
	if id, err := auth(Make(secret, Claims{Swarm: "*", Expiry: now.Add(time.Minute).Unix()}), "any"); err != nil || id != "" {
		t.Fatalf("wildcard: %q %v", id, err)
	}
}

func FuzzParse(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	f.Add(Make(secret, Claims{Swarm: "live", Expiry: now.Add(time.Hour).Unix(), Peer: "p"}))
	f.Add("a.b")
	f.Add("")
	f.Add("eyJzIjoibGl2ZSJ9.AAAA")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := Parse(secret, tok, now)
		if err == nil && (c.Swarm == "" || c.Expiry <= now.Unix()) {
			t.Fatalf("accepted %q as %+v", tok, c)
		}
	})
}
