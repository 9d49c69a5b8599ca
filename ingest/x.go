package ingest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

// HeaderXSignature carries X's signature of an Account Activity POST:
// "sha256=" + base64(HMAC-SHA256(consumer secret, raw body)).
const HeaderXSignature = "X-Twitter-Webhooks-Signature"

// maxCRCToken bounds the crc_token socialroute answers for.
const maxCRCToken = 256

// xFormat is X's Account Activity API: a CRC challenge on GET, signed
// POSTs whose bodies carry tweet_create_events and direct_message_events
// for one subscribed account (for_user_id).
//
// Payload shapes:
// https://docs.x.com/x-api/account-activity/introduction (payload examples),
// https://docs.x.com/x-api/webhooks/quickstart (CRC and signature).
type xFormat struct {
	secret []byte // the X app's consumer secret (API secret key)
}

// SignX returns the X-Twitter-Webhooks-Signature value for body, as X
// computes it; tests and tools that replay X payloads use it.
func SignX(consumerSecret, body []byte) string {
	return "sha256=" + base64.StdEncoding.EncodeToString(hmacSHA256(consumerSecret, body))
}

// CRCResponse is the response_token X expects for crc_token.
func CRCResponse(consumerSecret []byte, crcToken string) string {
	return SignX(consumerSecret, []byte(crcToken))
}

func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

func (f xFormat) verify(h http.Header, body []byte, _ time.Time) error {
	sig := h.Get(HeaderXSignature)
	if sig == "" {
		return fmt.Errorf("missing %s header", HeaderXSignature)
	}
	b64, ok := strings.CutPrefix(strings.TrimSpace(sig), "sha256=")
	if !ok {
		return errors.New(HeaderXSignature + `: want "sha256=<base64 HMAC-SHA256>"`)
	}
	// Compared as text, in constant time: base64 decoding would skip line
	// breaks, letting more than one spelling of a signature pass.
	want := base64.StdEncoding.EncodeToString(hmacSHA256(f.secret, body))
	if !hmac.Equal([]byte(b64), []byte(want)) {
		return errors.New(HeaderXSignature + ": signature does not match")
	}
	return nil
}

// handshake answers X's challenge-response check: GET ?crc_token=T is
// answered {"response_token": "sha256=" + base64(HMAC-SHA256(secret, T))}.
//
// The answer is an HMAC under the same key that signs POST bodies, so an
// unrestricted CRC endpoint would sign any body a caller passed as the
// token. Tokens are therefore limited to the characters X's tokens are
// made of (base64 and URL-safe ones), none of which can start a JSON
// object: nothing signed here can pass as an event body.
func (f xFormat) handshake(w http.ResponseWriter, r *http.Request) error {
	token := r.URL.Query().Get("crc_token")
	var problem string
	switch {
	case token == "":
		problem = "missing crc_token query parameter"
	case len(token) > maxCRCToken:
		problem = fmt.Sprintf("crc_token: longer than %d bytes", maxCRCToken)
	case !crcTokenChars(token):
		problem = "crc_token: only letters, digits and -._~+/= are allowed"
	}
	if problem != "" {
		writeError(w, http.StatusBadRequest, problem)
		return errors.New(problem)
	}
	writeJSON(w, http.StatusOK, map[string]string{"response_token": CRCResponse(f.secret, token)})
	return nil
}

func crcTokenChars(s string) bool {
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-._~+/=", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func (xFormat) reply(w http.ResponseWriter, b batch, results []store.IngestResult) {
	replySummary(w, b, results)
}

// xEnvelopeFields are the top-level keys of an Account Activity body that
// describe the events rather than being events themselves.
var xEnvelopeFields = []string{"for_user_id", "users", "apps", "user_has_blocked", "is_blocked_by"}

// parse maps tweet_create_events (mentions, replies, quotes) and
// direct_message_events (message_create) to posts. The account's own
// tweets and DMs, retweets, and every other kind of event (likes, follows,
// typing, deletes, ...) are skipped.
func (xFormat) parse(body []byte, source string) (batch, error) {
	env, err := jsonObject(body)
	if err != nil {
		return batch{}, err
	}
	x := xBody{source: source, account: env.str("for_user_id"), users: env.obj("users")}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	slices.Sort(keys) // a stable order of skips, for logs and tests
	for _, key := range keys {
		if slices.Contains(xEnvelopeFields, key) {
			continue
		}
		events, ok := env.arr(key)
		if !ok {
			x.skip(key, key+" is not a post") // e.g. user_event (a revoke)
			continue
		}
		for i, raw := range events {
			where := fmt.Sprintf("%s[%d]", key, i)
			switch key {
			case "tweet_create_events":
				x.tweet(where, raw)
			case "direct_message_events":
				x.dm(where, raw)
			default:
				x.skip(where, key+" are not posts")
			}
		}
	}
	if len(x.b.posts) > MaxPlatformPosts {
		return batch{}, fmt.Errorf("body has %d posts; at most %d are allowed per request", len(x.b.posts), MaxPlatformPosts)
	}
	return x.b, nil
}

