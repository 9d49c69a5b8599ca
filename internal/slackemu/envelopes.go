package slackemu

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Envelope types of Socket Mode.
const (
	TypeEventsAPI     = "events_api"
	TypeSlashCommands = "slash_commands"
	TypeInteractive   = "interactive"
)

// envelope is one Socket Mode request frame.
type envelope struct {
	EnvelopeID             string          `json:"envelope_id"`
	Type                   string          `json:"type"`
	Payload                json.RawMessage `json:"payload"`
	AcceptsResponsePayload bool            `json:"accepts_response_payload"`
	RetryAttempt           int             `json:"retry_attempt"`
	RetryReason            string          `json:"retry_reason"`
}

// PushEnvelope sends a Socket Mode envelope of type typ to one connected
// client (round-robin across several; waiting for one if none is
// connected), waits for its ack and returns it. An envelope not acked
// within AckTimeout is redelivered with retry_attempt+1 and retry_reason
// "timeout", up to 3 times; after that PushEnvelope returns ErrNotAcked.
// A redelivery goes to another connection than the attempt before it when
// there is one: Slack may hand it to any of the app's connections. Any ack
// for the envelope ID counts, from any connection. ctx bounds the whole
// exchange.
func (s *Server) PushEnvelope(ctx context.Context, typ string, payload json.RawMessage) (Ack, error) {
	env := envelope{
		EnvelopeID:             newEnvelopeID(),
		Type:                   typ,
		Payload:                payload,
		AcceptsResponsePayload: acceptsResponsePayload(typ, payload),
	}
	return s.push(ctx, env, 0, "")
}

// Redeliver sends an envelope pushed before once more, with the same
// envelope_id, the next retry_attempt and retry_reason "timeout", and
// waits for its ack: what Slack does when an ack never reached it, e.g.
// because it was lost with the connection. It goes to another connection
// than the envelope's last one when there is one. The ack's payload is not
// shown (Slack told the user the command timed out).
func (s *Server) Redeliver(ctx context.Context, envelopeID string) (Ack, error) {
	s.mu.Lock()
	sent, ok := s.sent[envelopeID]
	s.mu.Unlock()
	if !ok {
		return Ack{}, fmt.Errorf("envelope %s: %w", envelopeID, ErrNotFound)
	}
	if sent.env.RetryAttempt >= maxRetries {
		return Ack{}, fmt.Errorf("envelope %s was delivered %d times already; Slack gives up after that", envelopeID, maxRetries+1)
	}
	return s.push(ctx, sent.env, sent.env.RetryAttempt+1, sent.socket)
}

// sentEnvelope is the last delivery of an envelope, for Redeliver.
type sentEnvelope struct {
	env    envelope
	socket string
}

// rememberEnvelopes is how many recent envelopes Redeliver can resend.
const rememberEnvelopes = 4096

// remember records the last delivery of env, for Redeliver.
func (s *Server) remember(env envelope, socket string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sent[env.EnvelopeID]; !ok {
		s.sentOrder = append(s.sentOrder, env.EnvelopeID)
		if len(s.sentOrder) > rememberEnvelopes {
			delete(s.sent, s.sentOrder[0])
			s.sentOrder = s.sentOrder[1:]
		}
	}
	s.sent[env.EnvelopeID] = sentEnvelope{env: env, socket: socket}
}

