package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/socialroute/socialroute/routing"
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

// parsedBody is a decoded generic body: one post, or an array whose items
// each either decoded into a post or failed with their own error.
type parsedBody struct {
	array bool
	posts []routing.Post
	errs  []error // per item; nil where the item is valid
}

// parseGeneric decodes and validates a generic body. An error means the
// body as a whole is unusable (400); item errors in an array are reported
// per item.
func parseGeneric(body []byte, source string) (parsedBody, error) {
	if !utf8.Valid(body) {
		return parsedBody{}, errors.New("body is not valid UTF-8")
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return parsedBody{}, errors.New("body is empty")
	}
	if trimmed[0] != '[' {
		var raw json.RawMessage
		if err := decodeStrict(body, &raw); err != nil {
			return parsedBody{}, err
		}
		p, err := decodePost(raw, source)
		if err != nil {
			return parsedBody{}, err
		}
		return parsedBody{posts: []routing.Post{p}, errs: []error{nil}}, nil
	}

	var items []json.RawMessage
	if err := decodeStrict(body, &items); err != nil {
		return parsedBody{}, err
	}
	switch {
	case len(items) == 0:
		return parsedBody{}, errors.New("array is empty")
	case len(items) > MaxBatch:
		return parsedBody{}, fmt.Errorf("array has %d posts; at most %d are allowed per request", len(items), MaxBatch)
	}
	pb := parsedBody{array: true, posts: make([]routing.Post, len(items)), errs: make([]error, len(items))}
	for i, raw := range items {
		pb.posts[i], pb.errs[i] = decodePost(raw, source)
	}
	return pb, nil
}

// decodeStrict decodes exactly one JSON value from body into v.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("malformed JSON: %s", jsonErrorText(err))
	}
	if dec.More() {
		return errors.New("malformed JSON: more than one value in body")
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
	switch {
	case p.ExternalID == "":
		return p, errors.New("id: required")
	case len(p.ExternalID) > maxIDLen:
		return p, fmt.Errorf("id: longer than %d bytes", maxIDLen)
	case p.Platform == "":
		return p, errors.New("platform: required")
	case !routing.ValidPlatform(p.Platform):
		return p, fmt.Errorf("platform: %q is not one of %s", g.Platform, strings.Join(routing.Platforms, ", "))
	case strings.TrimSpace(p.Text) == "":
		return p, errors.New("text: required and not blank")
	case utf8.RuneCountInString(p.Text) > MaxTextRunes:
		return p, fmt.Errorf("text: %d characters; at most %d", utf8.RuneCountInString(p.Text), MaxTextRunes)
	case p.Author.Followers < 0:
		return p, errors.New("author.followers: must not be negative")
	case len(p.Author.Handle) > maxIDLen:
		return p, fmt.Errorf("author.handle: longer than %d bytes", maxIDLen)
	case len(p.Author.Name) > maxFieldLen:
		return p, fmt.Errorf("author.name: longer than %d bytes", maxFieldLen)
	case len(p.ConversationID) > maxIDLen:
		return p, fmt.Errorf("conversation_id: longer than %d bytes", maxIDLen)
	case len(p.InReplyTo) > maxIDLen:
		return p, fmt.Errorf("in_reply_to: longer than %d bytes", maxIDLen)
	case len(p.Lang) > 35: // the longest BCP 47 tags in use
		return p, errors.New("lang: not a language tag")
	}
	if p.URL != "" {
		u, err := url.Parse(p.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(p.URL) > maxFieldLen {
			return p, errors.New("url: must be an absolute http(s) URL")
		}
	}
	if g.CreatedAt != "" {
		t, err := time.Parse(time.RFC3339, g.CreatedAt)
		if err != nil {
			return p, fmt.Errorf("created_at: %q is not an RFC 3339 time", g.CreatedAt)
		}
		p.CreatedAt = t.UTC()
	}
	return p, nil
}
