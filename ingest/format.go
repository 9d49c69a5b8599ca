package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

// Formats a source may use.
const (
	FormatGeneric = "generic"
	FormatX       = "x"
	FormatMeta    = "meta"
)

// Formats lists the source formats this version ingests.
var Formats = []string{FormatGeneric, FormatX, FormatMeta}

// MaxPlatformPosts bounds the posts one X or Meta request may carry. Meta
// batches at most 1000 updates per request; X sends a handful.
const MaxPlatformPosts = 1000

// format is how one kind of source authenticates and shapes its requests.
// The server runs the checks common to all formats (method, source, body
// size, content type), then verify, then parse, stores the posts, and lets
// the format answer.
type format interface {
	// verify checks the request's signature over the raw body. Its error
	// is safe to return to the caller.
	verify(h http.Header, body []byte, now time.Time) error
	// parse turns an authenticated body into posts. An error means the
	// body as a whole is unusable (400).
	parse(body []byte, source string) (batch, error)
	// reply answers once the posts are stored; results has one entry per
	// post of b.valid(), in order.
	reply(w http.ResponseWriter, b batch, results []store.IngestResult)
}

// handshaker is a format whose platform proves the endpoint with a GET
// before it sends events (X's CRC check, Meta's verification request).
// handshake writes the whole answer; a non-nil error says why it refused,
// for the log.
type handshaker interface {
	handshake(w http.ResponseWriter, r *http.Request) error
}

// batch is a parsed body.
type batch struct {
	array bool           // generic: the body was an array (207 answer)
	posts []routing.Post // in body order
	errs  []error        // generic: per post, nil where valid; nil slice means all valid
	skips []skip         // platform formats: events that are not posts
	// events, for platform formats, says where each post was in the body
	// and when its event happened.
	events []event
}

// event is where a platform post came from, and when the platform says
// it happened (zero if the body does not say).
type event struct {
	where string
	at    time.Time
}

// dropStale moves the platform posts whose event happened before cutoff
// to the skips. Platform bodies carry no signed time of sending, so a
// captured body stays valid for ever; once the store has pruned its posts
// it would no longer know them as duplicates. Generic bodies are not
// touched: their signed timestamp already limits replays to minutes.
func (b batch) dropStale(cutoff time.Time, retention time.Duration) batch {
	if b.events == nil {
		return b
	}
	out := b
	out.posts, out.events = nil, nil
	out.skips = slices.Clone(b.skips)
	for i, p := range b.posts {
		ev := b.events[i]
		if !ev.at.IsZero() && ev.at.Before(cutoff) {
			out.skips = append(out.skips, skip{event: ev.where, refused: "stale",
				reason: fmt.Sprintf("event of %s is older than the retention period (%s): a replay, or too late to tell from one", ev.at.UTC().Format(time.RFC3339), days(retention))})
			continue
		}
		out.posts = append(out.posts, p)
		out.events = append(out.events, ev)
	}
	return out
}

// skip is a platform event that did not become a post, and why.
type skip struct {
	event  string // where in the body, e.g. "entry[0].changes[1]"
	reason string
	// refused, when set, names why a post was refused rather than the
	// event not being one (e.g. "timestamp"): such skips are logged as
	// warnings and counted under this reason.
	refused string
}

// Why a platform event that is a post can still be refused.
var errTimeRange = errors.New("outside years 1 to 9999")

// refusal is the metric reason of a skip for err; "" when the event was
// simply not a post.
func refusal(err error) string {
	if errors.Is(err, errTimeRange) {
		return "timestamp"
	}
	return ""
}

// storableTime reports whether t can be stored: times are kept as RFC 3339
// text, which has four-digit years only, so any other time would fail the
// store's write on every retry.
func storableTime(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 1 && y <= 9999
}

// valid returns the posts to store.
func (b batch) valid() []routing.Post {
	if b.errs == nil {
		return b.posts
	}
	out := make([]routing.Post, 0, len(b.posts))
	for i, p := range b.posts {
		if b.errs[i] == nil {
			out = append(out, p)
		}
	}
	return out
}

// days writes d in days when it is whole days, as store.retention_days is.
func days(d time.Duration) string {
	const day = 24 * time.Hour
	if d >= day && d%day == 0 {
		return fmt.Sprintf("%d days", d/day)
	}
	return d.String()
}

// newFormat builds the format value of a configured source.
func newFormat(src Source, opts Options) (format, error) {
	if len(src.Secret) == 0 {
		return nil, fmt.Errorf("source %q: empty secret", src.Name)
	}
	switch src.Format {
	case FormatGeneric:
		if len(src.VerifyToken) > 0 {
			return nil, fmt.Errorf("source %q: format %q takes no verify token", src.Name, src.Format)
		}
		return genericFormat{secret: src.Secret, window: opts.ReplayWindow}, nil
	case FormatX:
		if len(src.VerifyToken) > 0 {
			return nil, fmt.Errorf("source %q: format %q takes no verify token", src.Name, src.Format)
		}
		return xFormat{secret: src.Secret}, nil
	case FormatMeta:
		if len(src.VerifyToken) == 0 {
			return nil, fmt.Errorf("source %q: format meta needs a verify token", src.Name)
		}
		return metaFormat{secret: src.Secret, verifyToken: src.VerifyToken}, nil
	}
	return nil, fmt.Errorf("source %q: format %q is not supported (supported: %s)", src.Name, src.Format, strings.Join(Formats, ", "))
}

