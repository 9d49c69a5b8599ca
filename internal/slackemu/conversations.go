package slackemu

import (
	"encoding/base64"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Page sizes of conversations.history and .replies, as Slack documents them.
const (
	defaultPageSize = 100
	maxPageSize     = 999
)

func (s *Server) authTest(_ *http.Request, _ params) (obj, string) {
	return obj{
		"url":                   "https://" + workspaceDomain + ".slack.com/",
		"team":                  "Slack Emulator",
		"user":                  "socialroute",
		"team_id":               s.opts.TeamID,
		"user_id":               s.opts.BotUserID,
		"bot_id":                s.opts.BotID,
		"is_enterprise_install": false,
	}, ""
}

// readableLocked resolves a channel the bot reads. Callers hold s.mu.
func (s *Server) readableLocked(id string) (*channelState, string) {
	ch, ok := s.store.channels[id]
	if !ok {
		return nil, "channel_not_found"
	}
	if !ch.member {
		return nil, "not_in_channel"
	}
	return ch, ""
}

// window is the oldest/latest/inclusive/limit/cursor arguments shared by
// conversations.history and conversations.replies.
type window struct {
	oldest, latest int64
	inclusive      bool
	limit          int
	// cursor is the ts (µs) where this page starts; 0 for the first page.
	cursor int64
}

func readWindow(p params) (window, string) {
	w := window{latest: math.MaxInt64, inclusive: p.flag("inclusive"), limit: defaultPageSize}
	var ok bool
	if w.oldest, ok = parseTS(p.str("oldest")); !ok {
		return w, "invalid_ts_oldest"
	}
	if v := p.str("latest"); v != "" {
		if w.latest, ok = parseTS(v); !ok {
			return w, "invalid_ts_latest"
		}
	}
	if v := p.str("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return w, "invalid_limit"
		}
		if n > 0 {
			w.limit = min(n, maxPageSize)
		}
	}
	if v := p.str("cursor"); v != "" {
		// Slack's cursors are base64("next_ts:<µs>"); treat them as opaque
		// but check they are ours.
		dec, err := base64.StdEncoding.DecodeString(v)
		rest, found := strings.CutPrefix(string(dec), "next_ts:")
		n, perr := strconv.ParseInt(rest, 10, 64)
		if err != nil || !found || perr != nil {
			return w, "invalid_cursor"
		}
		w.cursor = n
	}
	return w, ""
}

func (w window) contains(ts string) bool {
	us, _ := parseTS(ts)
	if w.inclusive {
		return us >= w.oldest && us <= w.latest
	}
	return us > w.oldest && us < w.latest
}

func cursorFor(ts string) string {
	us, _ := parseTS(ts)
	return base64.StdEncoding.EncodeToString([]byte("next_ts:" + strconv.FormatInt(us, 10)))
}

// page applies the window to msgs (already in answer order). newestFirst
// says which way the cursor moves.
func (w window) page(msgs []*Message, newestFirst bool) (out []*Message, next string) {
	var in []*Message
	for _, m := range msgs {
		if !w.contains(m.TS) {
			continue
		}
		if w.cursor != 0 {
			us, _ := parseTS(m.TS)
			if (newestFirst && us > w.cursor) || (!newestFirst && us < w.cursor) {
				continue
			}
		}
		in = append(in, m)
	}
	if len(in) > w.limit {
		return in[:w.limit], cursorFor(in[w.limit].TS)
	}
	return in, ""
}

