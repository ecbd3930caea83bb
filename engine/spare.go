package engine

import "time"

// The upload not promised to children — (1 − Utilization) of the cap — is
// the spare: catch-ups for new children and pulls from neighbours spend it.
// Beyond it they are not sent; the asker's deadline completion covers the
// bytes. Without this bound a busy peer's upload queue grew without end
// (pushes already take Utilization of it) and every message behind it —
// SUBSCRIBE and ACCEPT included — came seconds late.

// spareBurst is how much spare time a quiet peer may save up.
const spareBurst = 2 * time.Second

// minSpare is the share of the upload kept spare even at Utilization 1.
const minSpare = 0.05

func (e *Engine) spareRate() float64 {
	return float64(e.uploadCap()) * max(minSpare, 1-e.cfg.Utilization)
}

// spend takes n bytes from the spare upload, or reports that it is spent.
// A send may take the balance below zero (a whole stripe is more than a slow
// peer saves up); the next waits until the debt is paid, so over time these
// sends stay within the spare rate.
func (e *Engine) spend(n int64) bool {
	now := e.clk.Now()
	rate := e.spareRate()
	if !e.spareSet {
		e.spare, e.spareSet = rate*spareBurst.Seconds(), true
	} else {
		e.spare = min(rate*spareBurst.Seconds(), e.spare+rate*(now-e.spareAt).Seconds())
	}
	e.spareAt = now
	if e.spare < 0 {
		return false
	}
	e.spare -= float64(n)
	return true
}