// checkPost applies the limits every stored post meets. The messages name
// the generic format's fields, which is where a caller can fix them.
func checkPost(p routing.Post) error {
	switch {
	case p.ExternalID == "":
		return errors.New("id: required")
	case len(p.ExternalID) > maxIDLen:
		return fmt.Errorf("id: longer than %d bytes", maxIDLen)
	case p.Platform == "":
		return errors.New("platform: required")
	case !routing.ValidPlatform(p.Platform):
		return fmt.Errorf("platform: %q is not one of %s", p.Platform, strings.Join(routing.Platforms, ", "))
	case strings.TrimSpace(p.Text) == "":
		return errors.New("text: required and not blank")
	case !utf8.ValidString(p.Text):
		return errors.New("text: not valid UTF-8")
	case utf8.RuneCountInString(p.Text) > MaxTextRunes:
		return fmt.Errorf("text: %d characters; at most %d", utf8.RuneCountInString(p.Text), MaxTextRunes)
	case p.Author.Followers < 0:
		return errors.New("author.followers: must not be negative")
	case len(p.Author.Handle) > maxIDLen:
		return fmt.Errorf("author.handle: longer than %d bytes", maxIDLen)
	case len(p.Author.Name) > maxFieldLen:
		return fmt.Errorf("author.name: longer than %d bytes", maxFieldLen)
	case len(p.ConversationID) > maxIDLen:
		return fmt.Errorf("conversation_id: longer than %d bytes", maxIDLen)
	case len(p.InReplyTo) > maxIDLen:
		return fmt.Errorf("in_reply_to: longer than %d bytes", maxIDLen)
	case len(p.Lang) > 35: // the longest BCP 47 tags in use
		return errors.New("lang: not a language tag")
	case !p.CreatedAt.IsZero() && !storableTime(p.CreatedAt):
		return fmt.Errorf("created_at: year %d (UTC) is %w", p.CreatedAt.UTC().Year(), errTimeRange)
	}
	if p.URL != "" && !validURL(p.URL) {
		return errors.New("url: must be an absolute http(s) URL")
	}
	return nil
}

func validURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && len(s) <= maxFieldLen
}

// platformPost finishes a post mapped from a platform event: what a
// platform may legitimately send beyond our limits (long posts, long
// names, odd links) is trimmed rather than refused, so an event is never
// lost over a detail; what is left must pass checkPost.
func platformPost(p routing.Post) (routing.Post, error) {
	if strings.TrimSpace(p.Text) == "" {
		return p, errors.New("no text to route (media or attachments only)")
	}
	p.Text = truncateRunes(p.Text, MaxTextRunes)
	p.Author.Name = truncateBytes(p.Author.Name, maxFieldLen)
	if len(p.Author.Handle) > maxIDLen {
		p.Author.Handle = ""
	}
	if p.Author.Followers < 0 {
		p.Author.Followers = 0
	}
	if len(p.ConversationID) > maxIDLen {
		p.ConversationID = ""
	}
	if len(p.InReplyTo) > maxIDLen {
		p.InReplyTo = ""
	}
	if len(p.Lang) > 35 || p.Lang == "und" {
		p.Lang = ""
	}
	if p.URL != "" && !validURL(p.URL) {
		p.URL = ""
	}
	return p, checkPost(p)
}

// truncateRunes shortens s to at most n runes, marking the cut with "…".
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	count := 0
	for i := range s {
		if count == n-1 {
			return s[:i] + "…"
		}
		count++
	}
	return s
}

// truncateBytes shortens s to at most n bytes without splitting a rune.
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// summary is how X and Meta requests are answered: 200 once everything
// worth keeping is stored, with what became of each event. Platforms
// retry anything but 2xx, so per-event problems are reported here, not
// as an error status.
type summary struct {
	Status    string `json:"status"` // always "ok"
	Events    int    `json:"events"`
	Accepted  int    `json:"accepted"`
	Duplicate int    `json:"duplicate"`
	Skipped   int    `json:"skipped"`
}

func replySummary(w http.ResponseWriter, b batch, results []store.IngestResult) {
	s := summary{Status: "ok", Skipped: len(b.skips)}
	for _, r := range results {
		if r.Duplicate {
			s.Duplicate++
		} else {
			s.Accepted++
		}
	}
	s.Events = s.Accepted + s.Duplicate + s.Skipped
	writeJSON(w, http.StatusOK, s)
}

// jsonObject opens a platform body: one JSON object. Platform formats
// read the fields they know from it and skip the rest.
func jsonObject(body []byte) (jsonObj, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, errors.New("body is empty")
	}
	if trimmed[0] != '{' {
		return nil, errors.New("body must be a JSON object")
	}
	var o jsonObj
	if err := decodeStrict(body, &o); err != nil {
		return nil, err
	}
	return o, nil
}

// unixTime reads a platform timestamp given in seconds or milliseconds
// since the epoch; zero if s is not one. A number too large even for
// milliseconds gives a time past year 9999, so that checkPost refuses the
// event rather than storing it as if it had no time.
func unixTime(s string) time.Time {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return time.Time{}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err != nil: // more than 63 bits
		return beyondYear9999
	case n > 100_000_000_000: // beyond 5138 in seconds: milliseconds
		return time.UnixMilli(n).UTC()
	}
	return time.Unix(n, 0).UTC()
}

// beyondYear9999 is a time no store can keep.
var beyondYear9999 = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