// xBody collects the posts and skips of one Account Activity body.
type xBody struct {
	source  string
	account string  // for_user_id: the subscribed account
	users   jsonObj // DM bodies: user objects by id
	b       batch
}

func (x *xBody) skip(where, reason string) {
	x.b.skips = append(x.b.skips, skip{event: where, reason: reason})
}

func (x *xBody) add(where string, p routing.Post) {
	p, err := platformPost(p)
	if err != nil {
		x.b.skips = append(x.b.skips, skip{event: where, reason: err.Error(), refused: refusal(err)})
		return
	}
	x.b.posts = append(x.b.posts, p)
	x.b.events = append(x.b.events, event{where: where, at: p.CreatedAt})
}

// tweet maps a v1.1 Tweet object.
// https://developer.x.com/en/docs/x-api/v1/data-dictionary/object-model/tweet
func (x *xBody) tweet(where string, raw json.RawMessage) {
	t, ok := asObj(raw)
	if !ok {
		x.skip(where, "not a Tweet object")
		return
	}
	user := t.obj("user")
	switch {
	case x.account != "" && xUserID(user) == x.account:
		x.skip(where, "the account's own tweet")
		return
	case t.obj("retweeted_status") != nil:
		x.skip(where, "a retweet")
		return
	}
	id := t.str("id_str")
	if id == "" {
		id = t.str("id")
	}
	text := t.str("text")
	if full := t.str("full_text"); full != "" {
		text = full
	}
	if ext := t.obj("extended_tweet"); ext.str("full_text") != "" {
		text = ext.str("full_text") // longer posts: text holds only the start
	}
	created, err := time.Parse(time.RubyDate, t.str("created_at"))
	if err != nil {
		created = unixTime(t.str("timestamp_ms"))
	}
	x.add(where, routing.Post{
		Source:     x.source,
		ExternalID: id,
		Platform:   "x",
		// v1.1 text escapes &, < and > as HTML entities.
		Text:      html.UnescapeString(text),
		Author:    xAuthor(user),
		URL:       tweetURL(user.str("screen_name"), id),
		CreatedAt: created.UTC(),
		InReplyTo: t.str("in_reply_to_status_id_str"),
		Lang:      t.str("lang"),
	})
}

func xUserID(u jsonObj) string {
	if id := u.str("id_str"); id != "" {
		return id
	}
	return u.str("id")
}

func xAuthor(u jsonObj) routing.Author {
	a := routing.Author{
		Name:      u.str("name"),
		Followers: u.num("followers_count"),
		Verified:  u.flag("verified"),
	}
	if sn := u.str("screen_name"); sn != "" {
		a.Handle = "@" + sn
	}
	return a
}

func tweetURL(screenName, id string) string {
	if id == "" {
		return ""
	}
	if screenName == "" {
		return "https://x.com/i/status/" + id
	}
	return "https://x.com/" + screenName + "/status/" + id
}

// dm maps a message_create Direct Message event; the sender's profile is
// in the body's users object.
func (x *xBody) dm(where string, raw json.RawMessage) {
	e, ok := asObj(raw)
	if !ok {
		x.skip(where, "not a Direct Message event")
		return
	}
	if typ := e.str("type"); typ != "message_create" {
		x.skip(where, fmt.Sprintf("direct message event of type %q", typ))
		return
	}
	mc := e.obj("message_create")
	sender := mc.str("sender_id")
	if x.account != "" && sender == x.account {
		x.skip(where, "a direct message the account sent")
		return
	}
	p := routing.Post{
		Source:     x.source,
		ExternalID: e.str("id"),
		Platform:   "x",
		Text:       html.UnescapeString(mc.obj("message_data").str("text")),
		Author:     xAuthor(x.users.obj(sender)),
		CreatedAt:  unixTime(e.str("created_timestamp")),
	}
	if recipient := mc.obj("target").str("recipient_id"); sender != "" && recipient != "" {
		// One-to-one conversations are named by both user ids, lower
		// first, in X's URLs and DM APIs.
		a, b := sender, recipient
		if len(a) > len(b) || (len(a) == len(b) && a > b) {
			a, b = b, a
		}
		p.ConversationID = a + "-" + b
		p.URL = "https://x.com/messages/" + p.ConversationID
	}
	x.add(where, p)
}
