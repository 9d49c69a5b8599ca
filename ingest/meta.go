package ingest

import (
	"bytes"
	"cmp"
	"crypto/hmac"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

// HeaderMetaSignature carries Meta's signature of an event notification:
// "sha256=" + hex(HMAC-SHA256(app secret, raw body)).
const HeaderMetaSignature = "X-Hub-Signature-256"

// maxChallenge bounds the hub.challenge socialroute echoes (Meta sends an
// integer).
const maxChallenge = 256

// metaFormat is Meta's Webhooks product for Facebook Pages and Instagram
// professional accounts: a verification GET, then signed POSTs of
// {"object": "page"|"instagram", "entry": [...]}, each entry carrying
// changes[] (feed, mention, comments, mentions, ...) or messaging[]
// (Messenger and Instagram messages).
//
// Payload shapes:
// https://developers.facebook.com/docs/graph-api/webhooks/getting-started (verification, signature, envelope),
// https://developers.facebook.com/docs/graph-api/webhooks/reference/page (feed, mention),
// https://developers.facebook.com/docs/instagram-platform/webhooks/examples (comments, mentions, messaging),
// https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages (messages).
type metaFormat struct {
	secret      []byte // the Meta app's App Secret
	verifyToken []byte // the Verify Token entered in the App Dashboard
}

// SignMeta returns the X-Hub-Signature-256 value for body, as Meta
// computes it; tests and tools that replay Meta payloads use it.
func SignMeta(appSecret, body []byte) string {
	return "sha256=" + hex.EncodeToString(hmacSHA256(appSecret, body))
}

func (f metaFormat) verify(h http.Header, body []byte, _ time.Time) error {
	sig := h.Get(HeaderMetaSignature)
	if sig == "" {
		return fmt.Errorf("missing %s header", HeaderMetaSignature)
	}
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(sig), "sha256=")
	if !ok {
		return errors.New(HeaderMetaSignature + `: want "sha256=<hex HMAC-SHA256>"`)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || !hmac.Equal(got, hmacSHA256(f.secret, body)) {
		return errors.New(HeaderMetaSignature + ": signature does not match")
	}
	return nil
}

// handshake answers Meta's verification request: GET with
// hub.mode=subscribe, hub.verify_token and hub.challenge is answered with
// the bare challenge when the token matches the configured one.
func (f metaFormat) handshake(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	challenge := q.Get("hub.challenge")
	code, problem := http.StatusBadRequest, ""
	switch {
	case q.Get("hub.mode") != "subscribe":
		problem = `hub.mode: want "subscribe"`
	case challenge == "":
		problem = "missing hub.challenge query parameter"
	case len(challenge) > maxChallenge || strings.ContainsFunc(challenge, func(c rune) bool { return c < 0x21 || c > 0x7e }):
		problem = fmt.Sprintf("hub.challenge: want at most %d printable ASCII characters", maxChallenge)
	case subtle.ConstantTimeCompare([]byte(q.Get("hub.verify_token")), f.verifyToken) != 1:
		code, problem = http.StatusForbidden, "hub.verify_token does not match this source's verify_token"
	}
	if problem != "" {
		writeError(w, code, problem)
		return errors.New(problem)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(challenge))
	return nil
}

func (metaFormat) reply(w http.ResponseWriter, b batch, results []store.IngestResult) {
	replySummary(w, b, results)
}

// metaPlatforms maps the object of a notification to the platform of its
// posts.
var metaPlatforms = map[string]string{"page": "facebook", "instagram": "instagram"}

// parse maps Page feed comments and visitor posts, Page mentions,
// Instagram comments and mentions, and Messenger and Instagram messages to
// posts. Everything else — reactions, edits, the account's own activity,
// fields and objects socialroute does not route — is skipped, never
// refused: Meta disables webhooks that keep failing.
func (metaFormat) parse(body []byte, source string) (batch, error) {
	m := metaBody{source: source}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '[' {
		// Meta's example pages wrap notifications in an array; accept
		// that form too.
		var list []json.RawMessage
		if err := decodeStrict(body, &list); err != nil {
			return batch{}, err
		}
		for i, raw := range list {
			where := fmt.Sprintf("[%d]", i)
			env, ok := asObj(raw)
			if !ok {
				m.skip(where, "not a notification object")
				continue
			}
			m.notification(where+".", env)
		}
	} else {
		env, err := jsonObject(body)
		if err != nil {
			return batch{}, err
		}
		m.notification("", env)
	}
	if len(m.b.posts) > MaxPlatformPosts {
		return batch{}, fmt.Errorf("body has %d posts; at most %d are allowed per request", len(m.b.posts), MaxPlatformPosts)
	}
	return m.b, nil
}

// metaBody collects the posts and skips of one notification body.
type metaBody struct {
	source string
	b      batch
	// entryTime is the time of the entry being read: when Meta says the
	// change happened.
	entryTime time.Time
}

func (m *metaBody) skip(where, reason string) {
	m.b.skips = append(m.b.skips, skip{event: where, reason: reason})
}

func (m *metaBody) add(where string, p routing.Post) {
	p.Source = m.source
	p, err := platformPost(p)
	if err != nil {
		m.b.skips = append(m.b.skips, skip{event: where, reason: err.Error(), refused: refusal(err)})
		return
	}
	m.b.posts = append(m.b.posts, p)
	at := p.CreatedAt
	if at.IsZero() {
		at = m.entryTime // e.g. Instagram mentions, which carry no time
	}
	m.b.events = append(m.b.events, event{where: where, at: at})
}

// notification handles one {"object", "entry"} value; where prefixes the
// event locations it reports.
func (m *metaBody) notification(where string, env jsonObj) {
	object := env.str("object")
	platform := metaPlatforms[object]
	entries, ok := env.arr("entry")
	if !ok {
		m.skip(where+"entry", "not an array")
		return
	}
	for i, raw := range entries {
		at := fmt.Sprintf("%sentry[%d]", where, i)
		e, ok := asObj(raw)
		switch {
		case !ok:
			m.skip(at, "not an object")
			continue
		case platform == "":
			m.skip(at, fmt.Sprintf("object %q is not a Page or an Instagram account", object))
			continue
		}
		m.entryTime = unixTime(e.str("time"))
		m.entry(at, platform, e)
	}
}

// entry handles one entry: its changes, its messaging events, or (in the
// form Meta documents for Instagram Login) one field and value of its own.
func (m *metaBody) entry(at, platform string, e jsonObj) {
	account := e.str("id") // the Page or Instagram account
	events := 0
	for _, key := range []string{"changes", "messaging", "standby"} {
		items, ok := e.arr(key)
		if !ok {
			m.skip(at+"."+key, "not an array")
			events++
			continue
		}
		for j, raw := range items {
			where := fmt.Sprintf("%s.%s[%d]", at, key, j)
			events++
			switch key {
			case "changes":
				c, ok := asObj(raw)
				if !ok {
					m.skip(where, "not a change object")
					continue
				}
				m.change(where, platform, account, c)
			case "messaging":
				m.message(where, platform, account, raw)
			default:
				m.skip(where, "standby: another app owns the conversation")
			}
		}
	}
	if _, flat := e["field"]; flat && e["changes"] == nil {
		m.change(at, platform, account, e)
		events++
	}
	if events == 0 {
		reason := "no changes or messaging"
		if _, ok := e["changed_fields"]; ok {
			reason = "changed_fields without values (turn on Include Values for the subscription)"
		}
		m.skip(at, reason)
	}
}

// change routes one {"field", "value"} change.
func (m *metaBody) change(where, platform, account string, c jsonObj) {
	field := c.str("field")
	v := c.obj("value")
	if v == nil {
		m.skip(where, fmt.Sprintf("%s webhook field %q without a value object", platform, field))
		return
	}
	switch {
	case platform == "facebook" && field == "feed":
		m.feed(where, account, v)
	case platform == "facebook" && field == "mention":
		m.pageMention(where, v)
	case platform == "instagram" && (field == "comments" || field == "live_comments"):
		m.igComment(where, account, v)
	case platform == "instagram" && field == "mentions":
		m.igMention(where, v)
	default:
		m.skip(where, fmt.Sprintf("%s webhook field %q is not routed", platform, field))
	}
}

// feedPostItems are the feed items that are someone's post on the Page.
var feedPostItems = []string{"status", "post", "photo", "video", "share", "link"}

// feed handles a Page feed change: new comments on the Page's posts and
// new posts visitors leave on the Page. The Page's own posts and comments
// are skipped, and so are reactions, edits and removals.
func (m *metaBody) feed(where, page string, v jsonObj) {
	item, verb := v.str("item"), v.str("verb")
	if verb != "add" {
		m.skip(where, fmt.Sprintf("feed %s %q: only new posts and comments are routed", item, verb))
		return
	}
	author, authorID := fbAuthor(v)
	postID := v.str("post_id")
	p := routing.Post{
		Platform:       "facebook",
		Text:           v.str("message"),
		Author:         author,
		URL:            fbURL(v, postID),
		CreatedAt:      metaTime(v.str("created_time")),
		ConversationID: postID,
	}
	switch {
	case item == "comment":
		p.ExternalID = v.str("comment_id")
		p.InReplyTo = cmp.Or(v.str("parent_id"), postID)
	case slices.Contains(feedPostItems, item):
		p.ExternalID = postID
	default:
		m.skip(where, fmt.Sprintf("feed item %q is not a post or comment", item))
		return
	}
	if page != "" && authorID == page {
		m.skip(where, "the Page's own "+item)
		return
	}
	m.add(where, p)
}

// pageMention handles a mention of the Page in someone's post or comment.
func (m *metaBody) pageMention(where string, v jsonObj) {
	item, verb := v.str("item"), v.str("verb")
	if verb != "add" {
		m.skip(where, fmt.Sprintf("mention %s %q: only new mentions are routed", item, verb))
		return
	}
	author, _ := fbAuthor(v)
	postID := v.str("post_id")
	p := routing.Post{
		ExternalID:     postID,
		Platform:       "facebook",
		Text:           v.str("message"),
		Author:         author,
		URL:            fbURL(v, postID),
		CreatedAt:      metaTime(v.str("created_time")),
		ConversationID: postID,
	}
	if id := v.str("comment_id"); item == "comment" && id != "" {
		p.ExternalID = id
		p.InReplyTo = cmp.Or(v.str("parent_id"), postID)
	}
	m.add(where, p)
}

// fbAuthor reads who wrote a Page feed or mention value: from{id,name},
// or sender_id and sender_name in older and mention payloads.
func fbAuthor(v jsonObj) (routing.Author, string) {
	from := v.obj("from")
	return routing.Author{Name: cmp.Or(from.str("name"), v.str("sender_name"))}, cmp.Or(from.str("id"), v.str("sender_id"))
}

// fbURL links to the post: its permalink when the notification has one,
// else the post id, which facebook.com resolves.
func fbURL(v jsonObj, postID string) string {
	if u := cmp.Or(v.str("permalink_url"), v.obj("post").str("permalink_url")); u != "" {
		return u
	}
	if postID == "" {
		return ""
	}
	return "https://www.facebook.com/" + url.PathEscape(postID)
}

// igComment handles a comment on the account's media.
func (m *metaBody) igComment(where, account string, v jsonObj) {
	from := v.obj("from")
	if account != "" && from.str("id") == account {
		m.skip(where, "the account's own comment")
		return
	}
	media := v.obj("media").str("id")
	p := routing.Post{
		ExternalID:     cmp.Or(v.str("id"), v.str("comment_id")),
		Platform:       "instagram",
		Text:           v.str("text"),
		URL:            v.str("permalink"),
		CreatedAt:      metaTime(cmp.Or(v.str("timestamp"), v.str("created_time"))),
		ConversationID: media,
		InReplyTo:      cmp.Or(v.str("parent_id"), media),
	}
	if u := from.str("username"); u != "" {
		p.Author.Handle = "@" + u
	}
	m.add(where, p)
}

// igMention handles an @mention of the account in someone's comment or
// caption. Instagram's notification carries only the ids (reading the
// text needs a Graph API call with the account's token), so the post says
// where to look; it usually goes to triage.
func (m *metaBody) igMention(where string, v jsonObj) {
	media, comment := v.str("media_id"), v.str("comment_id")
	text := v.str("text")
	if strings.TrimSpace(text) == "" {
		if comment != "" {
			text = fmt.Sprintf("@mention in an Instagram comment (comment %s on media %s). Instagram sends no text with mentions: open the comment on Instagram to read it.", comment, media)
		} else {
			text = fmt.Sprintf("@mention in the caption of Instagram media %s. Instagram sends no text with mentions: open the media on Instagram to read it.", media)
		}
	}
	m.add(where, routing.Post{
		ExternalID:     cmp.Or(comment, media),
		Platform:       "instagram",
		Text:           text,
		URL:            v.str("permalink"),
		ConversationID: media,
	})
}

// message handles one messaging event. Only messages people send to the
// Page or account become posts: echoes of its own messages, deletions,
// reactions, reads, deliveries and postbacks are skipped.
func (m *metaBody) message(where, platform, account string, raw json.RawMessage) {
	ev, ok := asObj(raw)
	if !ok {
		m.skip(where, "not a messaging event object")
		return
	}
	msg := ev.obj("message")
	sender := ev.obj("sender").str("id")
	switch {
	case msg == nil:
		m.skip(where, fmt.Sprintf("messaging %s is not a message", messagingKind(ev)))
		return
	case msg.flag("is_echo"):
		m.skip(where, "an echo of a message the account sent")
		return
	case msg.flag("is_deleted"):
		m.skip(where, "a deleted message")
		return
	case msg.flag("is_self"):
		m.skip(where, "Meta's self-test message")
		return
	case account != "" && sender == account:
		m.skip(where, "a message the account sent")
		return
	}
	m.add(where, routing.Post{
		ExternalID: msg.str("mid"),
		Platform:   platform,
		Text:       msg.str("text"),
		CreatedAt:  unixTime(ev.str("timestamp")),
		// The thread with this person; Messenger and Instagram give
		// only a scoped id, no name or handle.
		ConversationID: sender,
	})
}

// messagingKind names what a messaging event carries, e.g. "read".
func messagingKind(ev jsonObj) string {
	var kinds []string
	for k := range ev {
		if k != "sender" && k != "recipient" && k != "timestamp" {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) == 0 {
		return "event without content"
	}
	slices.Sort(kinds)
	return strings.Join(kinds, "+")
}

// metaTime reads created_time: Unix seconds (Page webhooks) or an ISO 8601
// time such as 2026-11-20T14:03:00+0000 (Graph API objects).
func metaTime(s string) time.Time {
	if t := unixTime(s); !t.IsZero() {
		return t
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05-0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
