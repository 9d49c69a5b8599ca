package slackemu

import (
	"bytes"
	"net/http"
	"strconv"
	"time"
)

// AllMethods, given to InjectFault, makes the fault hit every Web API
// method that has no fault of its own.
const AllMethods = "*"

// InjectFault makes the next f.Times calls of method (every call when Times
// is 0) answer as f says. It replaces any earlier fault for method.
func (s *Server) InjectFault(method string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[method] = &f
	s.logf("slackemu: fault injected for %s: %+v", method, f)
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.faults)
}

// takeFault returns the fault for this call of method, if any, and uses up
// one of its Times.
func (s *Server) takeFault(method string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := method
	f, ok := s.faults[key]
	if !ok {
		key = AllMethods
		if f, ok = s.faults[key]; !ok {
			return Fault{}, false
		}
	}
	taken := *f
	if f.Times > 0 {
		f.Times--
		if f.Times == 0 {
			delete(s.faults, key)
		}
	}
	return taken, true
}

// applyFault answers the request as fault f says and reports whether it
// did. A Delay alone only slows the call down; it still gets a real answer.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, method string, f Fault) bool {
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			// The caller gave up; nobody reads an answer.
			return true
		case <-s.quit:
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
	}
	switch {
	case f.RateLimit > 0:
		s.logf("slackemu: %s: fault: 429, retry after %ds", method, f.RateLimit)
		w.Header().Set("Retry-After", strconv.Itoa(f.RateLimit))
		writeJSON(w, http.StatusTooManyRequests, obj{"ok": false, "error": "ratelimited"})
		return true
	case f.Status != 0:
		s.logf("slackemu: %s: fault: HTTP %d", method, f.Status)
		writeJSON(w, f.Status, obj{"ok": false, "error": "fatal_error"})
		return true
	case f.Error != "":
		s.logf("slackemu: %s: fault: %s", method, f.Error)
		writeError(w, f.Error)
		return true
	}
	return false
}

// RevokeTokens revokes the bot and app tokens: every call carrying one of
// them, including apps.connections.open, fails with token_revoked (which
// slack-go's socketmode client treats as fatal). Open sockets stay open;
// use DropConnections to end them too.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked = true
	s.notifyLocked()
}

// SetTokens replaces the accepted tokens and lifts a revocation; calls with
// any other token fail with invalid_auth. Empty arguments keep the current
// token.
func (s *Server) SetTokens(bot, app string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if bot != "" {
		s.botToken = bot
	}
	if app != "" {
		s.appToken = app
	}
	s.revoked = false
	s.notifyLocked()
}

// heldAnswer keeps a method's answer for a fault with AfterEffect, which
// decides afterwards whether the caller gets it.
type heldAnswer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newHeldAnswer() *heldAnswer { return &heldAnswer{header: http.Header{}, status: http.StatusOK} }

func (h *heldAnswer) Header() http.Header         { return h.header }
func (h *heldAnswer) Write(b []byte) (int, error) { return h.body.Write(b) }
func (h *heldAnswer) WriteHeader(status int)      { h.status = status }

// writeTo sends the held answer to w.
func (h *heldAnswer) writeTo(w http.ResponseWriter) {
	for k, v := range h.header {
		w.Header()[k] = v
	}
	w.WriteHeader(h.status)
	_, _ = w.Write(h.body.Bytes())
}
