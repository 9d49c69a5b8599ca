package slackemu

import (
	"bytes"
	"cmp"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// AllMethods, given to InjectFault, makes the fault hit every Web API
// method that has no fault of its own.
const AllMethods = "*"

// ResponseURLMethod, given to InjectFault, makes the fault hit POSTs to
// response_url addresses; AllMethods does not reach them.
const ResponseURLMethod = "response_url"

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
// one of its Times. text is the call's text argument, for faults that
// match on it (see matchesText).
func (s *Server) takeFault(method, text string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := method
	f, ok := s.faults[key]
	if !ok && method != ResponseURLMethod {
		key = AllMethods
		f, ok = s.faults[key]
	}
	if !ok {
		return Fault{}, false
	}
	if f.Match != "" && !strings.Contains(text, f.Match) {
		return Fault{}, false
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

// applyFault answers the request if fault f says so and reports whether
// it did. A Delay alone only slows the call down; it still gets a real
// answer.
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

// heldAnswer keeps the answer of a call carried out under an Apply fault
// until the fault has had its say.
type heldAnswer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (h *heldAnswer) Header() http.Header { return h.header }

func (h *heldAnswer) WriteHeader(status int) {
	if h.status == 0 {
		h.status = status
	}
}

func (h *heldAnswer) Write(p []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return h.body.Write(p)
}

func (h *heldAnswer) writeTo(w http.ResponseWriter) {
	maps.Copy(w.Header(), h.header)
	w.WriteHeader(cmp.Or(h.status, http.StatusOK))
	_, _ = w.Write(h.body.Bytes())
}

// matchesText reports whether a fault for method looks at the call's text.
func (s *Server) matchesText(method string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, key := range []string{method, AllMethods} {
		if f, ok := s.faults[key]; ok {
			return f.Match != ""
		}
	}
	return false
}

// peekText reads the text argument of r and leaves its body to be read
// again.
func peekText(r *http.Request) string {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return ""
	}
	peek := r.Clone(r.Context())
	peek.Body = io.NopCloser(bytes.NewReader(body))
	p, _ := parseParams(nil, peek)
	return p.str("text")
}
