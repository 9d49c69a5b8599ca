package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

// Limits of the generic format.
const (
	MaxBatch     = 100   // posts in one array body
	MaxTextRunes = 10000 // characters of text
	maxIDLen     = 256   // bytes in ids and handles
	maxFieldLen  = 2048  // bytes in names and URLs
)

// genericPost is the wire form of one post in the generic format.
type genericPost struct {
	ID       string `json:"id"`
	Platform string `json:"platform"`
	Text     string `json:"text"`
	Author   struct {
		Handle    string `json:"handle"`
		Name      string `json:"name"`
		Followers int64  `json:"followers"`
		Verified  bool   `json:"verified"`
	} `json:"author"`
	URL            string `json:"url"`
	CreatedAt      string `json:"created_at"`
	ConversationID string `json:"conversation_id"`
	InReplyTo      string `json:"in_reply_to"`
	Lang           string `json:"lang"`
}

// genericFormat is socialroute's own format (DESIGN.md, "Webhook
// ingestion"): one post or an array of up to MaxBatch, signed with
// X-Socialroute-Signature over the timestamp and body.
type genericFormat struct {
	secret []byte
	window time.Duration // replay window for X-Socialroute-Timestamp
}

func (f genericFormat) verify(h http.Header, body []byte, now time.Time) error {
	return verify(h, body, f.secret, now, f.window)
}

func (genericFormat) parse(body []byte, source string) (batch, error) {
	return parseGeneric(body, source)
}

// itemResult is one element of a 207 answer.
type itemResult struct {
	Index  int    `json:"index"`
	Code   int    `json:"code"`
	Status string `json:"status"` // accepted, duplicate or rejected
	ID     string `json:"id,omitempty"`
	Error  string `json:"error,omitempty"`
}

// reply answers 202 or 200 duplicate for one post, 207 with one result
// per item for an array.
func (genericFormat) reply(w http.ResponseWriter, b batch, results []store.IngestResult) {
	if !b.array {
		res := results[0]
		if res.Duplicate {
			writeJSON(w, http.StatusOK, map[string]string{"status": "duplicate", "id": res.ID})
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "accepted", "id": res.ID})
		return
	}
	out := make([]itemResult, len(b.posts))
	next := 0
	for i := range b.posts {
		out[i].Index = i
		if e := b.errs[i]; e != nil {
			out[i].Code, out[i].Status, out[i].Error = http.StatusBadRequest, "rejected", e.Error()
			continue
		}
		res := results[next]
		next++
		out[i].ID = res.ID
		if res.Duplicate {
			out[i].Code, out[i].Status = http.StatusOK, "duplicate"
		} else {
			out[i].Code, out[i].Status = http.StatusAccepted, "accepted"
		}
	}
	writeJSON(w, http.StatusMultiStatus, map[string]any{"results": out})
}

// parseGeneric decodes and validates a generic body. An error means the
// body as a whole is unusable (400); item errors in an array are reported
// per item.
func parseGeneric(body []byte, source string) (batch, error) {
	if !utf8.Valid(body) {
		return batch{}, errors.New("body is not valid UTF-8")
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return batch{}, errors.New("body is empty")
	}
	if trimmed[0] == '{' {
		// The common case, one post: decoded once, straight into its
		// wire form.
		var g genericPost
		if err := decodeOne(body, &g); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				return batch{}, errors.New(jsonErrorText(err))
			}
			return batch{}, fmt.Errorf("malformed JSON: %s", jsonErrorText(err))
		}
		p, err := g.validate(source)
		if err != nil {
			return batch{}, err
		}
		return batch{posts: []routing.Post{p}, errs: []error{nil}}, nil
	}
	if trimmed[0] != '[' {
		var raw json.RawMessage
		if err := decodeStrict(body, &raw); err != nil {
			return batch{}, err
		}
		p, err := decodePost(raw, source)
		if err != nil {
			return batch{}, err
		}
		return batch{posts: []routing.Post{p}, errs: []error{nil}}, nil
	}

	var items []json.RawMessage
	if err := decodeStrict(body, &items); err != nil {
		return batch{}, err
	}
	switch {
	case len(items) == 0:
		return batch{}, errors.New("array is empty")
	case len(items) > MaxBatch:
		return batch{}, fmt.Errorf("array has %d posts; at most %d are allowed per request", len(items), MaxBatch)
	}
	pb := batch{array: true, posts: make([]routing.Post, len(items)), errs: make([]error, len(items))}
	for i, raw := range items {
		pb.posts[i], pb.errs[i] = decodePost(raw, source)
	}
	return pb, nil
}

// decodeStrict decodes exactly one JSON value from body into v.
func decodeStrict(body []byte, v any) error {
	if err := decodeOne(body, v); err != nil {
		return fmt.Errorf("malformed JSON: %s", jsonErrorText(err))
	}
	return nil
}

// decodeOne decodes the JSON value body holds into v. Only white space
// may follow the value: a stray "]" or "}" or a second value means the
// sender meant something other than what would be stored.
func decodeOne(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return err
	}
	end := int(dec.InputOffset())
	if rest := bytes.TrimLeft(body[end:], " \t\r\n"); len(rest) > 0 {
		return fmt.Errorf("data after the JSON value at byte %d", len(body)-len(rest))
	}
	return nil
}

func decodePost(raw json.RawMessage, source string) (routing.Post, error) {
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return routing.Post{}, errors.New("post must be a JSON object")
	}
	var g genericPost
	if err := json.Unmarshal(raw, &g); err != nil {
		return routing.Post{}, errors.New(jsonErrorText(err))
	}
	return g.validate(source)
}

// jsonErrorText turns encoding/json's errors into "field: must be type".
func jsonErrorText(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "body"
		}
		return fmt.Sprintf("%s: must be %s, got %s", field, jsonTypeName(te.Type.Kind().String()), te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	}
	return err.Error()
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "int64", "int", "float64":
		return "a number"
	case "bool":
		return "true or false"
	case "struct", "map":
		return "an object"
	case "slice":
		return "an array"
	}
	return kind
}

func (g *genericPost) validate(source string) (routing.Post, error) {
	p := routing.Post{
		Source:         source,
		ExternalID:     strings.TrimSpace(g.ID),
		Platform:       strings.ToLower(strings.TrimSpace(g.Platform)),
		Text:           g.Text,
		Author:         routing.Author(g.Author),
		URL:            strings.TrimSpace(g.URL),
		ConversationID: g.ConversationID,
		InReplyTo:      g.InReplyTo,
		Lang:           g.Lang,
	}
	if err := checkPost(p); err != nil {
		return p, err
	}
	if g.CreatedAt != "" {
		t, err := time.Parse(time.RFC3339, g.CreatedAt)
		if err != nil {
			return p, fmt.Errorf("created_at: %q is not an RFC 3339 time", g.CreatedAt)
		}
		if !storableTime(t) {
			return p, fmt.Errorf("created_at: %q is %w in UTC", g.CreatedAt, errTimeRange)
		}
		p.CreatedAt = t.UTC()
	}
	return p, nil
}
