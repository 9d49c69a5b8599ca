package slackemu

import (
	"encoding/json"
	"errors"
	"time"
)

// Defaults applied by New to empty Options fields. The IDs look like Slack's
// (a type letter, then upper-case alphanumerics) because bots and slack-go
// sometimes branch on the first letter (C… channel, U… user, D… DM).
const (
	DefaultBotToken     = "xoxb-0000000001-0000000002-slackemu"
	DefaultAppToken     = "xapp-1-AEMU0APP01-0000000003-slackemu"
	DefaultTeamID       = "TEMU0TEAM1"
	DefaultBotUserID    = "UEMU0BOT01"
	DefaultBotID        = "BEMU0BOT01"
	DefaultAppID        = "AEMU0APP01"
	DefaultUserID       = "UEMU0USER1"
	DefaultPingInterval = 2 * time.Second
	DefaultAckTimeout   = 3 * time.Second
)

// maxRetries is how often Slack redelivers an envelope that was not acked
// in time before giving up on it.
const maxRetries = 3

// Sentinel errors returned by the Server.
var (
	// ErrClosed is returned by calls that were waiting when Close ran.
	ErrClosed = errors.New("slackemu: server closed")
	// ErrNotAcked is returned by the Push methods when the bot did not ack an
	// envelope after the first delivery and every redelivery.
	ErrNotAcked = errors.New("slackemu: envelope not acked")
	// ErrNotFound is returned when a message, or an element on it, does not exist.
	ErrNotFound = errors.New("slackemu: not found")
)

// Options configures a Server. Empty fields get the Default… values.
type Options struct {
	// BotToken is the xoxb- token Web API calls must carry.
	BotToken string
	// AppToken is the xapp- token apps.connections.open must carry.
	AppToken string
	// TeamID, BotUserID, BotID and AppID identify the workspace and the bot.
	TeamID, BotUserID, BotID, AppID string
	// Addr is the listen address; default 127.0.0.1:0 (a free port).
	Addr string
	// PingInterval is how often WebSocket PING control frames are sent.
	// slack-go's socketmode client reconnects when no PING arrives within
	// its own interval (socketmode.OptionPingInterval, default 30 s), so this
	// must stay well below the client's. Default 2 s.
	PingInterval time.Duration
	// AckTimeout is how long an envelope may stay un-acked before it is
	// redelivered with retry_attempt+1 and retry_reason "timeout" (up to 3
	// redeliveries, like Slack). Default 3 s.
	AckTimeout time.Duration
	// Channels are the channels known at start; the bot is a member of each.
	Channels []Channel
	// Logf, if set, receives one line per notable event (calls, faults,
	// connections, envelopes). Tokens are never logged.
	Logf func(format string, args ...any)
}

// Channel is a conversation the emulator knows.
type Channel struct {
	ID   string
	Name string
}

// Metadata is Slack message metadata, as posted.
type Metadata struct {
	EventType    string
	EventPayload json.RawMessage
}

// MessageVersion is an earlier state of a message replaced by chat.update or
// by a response_url reply with replace_original.
type MessageVersion struct {
	Text   string
	Blocks json.RawMessage
}

// Reaction is one emoji on a message and who added it.
type Reaction struct {
	Name  string
	Users []string
}

// Message is a message as stored by the emulator. Values returned by the
// Server are deep copies.
type Message struct {
	Channel string
	TS      string
	// ThreadTS is the parent's ts for a thread reply and empty otherwise.
	ThreadTS string
	// User is the author; for messages the bot posted it is the bot user ID
	// and BotID is set as well.
	User  string
	BotID string
	Text  string
	// Blocks is the Block Kit JSON array exactly as received (nil if none).
	Blocks   json.RawMessage
	Metadata *Metadata
	// ReplyBroadcast marks a thread reply also shown in the channel.
	ReplyBroadcast bool
	// ReplyCount is the number of thread replies (parents only).
	ReplyCount int
	// Edited is true once the message was updated; Versions holds every
	// earlier state, oldest first.
	Edited   bool
	Versions []MessageVersion
	// Recipient is the only user who sees an ephemeral message.
	Recipient string
	Reactions []Reaction
}

// View is a view the bot published (home tab) or opened (modal).
type View struct {
	ID         string
	Type       string
	UserID     string
	ExternalID string
	Hash       string
	// JSON is the view object as the bot sent it.
	JSON json.RawMessage
}

// ResponseURLPost is one JSON POST to a response_url the emulator handed out
// with a slash command or a block action.
type ResponseURLPost struct {
	URL string
	// Kind is "slash_commands" or "block_actions": what the URL came with.
	Kind      string
	ChannelID string
	UserID    string
	// MessageTS is the message a block action came from (empty for commands).
	MessageTS       string
	Text            string
	ResponseType    string
	ReplaceOriginal bool
	DeleteOriginal  bool
	// Body is the JSON body as received.
	Body json.RawMessage
}

// Ack is the bot's acknowledgement of an envelope.
type Ack struct {
	EnvelopeID string
	// Payload is the ack's "payload" member (nil when the bot sent none).
	Payload json.RawMessage
	// Attempts is 1 when the first delivery was acked, 2 after one
	// redelivery, and so on.
	Attempts int
	// Socket is the id of the connection the envelope was last sent on;
	// with several apps' connections, it tells which one handled it.
	Socket string
}

// Fault changes the answers of one Web API method until cleared.
type Fault struct {
	// Times is how many calls it affects; 0 means until ClearFaults.
	Times int
	// Delay holds the answer back (the caller's context can end it first).
	Delay time.Duration
	// RateLimit, in seconds, answers HTTP 429 with that Retry-After.
	RateLimit int
	// Status answers with this HTTP status (e.g. 500, 503) and an error body.
	Status int
	// Error answers HTTP 200 {"ok":false,"error":Error}.
	Error string
	// AfterEffect lets the call take effect first and applies the fault to
	// its answer only: the caller cannot tell whether it did. With Delay
	// alone the real answer comes late (a caller's timeout may end the
	// wait first); with RateLimit, Status or Error the change stays made
	// although the answer says it failed.
	AfterEffect bool
}

// SlashCommand is an invocation of a slash command by a user. Empty fields
// get defaults: UserID DefaultUserID, names derived from IDs, TriggerID fresh.
type SlashCommand struct {
	Command     string
	Text        string
	UserID      string
	UserName    string
	ChannelID   string
	ChannelName string
	TriggerID   string
}

// Click is a user's interaction with an interactive element of a stored
// message: a button, or a static_select when SelectedValue is set.
type Click struct {
	// UserID defaults to DefaultUserID.
	UserID    string
	Channel   string
	MessageTS string
	ActionID  string
	// Value overrides the button's value from the message.
	Value string
	// SelectedValue picks the option with that value in a static_select.
	SelectedValue string
}
