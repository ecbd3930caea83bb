// Package token makes and checks join tokens: an HMAC-SHA256 signed claim
// that its holder may join a swarm until an expiry, optionally as a given
// peer id. Format: base64url(JSON claims) "." base64url(HMAC of the first part).
package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors of Parse.
var (
	ErrMalformed  = errors.New("token: malformed")
	ErrSignature  = errors.New("token: bad signature")
	ErrExpired    = errors.New("token: expired")
	ErrWrongSwarm = errors.New("token: not for this swarm")
)

// MaxLen bounds a token; longer ones are refused before any decoding.
const MaxLen = 1024

// Claims are what a token grants.
type Claims struct {
	Swarm  string `json:"s"`           // the swarm, or "*" for any
	Expiry int64  `json:"e"`           // unix seconds
	Peer   string `json:"p,omitempty"` // the peer id its holder gets ("" = any)
}

// Make signs claims with secret.
func Make(secret []byte, c Claims) string {
	body, _ := json.Marshal(c)
	p := base64.RawURLEncoding.EncodeToString(body)
	return p + "." + base64.RawURLEncoding.EncodeToString(sign(secret, p))
}

func sign(secret []byte, payload string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// Parse checks a token's signature and expiry and returns its claims.
func Parse(secret []byte, tok string, now time.Time) (Claims, error) {
	var c Claims
	if tok == "" || len(tok) > MaxLen {
		return c, fmt.Errorf("%w: %d bytes", ErrMalformed, len(tok))
	}
	p, sig, ok := strings.Cut(tok, ".")
	if !ok {
		return c, fmt.Errorf("%w: no signature", ErrMalformed)
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return c, fmt.Errorf("%w: signature: %v", ErrMalformed, err)
	}
	if !hmac.Equal(got, sign(secret, p)) {
		return c, ErrSignature
	}
	body, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return c, fmt.Errorf("%w: claims: %v", ErrMalformed, err)
	}
	if err := json.Unmarshal(body, &c); err != nil || c.Swarm == "" || c.Expiry == 0 {
		return Claims{}, fmt.Errorf("%w: claims", ErrMalformed)
	}
	if now.Unix() >= c.Expiry {
		return c, fmt.Errorf("%w at %s", ErrExpired, time.Unix(c.Expiry, 0).UTC().Format(time.RFC3339))
	}
	return c, nil
}

// Authorizer returns the tracker's join check for secret: the token must be
// valid now and name the swarm (or "*"); it returns the pinned peer id.
func Authorizer(secret []byte, now func() time.Time) func(tok, swarm string) (string, error) {
	return func(tok, swarm string) (string, error) {
		c, err := Parse(secret, tok, now())
		if err != nil {
			return "", err
		}
		if c.Swarm != "*" && c.Swarm != swarm {
			return "", fmt.Errorf("%w: it is for %q", ErrWrongSwarm, c.Swarm)
		}
		return c.Peer, nil
	}
}
