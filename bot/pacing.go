package bot

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// pacer keeps deliveries within Slack's limits, channel by channel: a token
// bucket per channel (Slack allows about one message per second per
// channel, with short bursts), and a pause after a failure, so that the
// channel's later posts wait for the failed one and arrive in order.
type pacer struct {
	mu      sync.Mutex
	rate    rate.Limit // messages per second per channel; 0 means unpaced
	burst   int
	limits  map[string]*rate.Limiter
	pausing map[string]time.Time // channel → no attempts before this
}

func newPacer(perSecond float64, burst int) *pacer {
	if burst < 1 {
		burst = 1
	}
	return &pacer{rate: rate.Limit(perSecond), burst: burst, limits: map[string]*rate.Limiter{}, pausing: map[string]time.Time{}}
}

// take reports whether a message may go to channel at now, using up a
// token if so; otherwise it says when to look again.
func (p *pacer) take(channel string, now time.Time) (ok bool, retry time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if until, paused := p.pausing[channel]; paused {
		if now.Before(until) {
			return false, until
		}
		delete(p.pausing, channel)
	}
	if p.rate <= 0 {
		return true, time.Time{}
	}
	lim, found := p.limits[channel]
	if !found {
		lim = rate.NewLimiter(p.rate, p.burst)
		p.limits[channel] = lim
	}
	if lim.AllowN(now, 1) {
		return true, time.Time{}
	}
	r := lim.ReserveN(now, 1)
	delay := r.DelayFrom(now)
	r.CancelAt(now)
	return false, now.Add(delay)
}

// pause holds channel back until until, after a failed attempt there.
func (p *pacer) pause(channel string, until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if until.After(p.pausing[channel]) {
		p.pausing[channel] = until
	}
}
