package slackemu

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// maxBody caps request bodies; Slack's own limits (50 blocks, 40k chars of
// text) fit comfortably.
const maxBody = 4 << 20

// tokenKind says which token a Web API method wants.
type tokenKind int

const (
	botToken tokenKind = iota
	appToken
)

// apiMethod answers one Web API method. It returns the members of a
// successful answer (without "ok"), or a Slack error code.
type apiMethod struct {
	token tokenKind
	fn    func(s *Server, r *http.Request, p params) (obj, string)
}

// obj is a JSON object under construction.
type obj = map[string]any

// methods is the method table. It is immutable, so a package-level map is
// safe; handlers are methods on Server and reach state through it.
var methods = map[string]apiMethod{
	"auth.test":             {botToken, (*Server).authTest},
	"apps.connections.open": {appToken, (*Server).appsConnectionsOpen},
	"chat.postMessage":      {botToken, (*Server).chatPostMessage},
	"chat.update":           {botToken, (*Server).chatUpdate},
	"chat.delete":           {botToken, (*Server).chatDelete},
	"chat.postEphemeral":    {botToken, (*Server).chatPostEphemeral},
	"chat.getPermalink":     {botToken, (*Server).chatGetPermalink},
	"conversations.history": {botToken, (*Server).conversationsHistory},
	"conversations.replies": {botToken, (*Server).conversationsReplies},
	"conversations.info":    {botToken, (*Server).conversationsInfo},
	"users.info":            {botToken, (*Server).usersInfo},
	"reactions.add":         {botToken, (*Server).reactionsAdd},
	"views.publish":         {botToken, (*Server).viewsPublish},
	"views.open":            {botToken, (*Server).viewsOpen},
	"views.update":          {botToken, (*Server).viewsUpdate},
	"usergroups.users.list": {botToken, (*Server).usergroupsUsersList},
}

// handleAPI serves POST/GET /api/{method}: count, faults, parse, auth,
// dispatch — in that order, so a fault can hit any method and an unknown
// method still counts as a call.
func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("method")
	s.mu.Lock()
	s.calls[name]++
	s.notifyLocked()
	s.mu.Unlock()

	f, faulty := s.takeFault(name)
	switch {
	case faulty && f.AfterEffect:
		// The method runs first and its answer is held, so the fault
		// decides only what the caller hears.
		held := newHeldAnswer()
		s.serveMethod(held, r, name)
		if !s.applyFault(w, r, name, f) {
			held.writeTo(w)
		}
		return
	case faulty && s.applyFault(w, r, name, f):
		return
	}
	s.serveMethod(w, r, name)
}

// serveMethod parses, authenticates and dispatches one Web API call.
func (s *Server) serveMethod(w http.ResponseWriter, r *http.Request, name string) {
	m, ok := methods[name]
	if !ok {
		s.logf("slackemu: %s: unknown_method", name)
		writeError(w, "unknown_method")
		return
	}
	p, code := parseParams(w, r)
	if code != "" {
		writeError(w, code)
		return
	}
	if code := s.checkToken(m.token, requestToken(r, p)); code != "" {
		s.logf("slackemu: %s: %s", name, code)
		writeError(w, code)
		return
	}
	res, code := m.fn(s, r, p)
	if code != "" {
		s.logf("slackemu: %s: %s", name, code)
		writeError(w, code)
		return
	}
	s.logf("slackemu: %s: ok", name)
	if res == nil {
		res = obj{}
	}
	res["ok"] = true
	writeJSON(w, http.StatusOK, res)
}

// requestToken finds the token where slack-go puts it: the "token" form
// field for form posts, the Authorization header for JSON posts and GETs.
func requestToken(r *http.Request, p params) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(tok)
		}
	}
	return p.str("token")
}

// checkToken returns the Slack error for tok, or "" when it is accepted.
func (s *Server) checkToken(want tokenKind, tok string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	expected, other := s.botToken, s.appToken
	if want == appToken {
		expected, other = other, expected
	}
	switch {
	case tok == "":
		return "not_authed"
	case s.revoked && (tok == expected || tok == other):
		return "token_revoked"
	case tok == expected:
		return ""
	case tok == other:
		// Slack's answer to an xoxb token on apps.connections.open and the
		// reverse. slack-go does not treat it as fatal and keeps retrying.
		return "not_allowed_token_type"
	default:
		return "invalid_auth"
	}
}

// params is a request's arguments, from a form (query and body) or from a
// JSON body, read through one interface.
type params struct {
	form url.Values
	js   map[string]json.RawMessage
}

func parseParams(w http.ResponseWriter, r *http.Request) (params, string) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return params{}, "invalid_json"
		}
		p := params{form: r.URL.Query()}
		if len(bytes.TrimSpace(body)) == 0 {
			return p, ""
		}
		if err := json.Unmarshal(body, &p.js); err != nil {
			return params{}, "invalid_json"
		}
		return p, ""
	}
	if err := r.ParseForm(); err != nil {
		return params{}, "invalid_form_data"
	}
	return params{form: r.Form}, ""
}

// str returns a scalar argument as text ("" when absent).
func (p params) str(key string) string {
	if raw, ok := p.js[key]; ok {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		if string(raw) == "null" {
			return ""
		}
		return string(raw) // numbers and booleans as written
	}
	return p.form.Get(key)
}

func (p params) has(key string) bool {
	if _, ok := p.js[key]; ok {
		return true
	}
	_, ok := p.form[key]
	return ok
}

// raw returns a JSON-valued argument (blocks, metadata, view). Forms carry
// it as a JSON string; JSON bodies carry it inline or, as Slack also
// accepts, as a string holding JSON.
func (p params) raw(key string) (json.RawMessage, bool) {
	if raw, ok := p.js[key]; ok {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return json.RawMessage(s), true
		}
		return raw, true
	}
	if v, ok := p.form[key]; ok && len(v) > 0 {
		return json.RawMessage(v[0]), true
	}
	return nil, false
}

func (p params) flag(key string) bool {
	switch strings.ToLower(p.str(key)) {
	case "1", "true":
		return true
	}
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"ok":false,"error":"internal_error"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeError answers like Slack: HTTP 200 with ok false and a non-empty
// error (slack-go takes {"ok":false} without "error" for success).
func writeError(w http.ResponseWriter, code string) {
	writeJSON(w, http.StatusOK, obj{"ok": false, "error": code})
}
