package origin

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Blocking playlist reloads (RFC 8216bis §6.2.5.2, the delivery directive
// _HLS_msn): a client that knows the newest segment asks for the next one and
// the origin answers the moment it is published, instead of the client
// polling every half target duration. p2phls peers that root a stripe ask
// this way (hls.FollowConfig.Eager): their trees wait on them.

var (
	// ErrBadDirective is a malformed _HLS_msn, or one too far ahead
	// (400 Bad Request).
	ErrBadDirective = errors.New("origin: bad delivery directive")
	// ErrNotYet is a segment that did not come within the hold (503).
	ErrNotYet = errors.New("origin: segment not published within the hold")
)

// hold waits, for a request with _HLS_msn=N, until segment N is published;
// it returns at once for any other request.
func (o *Origin) hold(r *http.Request) error {
	v := r.URL.Query().Get("_HLS_msn")
	if !o.cfg.BlockingReload || v == "" {
		return nil
	}
	msn, err := strconv.ParseInt(v, 10, 64)
	if err != nil || msn < 0 {
		return fmt.Errorf("%w: _HLS_msn=%q", ErrBadDirective, v)
	}
	if newest := o.published() - 1; msn > newest+2 {
		return fmt.Errorf("%w: _HLS_msn=%d is more than two past the newest segment, %d", ErrBadDirective, msn, newest)
	}
	at := o.start.Add(time.Duration(msn+1-int64(o.cfg.Window)) * o.cfg.Segment)
	d := at.Sub(o.cfg.Now())
	if d <= 0 {
		return nil
	}
	if d > 3*o.cfg.Segment { // a clock that jumped: the spec's bound on a hold
		return fmt.Errorf("%w: %v", ErrNotYet, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-r.Context().Done():
		return r.Context().Err()
	}
}

// statusOf is the HTTP status for a refused playlist request.
func statusOf(err error) int {
	if errors.Is(err, ErrBadDirective) {
		return http.StatusBadRequest
	}
	return http.StatusServiceUnavailable
}
