package slackemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// maxViewBlocks is Slack's block limit for modals and home tabs.
const maxViewBlocks = 100

// readView parses and checks the "view" argument of a views.* call.
func readView(p params, wantType string) (json.RawMessage, map[string]json.RawMessage, string) {
	raw, ok := p.raw("view")
	if !ok {
		return nil, nil, "invalid_arguments"
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return nil, nil, "invalid_arguments"
	}
	var typ string
	_ = json.Unmarshal(fields["type"], &typ)
	if typ != wantType {
		return nil, nil, "invalid_arguments"
	}
	if b, ok := fields["blocks"]; ok && !emptyBlocks(b) && !validBlocks(b, maxViewBlocks) {
		return nil, nil, "invalid_blocks"
	}
	return cloneRaw(raw), fields, ""
}

func jsonString(raw json.RawMessage) string {
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

// newViewLocked stores a view under a fresh ID (or id, when re-publishing).
// Callers hold s.mu.
func (s *Server) newViewLocked(id, typ, user string, raw json.RawMessage, fields map[string]json.RawMessage) *View {
	if id == "" {
		id = fmt.Sprintf("VEMU%06d", s.nextIDLocked())
	}
	v := &View{
		ID:         id,
		Type:       typ,
		UserID:     user,
		ExternalID: jsonString(fields["external_id"]),
		Hash:       fmt.Sprintf("%d.emu%06d", time.Now().Unix(), s.nextIDLocked()),
		JSON:       raw,
	}
	s.views[id] = v
	s.notifyLocked()
	return v
}

// viewAnswerLocked renders a view the way views.* answer: what the bot sent,
// plus the members Slack adds. Callers hold s.mu.
func (s *Server) viewAnswerLocked(v *View) obj {
	var out obj
	_ = json.Unmarshal(v.JSON, &out)
	if out == nil {
		out = obj{}
	}
	for k, val := range map[string]any{
		"id":                    v.ID,
		"team_id":               s.opts.TeamID,
		"type":                  v.Type,
		"state":                 obj{"values": obj{}},
		"hash":                  v.Hash,
		"root_view_id":          v.ID,
		"previous_view_id":      nil,
		"app_id":                s.opts.AppID,
		"app_installed_team_id": s.opts.TeamID,
		"bot_id":                s.opts.BotID,
	} {
		out[k] = val
	}
	for _, k := range []string{"private_metadata", "callback_id", "external_id"} {
		if _, ok := out[k]; !ok {
			out[k] = ""
		}
	}
	if _, ok := out["blocks"]; !ok {
		out["blocks"] = []any{}
	}
	return obj{"view": out}
}

func (s *Server) viewsPublish(_ *http.Request, p params) (obj, string) {
	user := p.str("user_id")
	if user == "" {
		return nil, "invalid_arguments"
	}
	if !isUserID(user) {
		return nil, "user_not_found"
	}
	raw, fields, code := readView(p, "home")
	if code != "" {
		return nil, code
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.homeViews[user]
	if old, ok := s.views[id]; ok && p.str("hash") != "" && p.str("hash") != old.Hash {
		return nil, "hash_conflict"
	}
	v := s.newViewLocked(id, "home", user, raw, fields)
	s.homeViews[user] = v.ID
	return s.viewAnswerLocked(v), ""
}

func (s *Server) viewsOpen(_ *http.Request, p params) (obj, string) {
	trigger := p.str("trigger_id")
	if trigger == "" {
		return nil, "invalid_arguments"
	}
	raw, fields, code := readView(p, "modal")
	if code != "" {
		return nil, code
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	user, ok := s.triggers[trigger]
	if !ok {
		return nil, "invalid_trigger_id"
	}
	return s.viewAnswerLocked(s.newViewLocked("", "modal", user, raw, fields)), ""
}

func (s *Server) viewsUpdate(_ *http.Request, p params) (obj, string) {
	raw, fields, code := readView(p, "modal")
	if code != "" {
		return nil, code
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var v *View
	if id := p.str("view_id"); id != "" {
		v = s.views[id]
	} else if ext := p.str("external_id"); ext != "" {
		for _, cand := range s.views {
			if cand.ExternalID == ext {
				v = cand
			}
		}
	} else {
		return nil, "invalid_arguments"
	}
	if v == nil {
		return nil, "not_found"
	}
	if h := p.str("hash"); h != "" && h != v.Hash {
		return nil, "hash_conflict"
	}
	return s.viewAnswerLocked(s.newViewLocked(v.ID, v.Type, v.UserID, raw, fields)), ""
}