// push delivers env from retry_attempt first on, redelivering until it is
// acked in time; avoid is the connection of an earlier delivery.
func (s *Server) push(ctx context.Context, env envelope, first int, avoid string) (Ack, error) {
	id := env.EnvelopeID
	acks := make(chan ackFrame, 1)
	s.mu.Lock()
	s.pending[id] = acks
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, id)
		s.mu.Unlock()
	}()

	var sockets []string
	for attempt := first; attempt <= maxRetries; attempt++ {
		env.RetryAttempt = attempt
		env.RetryReason = ""
		if attempt > 0 {
			env.RetryReason = "timeout"
		}
		socket, err := s.deliver(ctx, env, avoid)
		if err != nil {
			return Ack{}, err
		}
		avoid = socket
		sockets = append(sockets, socket)
		s.remember(env, socket)
		timer := time.NewTimer(s.opts.AckTimeout)
		select {
		case f := <-acks:
			timer.Stop()
			s.mu.Lock()
			extra := s.redeliveries
			s.mu.Unlock()
			if attempt-first < extra && attempt < maxRetries {
				continue // pretend the ack came too late
			}
			return Ack{EnvelopeID: id, Payload: f.Payload, Attempts: attempt + 1, Socket: socket, Sockets: sockets, Seq: f.seq}, nil
		case <-timer.C:
			s.logf("slackemu: envelope %s not acked within %s", id, s.opts.AckTimeout)
		case <-ctx.Done():
			timer.Stop()
			return Ack{}, ctx.Err()
		case <-s.quit:
			timer.Stop()
			return Ack{}, ErrClosed
		}
	}
	return Ack{EnvelopeID: id, Attempts: maxRetries + 1, Sockets: sockets}, fmt.Errorf("envelope %s (%s): %w", id, env.Type, ErrNotAcked)
}

// SetRedeliveries makes every envelope pushed from now on arrive n more
// times (at most 3) with retry_attempt counting up and retry_reason
// "timeout", even though the bot acks it: what Slack does when acks reach it
// late. Bots must handle each envelope once.
func (s *Server) SetRedeliveries(n int) {
	s.mu.Lock()
	s.redeliveries = n
	s.mu.Unlock()
}

// deliver writes env to the next connection in turn (skipping the one
// named avoid while there are others), waiting for one when none is
// connected and moving on to another when a write fails, and returns the
// id of the connection that took it.
func (s *Server) deliver(ctx context.Context, env envelope, avoid string) (string, error) {
	for {
		s.mu.Lock()
		var c *wsConn
		var live []*wsConn
		for _, x := range s.conns {
			if !x.draining {
				live = append(live, x)
			}
		}
		if len(live) > 0 {
			c = live[s.rr%len(live)]
			s.rr++
			if c.id == avoid && len(live) > 1 {
				c = live[s.rr%len(live)]
				s.rr++
			}
		}
		s.mu.Unlock()
		if c == nil {
			if err := s.WaitConnected(ctx, 1); err != nil {
				return "", err
			}
			continue
		}
		if err := c.writeJSON(env); err != nil {
			s.logf("slackemu: socket %s: envelope %s: %v", c.id, env.EnvelopeID, err)
			// The socket is broken; closing it makes its reader unregister it.
			_ = c.ws.Close()
			s.mu.Lock()
			c.draining = true
			s.mu.Unlock()
			continue
		}
		s.logf("slackemu: envelope %s (%s, attempt %d) sent on socket %s", env.EnvelopeID, env.Type, env.RetryAttempt, c.id)
		s.mu.Lock()
		s.notifyLocked()
		s.mu.Unlock()
		return c.id, nil
	}
}

// acceptsResponsePayload mirrors Slack: slash commands and interactions
// other than block actions may be answered in the ack; events may not.
func acceptsResponsePayload(typ string, payload json.RawMessage) bool {
	switch typ {
	case TypeSlashCommands:
		return true
	case TypeInteractive:
		var p struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(payload, &p)
		return p.Type != "block_actions"
	}
	return false
}

// PushEvent wraps an Events API event (e.g. {"type":"app_mention",…}) in an
// event_callback and pushes it as an events_api envelope. The inner type
// must be one slack-go knows, or the bot gets EventTypeErrorBadMessage and
// never acks.
func (s *Server) PushEvent(ctx context.Context, event json.RawMessage) (Ack, error) {
	s.mu.Lock()
	n := s.nextIDLocked()
	s.mu.Unlock()
	now := time.Now().Unix()
	payload, err := json.Marshal(obj{
		"token":      "emu-verification-token",
		"team_id":    s.opts.TeamID,
		"api_app_id": s.opts.AppID,
		"event":      event,
		"type":       "event_callback",
		"event_id":   fmt.Sprintf("Ev%010d", n),
		"event_time": now,
		"authorizations": []obj{{
			"enterprise_id":         nil,
			"team_id":               s.opts.TeamID,
			"user_id":               s.opts.BotUserID,
			"is_bot":                true,
			"is_enterprise_install": false,
		}},
		"is_ext_shared_channel": false,
		"event_context":         fmt.Sprintf("4-emu-%d", n),
	})
	if err != nil {
		return Ack{}, fmt.Errorf("encode event: %w", err)
	}
	return s.PushEnvelope(ctx, TypeEventsAPI, payload)
}