func (s *Server) conversationsHistory(_ *http.Request, p params) (obj, string) {
	w, code := readWindow(p)
	if code != "" {
		return nil, code
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, code := s.readableLocked(p.str("channel"))
	if code != "" {
		return nil, code
	}
	msgs := ch.topLevel()
	slices.Reverse(msgs) // Slack answers newest first.
	return s.pageAnswerLocked(ch, w, msgs, true, p.flag("include_all_metadata")), ""
}

func (s *Server) conversationsReplies(_ *http.Request, p params) (obj, string) {
	w, code := readWindow(p)
	if code != "" {
		return nil, code
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, code := s.readableLocked(p.str("channel"))
	if code != "" {
		return nil, code
	}
	root, ok := ch.threadRoot(p.str("ts"))
	if !ok {
		return nil, "thread_not_found"
	}
	return s.pageAnswerLocked(ch, w, ch.thread(root), false, p.flag("include_all_metadata")), ""
}

// pageAnswerLocked builds a paged messages answer. Callers hold s.mu.
func (s *Server) pageAnswerLocked(ch *channelState, w window, msgs []*Message, newestFirst, withMetadata bool) obj {
	page, next := w.page(msgs, newestFirst)
	wire := make([]wireMessage, len(page))
	for i, m := range page {
		wire[i] = s.wireLocked(ch, m, withMetadata)
	}
	return obj{
		"messages":          wire,
		"has_more":          next != "",
		"pin_count":         0,
		"response_metadata": obj{"next_cursor": next},
	}
}

func (s *Server) conversationsInfo(_ *http.Request, p params) (obj, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.store.channels[p.str("channel")]
	if !ok {
		return nil, "channel_not_found"
	}
	im := strings.HasPrefix(ch.ID, "D")
	info := obj{
		"id":              ch.ID,
		"created":         ch.created,
		"is_channel":      !im,
		"is_im":           im,
		"is_private":      im,
		"is_archived":     false,
		"is_general":      false,
		"is_member":       ch.member,
		"is_shared":       false,
		"is_ext_shared":   false,
		"is_org_shared":   false,
		"is_mpim":         false,
		"is_group":        false,
		"creator":         "",
		"name":            ch.Name,
		"name_normalized": ch.Name,
		"topic":           obj{"value": "", "creator": "", "last_set": 0},
		"purpose":         obj{"value": "", "creator": "", "last_set": 0},
		"previous_names":  []string{},
	}
	if im {
		info["user"] = "U" + ch.ID[1:]
	}
	return obj{"channel": info}, ""
}

// usersInfo synthesizes a user for any user ID, so bots that look up names
// work without setup; the bot's own ID answers as the bot user.
func (s *Server) usersInfo(_ *http.Request, p params) (obj, string) {
	id := p.str("user")
	if !isUserID(id) {
		return nil, "user_not_found"
	}
	name := userName(id)
	realName := "User " + id
	isBot := id == s.opts.BotUserID
	if isBot {
		name, realName = "socialroute", "socialroute"
	}
	profile := obj{
		"real_name":               realName,
		"real_name_normalized":    realName,
		"display_name":            name,
		"display_name_normalized": name,
		"team":                    s.opts.TeamID,
	}
	if isBot {
		profile["bot_id"] = s.opts.BotID
		profile["api_app_id"] = s.opts.AppID
	} else {
		profile["email"] = name + "@example.com"
	}
	return obj{"user": obj{
		"id":        id,
		"team_id":   s.opts.TeamID,
		"name":      name,
		"real_name": realName,
		"deleted":   false,
		"tz":        "Europe/Berlin",
		"tz_label":  "Central European Time",
		"tz_offset": 3600,
		"is_bot":    isBot,
		"is_admin":  false,
		"updated":   1700000000,
		"profile":   profile,
	}}, ""
}

func (s *Server) reactionsAdd(_ *http.Request, p params) (obj, string) {
	name := strings.Trim(p.str("name"), ":")
	if name == "" {
		return nil, "invalid_name"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, code := s.readableLocked(p.str("channel"))
	if code != "" {
		return nil, code
	}
	ts := p.str("timestamp")
	if ts == "" {
		return nil, "no_item_specified"
	}
	m, ok := ch.byTS[ts]
	if !ok {
		return nil, "message_not_found"
	}
	i := slices.IndexFunc(m.Reactions, func(r Reaction) bool { return r.Name == name })
	if i < 0 {
		m.Reactions = append(m.Reactions, Reaction{Name: name})
		i = len(m.Reactions) - 1
	}
	if slices.Contains(m.Reactions[i].Users, s.opts.BotUserID) {
		return nil, "already_reacted"
	}
	m.Reactions[i].Users = append(m.Reactions[i].Users, s.opts.BotUserID)
	s.notifyLocked()
	return obj{}, ""
}