// PushSlashCommand pushes a slash command invocation and returns the bot's
// ack; its payload (text, blocks, response_type) is shown like Slack does:
// to the user as an ephemeral, or in the channel for "in_channel" — but
// only when the first delivery was acked in time: after a timeout Slack has
// told the user the command failed, and a late ack shows nothing. The
// command carries a response_url (Ack.ResponseURL) whose POSTs
// ResponseURLPosts records.
func (s *Server) PushSlashCommand(ctx context.Context, cmd SlashCommand) (Ack, error) {
	if cmd.UserID == "" {
		cmd.UserID = DefaultUserID
	}
	if cmd.UserName == "" {
		cmd.UserName = userName(cmd.UserID)
	}
	s.mu.Lock()
	if cmd.ChannelName == "" {
		if ch, ok := s.store.channels[cmd.ChannelID]; ok {
			cmd.ChannelName = ch.Name
		}
	}
	if cmd.TriggerID == "" {
		cmd.TriggerID = s.newTriggerLocked(cmd.UserID)
	} else {
		s.triggers[cmd.TriggerID] = cmd.UserID
	}
	target := responseTarget{kind: TypeSlashCommands, channel: cmd.ChannelID, user: cmd.UserID}
	responseURL := s.newResponseURLLocked(target)
	s.mu.Unlock()

	payload, err := json.Marshal(obj{
		"token":                 "emu-verification-token",
		"team_id":               s.opts.TeamID,
		"team_domain":           workspaceDomain,
		"channel_id":            cmd.ChannelID,
		"channel_name":          cmd.ChannelName,
		"user_id":               cmd.UserID,
		"user_name":             cmd.UserName,
		"command":               cmd.Command,
		"text":                  cmd.Text,
		"api_app_id":            s.opts.AppID,
		"is_enterprise_install": "false",
		"response_url":          responseURL,
		"trigger_id":            cmd.TriggerID,
	})
	if err != nil {
		return Ack{}, fmt.Errorf("encode slash command: %w", err)
	}
	ack, err := s.PushEnvelope(ctx, TypeSlashCommands, payload)
	ack.ResponseURL = responseURL
	if err != nil {
		return ack, err
	}
	if ack.Attempts == 1 {
		s.showAckPayload(target, ack.Payload)
	}
	return ack, nil
}

// PushBlockActions pushes an interactive envelope with a block_actions (or
// any other interaction) payload, e.g. one built by BlockActionsPayload.
func (s *Server) PushBlockActions(ctx context.Context, payload json.RawMessage) (Ack, error) {
	return s.PushEnvelope(ctx, TypeInteractive, payload)
}

// PushClick builds the block_actions payload for c and pushes it.
func (s *Server) PushClick(ctx context.Context, c Click) (Ack, error) {
	payload, err := s.BlockActionsPayload(c)
	if err != nil {
		return Ack{}, err
	}
	return s.PushBlockActions(ctx, payload)
}

// newTriggerLocked issues a trigger_id that views.open accepts. Callers
// hold s.mu.
func (s *Server) newTriggerLocked(user string) string {
	id := fmt.Sprintf("%d.%d.%s", time.Now().Unix(), s.nextIDLocked(), randomHex(16))
	s.triggers[id] = user
	return id
}

func newEnvelopeID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// userName is the handle synthesized for a user ID (users.info agrees).
func userName(id string) string {
	return "user-" + strings.ToLower(id)
}
