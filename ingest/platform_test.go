package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

var (
	xSecret    = []byte("x-consumer-secret-0123456789")
	metaSecret = []byte("meta-app-secret-0123456789")
	metaVerify = []byte("meta-verify-token-0123")
	allSources = []Source{{Name: "generic", Format: FormatGeneric, Secret: testSecret}, {Name: "x", Format: FormatX, Secret: xSecret}, {Name: "meta", Format: FormatMeta, Secret: metaSecret, VerifyToken: metaVerify}}
)

func newPlatformFixture(t *testing.T, mutate func(*Options)) *fixture {
	t.Helper()
	return newFixture(t, func(o *Options) {
		o.Sources = allSources
		o.MaxBodyBytes = 1 << 20
		if mutate != nil {
			mutate(o)
		}
	})
}

// signedBy signs body the way the platform of source does.
func signedBy(source string, body []byte) func(http.Header) {
	return func(h http.Header) {
		switch source {
		case "x":
			h.Set(HeaderXSignature, SignX(xSecret, body))
		case "meta":
			h.Set(HeaderMetaSignature, SignMeta(metaSecret, body))
		}
	}
}

func (f *fixture) platformPost(t *testing.T, source string, body []byte) response {
	t.Helper()
	return f.send(t, http.MethodPost, "/webhooks/"+source, "application/json", body, signedBy(source, body))
}

// stored returns every post in the outbox, without the ids and receive
// times the store assigned.
func (f *fixture) stored(t *testing.T) []routing.Post {
	t.Helper()
	due, _, err := f.store.Due(time.Now().Add(time.Hour), 10000)
	if err != nil {
		t.Fatal(err)
	}
	var out []routing.Post
	for _, d := range due {
		p := d.Record.Post
		p.ID, p.ReceivedAt = "", time.Time{}
		out = append(out, p)
	}
	return out
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ms(n int64) time.Time  { return time.UnixMilli(n).UTC() }
func sec(n int64) time.Time { return time.Unix(n, 0).UTC() }

// TestPlatformPayloads sends each documented payload (testdata/README.md
// names the page each follows) through the server and checks every field
// of every stored post, and why every other event was skipped.
func TestPlatformPayloads(t *testing.T) {
	const (
		igMid    = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1NzI2NjUzMDI2OjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI1OTk2MDQ0MjkyMDY5Mzk3NDozMTAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMAZDZD"
		fbPost   = "1067280970047460_2816341875243890"
		igMedia  = "17918195224117851"
		longform = "The Antikythera Mechanism: A Window into Ancient Ingenuity Discovered in 1901 among the wreckage of a Roman ship off the Greek island of Antikythera... @xai @HistoryInPics"
	)
	tests := []struct {
		source, file string
		posts        []routing.Post
		skips        []string // "event: reason"
	}{
		// https://docs.x.com/x-api/account-activity/introduction, tweet_create_events (@mentions)
		{"x", "x/mention.json", []routing.Post{{
			Source: "x", ExternalID: "1050118621198921728", Platform: "x",
			Text:      "@TwitterDev my order never arrived & support ignores my emails. I want a refund",
			Author:    routing.Author{Handle: "@TwitterAPI", Name: "Twitter API", Followers: 6129794, Verified: true},
			URL:       "https://x.com/TwitterAPI/status/1050118621198921728",
			CreatedAt: time.Date(2018, 10, 10, 20, 19, 24, 0, time.UTC), InReplyTo: "1050117964379721729", Lang: "en",
		}}, nil},
		// Same page: tweet_create_events for the account's own tweets, retweets and quotes.
		{"x", "x/timeline.json", []routing.Post{{
			Source: "x", ExternalID: "1050123812345678848", Platform: "x",
			Text:      "Journalist here: is it true @TwitterDev is shutting down the free tier? Working on a story https://t.co/xyz",
			Author:    routing.Author{Handle: "@tech_reporter", Name: "Reporter", Followers: 91000},
			URL:       "https://x.com/tech_reporter/status/1050123812345678848",
			CreatedAt: time.Date(2018, 10, 10, 20, 40, 2, 0, time.UTC), Lang: "en",
		}}, []string{
			"tweet_create_events[0]: the account's own tweet",
			"tweet_create_events[1]: a retweet",
		}},
		// Same page, "Support for longform Posts".
		{"x", "x/longform.json", []routing.Post{{
			Source: "x", ExternalID: "1924465506158878979", Platform: "x", Text: longform,
			Author:    routing.Author{Handle: "@HistoryInPics", Name: "History Photographed", Followers: 4100000},
			URL:       "https://x.com/HistoryInPics/status/1924465506158878979",
			CreatedAt: time.Date(2025, 5, 19, 14, 1, 46, 0, time.UTC),
		}}, nil},
		// Same page, direct_message_events.
		{"x", "x/direct_message.json", []routing.Post{{
			Source: "x", ExternalID: "954491830116155396", Platform: "x", Text: "Hello World!",
			Author:         routing.Author{Handle: "@furiouscamper", Name: "Jordan Brinks", Followers: 22},
			URL:            "https://x.com/messages/3001969357-4337869213",
			CreatedAt:      ms(1516403560557),
			ConversationID: "3001969357-4337869213",
		}}, nil},
		{"x", "x/direct_message_sent.json", nil, []string{
			"direct_message_events[0]: a direct message the account sent",
		}},
		{"x", "x/other_events.json", nil, []string{
			"direct_message_indicate_typing_events[0]: direct_message_indicate_typing_events are not posts",
			"direct_message_mark_read_events[0]: direct_message_mark_read_events are not posts",
			"favorite_events[0]: favorite_events are not posts",
			"follow_events[0]: follow_events are not posts",
			"tweet_delete_events[0]: tweet_delete_events are not posts",
			"user_event: user_event is not a post",
		}},

		// https://developers.facebook.com/docs/graph-api/webhooks/reference/page, feed
		{"meta", "meta/page_feed_comment.json", []routing.Post{{
			Source: "meta", ExternalID: "2816341875243890_2816349011909843", Platform: "facebook",
			Text:      "The X2 headphones I ordered last week arrived broken. How do I get a replacement?",
			Author:    routing.Author{Name: "Jane Doe"},
			URL:       "https://www.facebook.com/acmeheadphones/posts/2816341875243890",
			CreatedAt: sec(1603745134), ConversationID: fbPost, InReplyTo: fbPost,
		}}, nil},
		// Same page, feed and mention; ratings is not routed.
		{"meta", "meta/page_batch.json", []routing.Post{{
			Source: "meta", ExternalID: "2816341875243890_2816352145242863", Platform: "facebook",
			Text:      "Is the X2 on sale anywhere in Berlin? I want to buy two for my studio.",
			Author:    routing.Author{Name: "Sam Rivera"},
			URL:       "https://www.facebook.com/" + fbPost,
			CreatedAt: sec(1603745290), ConversationID: fbPost, InReplyTo: "2816341875243890_2816349011909843",
		}, {
			Source: "meta", ExternalID: "1067280970047460_2816360000000001", Platform: "facebook",
			Text:      "Hi Acme! We run a podcast network with 200k listeners and would love to partner on a sponsorship. Who can we talk to?",
			Author:    routing.Author{Name: "Nordic Audio Collective"},
			URL:       "https://www.facebook.com/1067280970047460_2816360000000001",
			CreatedAt: sec(1603745390), ConversationID: "1067280970047460_2816360000000001",
		}, {
			Source: "meta", ExternalID: "5521843390211876_1192837465000001", Platform: "facebook",
			Text:      "Huge thanks to Acme Headphones for the review units!",
			Author:    routing.Author{Name: "Nordic Audio Collective"},
			URL:       "https://www.facebook.com/5521843390211876_1192837465000001",
			CreatedAt: sec(1603745395), ConversationID: "5521843390211876_1192837465000001",
		}}, []string{
			"entry[0].changes[1]: the Page's own comment",
			`entry[0].changes[2]: feed item "reaction" is not a post or comment`,
			`entry[0].changes[3]: feed comment "edited": only new posts and comments are routed`,
			`entry[1].changes[2]: facebook webhook field "ratings" is not routed`,
		}},
		// https://developers.facebook.com/docs/messenger-platform/webhooks
		{"meta", "meta/page_messaging.json", []routing.Post{{
			Source: "meta", ExternalID: "m_1457764197618:41d102a3e1ae206a38", Platform: "facebook",
			Text:      "My account was charged twice for the same order, please help",
			CreatedAt: ms(1458692752478), ConversationID: "6204985766254632",
		}}, []string{
			"entry[0].messaging[1]: an echo of a message the account sent",
			"entry[0].messaging[2]: messaging read is not a message",
			"entry[0].messaging[3]: no text to route (media or attachments only)",
		}},
		// https://developers.facebook.com/docs/instagram-platform/webhooks/examples, comments (Facebook Login)
		{"meta", "meta/instagram_comments.json", []routing.Post{{
			Source: "meta", ExternalID: "17865799348089039", Platform: "instagram",
			Text:           "Love the new colours! Where can I order the blue one?",
			Author:         routing.Author{Handle: "@jane.doe"},
			ConversationID: igMedia, InReplyTo: "17865799348089030",
		}}, []string{
			"[0].entry[0].changes[1]: the account's own comment",
		}},
		// Same page, comments (Business Login for Instagram): field and value on the entry.
		{"meta", "meta/instagram_login_comment.json", []routing.Post{{
			Source: "meta", ExternalID: "17865799348089041", Platform: "instagram",
			Text:           "Mine stopped charging after two days. Is there a recall?",
			Author:         routing.Author{Handle: "@sam.rivera"},
			ConversationID: igMedia, InReplyTo: igMedia,
		}}, nil},
		// Same page, mentions: ids only.
		{"meta", "meta/instagram_mentions.json", []routing.Post{{
			Source: "meta", ExternalID: "17894227972186120", Platform: "instagram",
			Text:           "@mention in an Instagram comment (comment 17894227972186120 on media 17918195224117851). Instagram sends no text with mentions: open the comment on Instagram to read it.",
			ConversationID: igMedia,
		}, {
			Source: "meta", ExternalID: "17918195224117852", Platform: "instagram",
			Text:           "@mention in the caption of Instagram media 17918195224117852. Instagram sends no text with mentions: open the media on Instagram to read it.",
			ConversationID: "17918195224117852",
		}}, nil},
		// Same page, messaging.
		{"meta", "meta/instagram_messaging.json", []routing.Post{{
			Source: "meta", ExternalID: igMid, Platform: "instagram",
			Text:      "Hi, is the X2 compatible with the new phones?",
			CreatedAt: ms(1569262485349), ConversationID: "1234567890123456",
		}}, []string{
			"entry[0].messaging[1]: messaging reaction is not a message",
		}},
		// https://developers.facebook.com/docs/graph-api/webhooks/getting-started/webhooks-for-instagram
		{"meta", "meta/instagram_story_insights.json", nil, []string{
			`[0].entry[0].changes[0]: instagram webhook field "story_insights" is not routed`,
		}},
		// https://developers.facebook.com/docs/graph-api/webhooks/getting-started, the sample notification
		{"meta", "meta/unknown_objects.json", nil, []string{
			`entry[0]: object "user" is not a Page or an Instagram account`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body := readTestdata(t, tt.file)

			f := newPlatformFixture(t, nil)
			b, err := f.formats(t)[tt.source].parse(body, tt.source)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			var skips []string
			for _, s := range b.skips {
				skips = append(skips, s.event+": "+s.reason)
			}
			if !reflect.DeepEqual(skips, tt.skips) {
				t.Errorf("skips\n got %q\nwant %q", skips, tt.skips)
			}

			r := f.platformPost(t, tt.source, body)
			want := map[string]any{"status": "ok", "events": float64(len(tt.posts) + len(tt.skips)),
				"accepted": float64(len(tt.posts)), "duplicate": 0.0, "skipped": float64(len(tt.skips))}
			if r.code != http.StatusOK || !reflect.DeepEqual(r.body, want) {
				t.Fatalf("answer %d %v, want 200 %v", r.code, r.body, want)
			}
			got := f.stored(t)
			if len(got) != len(tt.posts) {
				t.Fatalf("stored %d posts, want %d:\n%+v", len(got), len(tt.posts), got)
			}
			for i, w := range tt.posts {
				if !reflect.DeepEqual(got[i], w) {
					t.Errorf("post %d\n got %+v\nwant %+v", i, got[i], w)
				}
			}

			// Platforms retry: the same body again stores nothing new.
			r = f.platformPost(t, tt.source, body)
			want["accepted"], want["duplicate"] = 0.0, float64(len(tt.posts))
			if r.code != http.StatusOK || !reflect.DeepEqual(r.body, want) {
				t.Fatalf("resend answered %d %v, want 200 %v", r.code, r.body, want)
			}
			if n := f.pending(t); n != len(tt.posts) {
				t.Fatalf("outbox holds %d after a resend, want %d", n, len(tt.posts))
			}
		})
	}
}

// formats returns the format values the fixture's sources use.
func (f *fixture) formats(t *testing.T) map[string]format {
	t.Helper()
	out := map[string]format{}
	for _, src := range allSources {
		fm, err := newFormat(src, Options{ReplayWindow: 300 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		out[src.Name] = fm
	}
	return out
}

// TestPlatformEdgeCases covers bodies the platforms do not document but a
// receiver must survive: every one is answered 200 and skipped, never
// refused, so the platform keeps the webhook enabled.
func TestPlatformEdgeCases(t *testing.T) {
	longText := strings.Repeat("ü", MaxTextRunes+50)
	tests := []struct {
		name, source, body string
		accepted           int
		skips              []string
	}{
		{"x empty object", "x", `{}`, 0, nil},
		{"x events not an array", "x", `{"tweet_create_events": {"id_str": "1"}}`, 0, []string{"tweet_create_events: tweet_create_events is not a post"}},
		{"x event not an object", "x", `{"tweet_create_events": ["hello", 7]}`, 0, []string{"tweet_create_events[0]: not a Tweet object", "tweet_create_events[1]: not a Tweet object"}},
		{"x tweet without id", "x", `{"tweet_create_events": [{"text": "hi"}]}`, 0, []string{"tweet_create_events[0]: id: required"}},
		{"x tweet without text", "x", `{"tweet_create_events": [{"id_str": "1", "text": "  "}]}`, 0, []string{"tweet_create_events[0]: no text to route (media or attachments only)"}},
		{"x numeric ids and odd types", "x", `{"for_user_id": 9, "tweet_create_events": [{"id": 1050118621198921728, "text": "hi", "user": {"id": 8, "followers_count": "many", "verified": "yes"}, "created_at": 5}]}`, 1, nil},
		{"x text over the limit is cut, not lost", "x", `{"tweet_create_events": [{"id_str": "2", "text": "` + longText + `"}]}`, 1, nil},
		{"x dm of another type", "x", `{"direct_message_events": [{"type": "participants_join", "id": "5"}]}`, 0, []string{`direct_message_events[0]: direct message event of type "participants_join"`}},
		{"meta entry not an array", "meta", `{"object": "page", "entry": {}}`, 0, []string{"entry: not an array"}},
		{"meta changed_fields only", "meta", `{"object": "page", "entry": [{"id": "1", "time": 2, "changed_fields": ["feed"]}]}`, 0, []string{"entry[0]: changed_fields without values (turn on Include Values for the subscription)"}},
		{"meta change without value", "meta", `{"object": "page", "entry": [{"id": "1", "changes": [{"field": "feed"}, 3]}]}`, 0, []string{`entry[0].changes[0]: facebook webhook field "feed" without a value object`, "entry[0].changes[1]: not a change object"}},
		{"meta unknown object", "meta", `{"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": []}]}`, 0, []string{`entry[0]: object "whatsapp_business_account" is not a Page or an Instagram account`}},
		{"meta messaging not an array", "meta", `{"object": "page", "entry": [{"id": "1", "messaging": "x"}]}`, 0, []string{"entry[0].messaging: not an array"}},
		{"meta standby", "meta", `{"object": "page", "entry": [{"id": "1", "standby": [{"sender": {"id": "2"}, "message": {"mid": "m", "text": "hi"}}]}]}`, 0, []string{"entry[0].standby[0]: standby: another app owns the conversation"}},
		{"meta numeric ids and ISO time", "meta", `{"object": "page", "entry": [{"id": 1, "changes": [{"field": "feed", "value": {"item": "comment", "verb": "add", "comment_id": 12, "post_id": "1_2", "message": "hi", "created_time": "2026-11-20T14:03:00+0000", "from": {"id": 5}}}]}]}`, 1, nil},
		{"meta array notification not an object", "meta", `[1, {"object": "page", "entry": []}]`, 0, []string{"[0]: not a notification object"}},
		{"meta bad permalink dropped", "meta", `{"object": "page", "entry": [{"id": "1", "changes": [{"field": "feed", "value": {"item": "status", "verb": "add", "post_id": "1_9", "message": "hi", "permalink_url": "javascript:alert(1)", "from": {"id": "7"}}}]}]}`, 1, nil},
		{"meta page mention edited", "meta", `{"object": "page", "entry": [{"id": "1", "changes": [{"field": "mention", "value": {"item": "comment", "verb": "edit", "post_id": "1_9", "comment_id": "9_1", "message": "hi"}}]}]}`, 0, []string{`entry[0].changes[0]: mention comment "edit": only new mentions are routed`}},
		{"meta message from the account", "meta", `{"object": "instagram", "entry": [{"id": "17", "messaging": [{"sender": {"id": "17"}, "recipient": {"id": "2"}, "message": {"mid": "m1", "text": "hi"}}]}]}`, 0, []string{"entry[0].messaging[0]: a message the account sent"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newPlatformFixture(t, nil)
			b, err := f.formats(t)[tt.source].parse([]byte(tt.body), tt.source)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			var skips []string
			for _, s := range b.skips {
				skips = append(skips, s.event+": "+s.reason)
			}
			if !reflect.DeepEqual(skips, tt.skips) {
				t.Errorf("skips\n got %q\nwant %q", skips, tt.skips)
			}
			r := f.platformPost(t, tt.source, []byte(tt.body))
			if r.code != http.StatusOK || r.body["accepted"] != float64(tt.accepted) || r.body["skipped"] != float64(len(tt.skips)) {
				t.Fatalf("answer %d %v, want 200 with %d accepted, %d skipped", r.code, r.body, tt.accepted, len(tt.skips))
			}
			for _, p := range f.stored(t) {
				if err := checkPost(p); err != nil {
					t.Errorf("stored an invalid post %+v: %v", p, err)
				}
			}
		})
	}
	t.Run("long text kept to the limit", func(t *testing.T) {
		f := newPlatformFixture(t, nil)
		f.platformPost(t, "x", []byte(`{"tweet_create_events": [{"id_str": "2", "text": "`+longText+`"}]}`))
		got := f.stored(t)
		if len(got) != 1 || len([]rune(got[0].Text)) != MaxTextRunes || !strings.HasSuffix(got[0].Text, "ü…") {
			t.Fatalf("stored %+v", got)
		}
	})
	t.Run("numeric ids kept exact", func(t *testing.T) {
		f := newPlatformFixture(t, nil)
		f.platformPost(t, "x", []byte(`{"tweet_create_events": [{"id": 1050118621198921728, "text": "hi", "user": {"followers_count": "many"}}]}`))
		got := f.stored(t)
		if len(got) != 1 || got[0].ExternalID != "1050118621198921728" || got[0].Author.Followers != 0 {
			t.Fatalf("stored %+v", got)
		}
	})
}

func TestPlatformRequestRefusals(t *testing.T) {
	good := []byte(`{"for_user_id":"1","tweet_create_events":[]}`)
	f := newPlatformFixture(t, func(o *Options) { o.MaxBodyBytes = 2048 })
	tests := []struct {
		name, method, source, ctype string
		body                        []byte
		sign                        func(http.Header)
		code                        int
		want                        string
	}{
		{"x no signature", "POST", "x", "application/json", good, nil, 401, "missing X-Twitter-Webhooks-Signature header"},
		{"x wrong secret", "POST", "x", "application/json", good, func(h http.Header) { h.Set(HeaderXSignature, SignX([]byte("another"), good)) }, 401, "signature does not match"},
		{"x signature of another body", "POST", "x", "application/json", good, signedBy("x", []byte(`{}`)), 401, "signature does not match"},
		{"x no scheme", "POST", "x", "application/json", good, func(h http.Header) { h.Set(HeaderXSignature, strings.TrimPrefix(SignX(xSecret, good), "sha256=")) }, 401, `want "sha256=<base64`},
		{"x not base64", "POST", "x", "application/json", good, func(h http.Header) { h.Set(HeaderXSignature, "sha256=%%%") }, 401, "signature does not match"},
		{"x meta's signature", "POST", "x", "application/json", good, func(h http.Header) { h.Set(HeaderMetaSignature, SignMeta(xSecret, good)) }, 401, "missing X-Twitter-Webhooks-Signature"},
		{"meta no signature", "POST", "meta", "application/json", good, nil, 401, "missing X-Hub-Signature-256 header"},
		{"meta wrong secret", "POST", "meta", "application/json", good, func(h http.Header) { h.Set(HeaderMetaSignature, SignMeta([]byte("another"), good)) }, 401, "signature does not match"},
		{"meta sha1 scheme", "POST", "meta", "application/json", good, func(h http.Header) { h.Set(HeaderMetaSignature, "sha1=0123") }, 401, `want "sha256=<hex`},
		{"meta not hex", "POST", "meta", "application/json", good, func(h http.Header) { h.Set(HeaderMetaSignature, "sha256=zz") }, 401, "signature does not match"},
		{"meta generic signature", "POST", "meta", "application/json", good, signedAt(metaSecret, time.Now(), good), 401, "missing X-Hub-Signature-256"},
		{"x content type before signature", "POST", "x", "text/plain", good, nil, 415, "Content-Type must be application/json"},
		{"meta too large", "POST", "meta", "application/json", []byte(`{"x":"` + strings.Repeat("a", 3000) + `"}`), nil, 413, "body larger than 2048 bytes"},
		{"x malformed", "POST", "x", "application/json", []byte(`{"for_user_id":`), signedBy("x", []byte(`{"for_user_id":`)), 400, "malformed JSON"},
		{"x not an object", "POST", "x", "application/json", []byte(`[1]`), signedBy("x", []byte(`[1]`)), 400, "body must be a JSON object"},
		{"meta not an object", "POST", "meta", "application/json", []byte(`"page"`), signedBy("meta", []byte(`"page"`)), 400, "body must be a JSON object"},
		{"meta empty", "POST", "meta", "application/json", []byte(` `), signedBy("meta", []byte(` `)), 400, "body is empty"},
		{"x put", "PUT", "x", "", nil, nil, 405, "method PUT not allowed; use GET or POST"},
		{"meta delete", "DELETE", "meta", "", nil, nil, 405, "method DELETE not allowed; use GET or POST"},
		{"generic get", "GET", "generic", "", nil, nil, 405, "method GET not allowed; use POST"},
		{"unknown source get", "GET", "nope", "", nil, nil, 404, `unknown source "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.send(t, tt.method, "/webhooks/"+tt.source, tt.ctype, tt.body, tt.sign)
			if r.code != tt.code {
				t.Fatalf("code %d, want %d: %v", r.code, tt.code, r.body)
			}
			if msg, _ := r.body["error"].(string); !strings.Contains(msg, tt.want) {
				t.Fatalf("error %q, want it to contain %q", msg, tt.want)
			}
			if tt.code == 405 {
				want := "GET, POST"
				if tt.source == "generic" {
					want = "POST"
				}
				if got := r.header.Get("Allow"); got != want {
					t.Fatalf("Allow = %q, want %q", got, want)
				}
			}
		})
	}
	t.Run("too many posts", func(t *testing.T) {
		f := newPlatformFixture(t, func(o *Options) { o.MaxBodyBytes = 4 << 20 })
		var events []string
		for i := range MaxPlatformPosts + 1 {
			events = append(events, fmt.Sprintf(`{"id_str":"%d","text":"t"}`, i+1))
		}
		body := []byte(`{"tweet_create_events":[` + strings.Join(events, ",") + `]}`)
		r := f.platformPost(t, "x", body)
		if r.code != 400 || !strings.Contains(r.body["error"].(string), "body has 1001 posts; at most 1000") {
			t.Fatalf("%d %v", r.code, r.body)
		}
	})
	if n := f.pending(t); n != 0 {
		t.Fatalf("refused requests stored %d posts", n)
	}
}

func TestPlatformStoreUnavailable(t *testing.T) {
	s, err := New(Options{Sources: allSources, Logger: zerolog.Nop()},
		storerFunc(func(context.Context, []routing.Post) ([]store.IngestResult, error) {
			return nil, fmt.Errorf("store posts: %w", store.ErrBusy)
		}))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	f := &fixture{srv: srv}
	for _, tt := range []struct{ source, file string }{{"x", "x/mention.json"}, {"meta", "meta/page_feed_comment.json"}} {
		r := f.platformPost(t, tt.source, readTestdata(t, tt.file))
		if r.code != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "1" {
			t.Fatalf("%s: %d %v Retry-After=%q, want 503 so the platform retries", tt.source, r.code, r.body, r.header.Get("Retry-After"))
		}
	}
	// Nothing to store: no store call, so the answer is 200 even now.
	r := f.platformPost(t, "x", readTestdata(t, "x/other_events.json"))
	if r.code != http.StatusOK || r.body["skipped"] != 6.0 {
		t.Fatalf("all-skipped body: %d %v", r.code, r.body)
	}
}

// TestXCRC checks the challenge-response check against the example in X's
// own sample code (consumer secret and token from
// https://gist.github.com/jcipriano/46c4b3f379d214d57a9ddfa70dba49fe,
// linked from X's CRC docs), whose response was computed independently.
func TestXCRC(t *testing.T) {
	const (
		secret = "z3ZX4v7mAAUGykl3EcmkqbartmuW8VFOOzCloLx9Q45P0hLrFu"
		token  = "9b4507b3-9040-4669-9ca3-6b94edb50553"
		answer = "sha256=Cytd4Sq+NvEcV3MMrXxWJGJx5A+y/lXzzU2Maartkx8="
	)
	if got := CRCResponse([]byte(secret), token); got != answer {
		t.Fatalf("CRCResponse = %q, want %q", got, answer)
	}
	f := newFixture(t, func(o *Options) {
		o.Sources = []Source{{Name: "x", Format: FormatX, Secret: []byte(secret)}}
	})
	tests := []struct {
		name, query string
		code        int
		want        string // response_token, or part of the error
	}{
		{"documented token", "crc_token=" + token, 200, answer},
		{"base64 token", "crc_token=" + "Y2hhbGxlbmdlX3N0cmluZw%3D%3D", 200, CRCResponse([]byte(secret), "Y2hhbGxlbmdlX3N0cmluZw==")},
		{"no token", "", 400, "missing crc_token"},
		{"empty token", "crc_token=", 400, "missing crc_token"},
		{"token too long", "crc_token=" + strings.Repeat("a", maxCRCToken+1), 400, "longer than 256 bytes"},
		// A body passed as the token must not come back signed.
		{"token shaped like a body", "crc_token=" + "%7B%22tweet_create_events%22%3A%5B%5D%7D", 400, "only letters, digits"},
		{"token with space", "crc_token=a%20b", 400, "only letters, digits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.send(t, http.MethodGet, "/webhooks/x?"+tt.query, "", nil, nil)
			if r.code != tt.code {
				t.Fatalf("code %d, want %d: %v", r.code, tt.code, r.body)
			}
			if tt.code == 200 {
				if r.body["response_token"] != tt.want || len(r.body) != 1 {
					t.Fatalf("body %v, want response_token %q", r.body, tt.want)
				}
				return
			}
			if msg, _ := r.body["error"].(string); !strings.Contains(msg, tt.want) {
				t.Fatalf("error %q, want %q", msg, tt.want)
			}
		})
	}
}

// TestMetaVerification checks the verification request of
// https://developers.facebook.com/docs/graph-api/webhooks/getting-started:
// GET ?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=...
// is answered with the bare challenge.
func TestMetaVerification(t *testing.T) {
	f := newPlatformFixture(t, nil)
	tok := string(metaVerify)
	tests := []struct {
		name, query string
		code        int
		want        string // the body, or part of the error
	}{
		{"documented request", "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=" + tok, 200, "1158201444"},
		{"wrong token", "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock", 403, "hub.verify_token does not match"},
		{"no token", "hub.mode=subscribe&hub.challenge=1158201444", 403, "hub.verify_token does not match"},
		{"token prefix", "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=" + tok[:5], 403, "hub.verify_token does not match"},
		{"no mode", "hub.challenge=1158201444&hub.verify_token=" + tok, 400, `hub.mode: want "subscribe"`},
		{"other mode", "hub.mode=unsubscribe&hub.challenge=1158201444&hub.verify_token=" + tok, 400, `hub.mode: want "subscribe"`},
		{"no challenge", "hub.mode=subscribe&hub.verify_token=" + tok, 400, "missing hub.challenge"},
		{"markup challenge", "hub.mode=subscribe&hub.challenge=%3Cscript%3E%20&hub.verify_token=" + tok, 400, "printable ASCII"},
		{"challenge too long", "hub.mode=subscribe&hub.challenge=" + strings.Repeat("1", maxChallenge+1) + "&hub.verify_token=" + tok, 400, "at most 256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(f.srv.URL + "/webhooks/meta?" + tt.query)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.code {
				t.Fatalf("code %d, want %d: %s", resp.StatusCode, tt.code, raw)
			}
			if tt.code == 200 {
				if string(raw) != tt.want || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
					t.Fatalf("body %q (%s), want the bare challenge %q", raw, resp.Header.Get("Content-Type"), tt.want)
				}
				return
			}
			var e struct{ Error string }
			if json.Unmarshal(raw, &e) != nil || !strings.Contains(e.Error, tt.want) || strings.Contains(e.Error, tok) {
				t.Fatalf("answer %s, want an error containing %q and not the token", raw, tt.want)
			}
		})
	}
}

// TestPlatformSignatures checks SignX and SignMeta against values computed
// independently (Python's hmac module) from the documented schemes.
func TestPlatformSignatures(t *testing.T) {
	xBody := []byte(`{"for_user_id":"2244994945","tweet_create_events":[]}`)
	if got, want := SignX([]byte("z3ZX4v7mAAUGykl3EcmkqbartmuW8VFOOzCloLx9Q45P0hLrFu"), xBody), "sha256=CpOc2dZ+JrkFhzkAW3gWETdo1w8Mx1i/MpqTbkrylcw="; got != want {
		t.Errorf("SignX = %q, want %q", got, want)
	}
	metaBody := []byte(`{"object":"page","entry":[]}`)
	if got, want := SignMeta(metaSecret, metaBody), "sha256=7b70cf26b464e7659ddc3b73cf5756f05469641100dca9f27c518581e81a4940"; got != want {
		t.Errorf("SignMeta = %q, want %q", got, want)
	}
	// Meta's header is hex; upper-case digits are the same signature.
	f := newPlatformFixture(t, nil)
	r := f.send(t, http.MethodPost, "/webhooks/meta", "application/json", metaBody, func(h http.Header) {
		h.Set(HeaderMetaSignature, "sha256="+strings.ToUpper(strings.TrimPrefix(SignMeta(metaSecret, metaBody), "sha256=")))
	})
	if r.code != http.StatusOK {
		t.Fatalf("upper-case hex signature: %d %v", r.code, r.body)
	}
}

func TestNewRefusesBadSources(t *testing.T) {
	tests := []struct {
		name string
		src  []Source
		want string
	}{
		{"unknown format", []Source{{Name: "t", Format: "tiktok", Secret: testSecret}}, `source "t": format "tiktok" is not supported (supported: generic, x, meta)`},
		{"empty secret", []Source{{Name: "g", Format: FormatGeneric}}, `source "g": empty secret`},
		{"meta without verify token", []Source{{Name: "m", Format: FormatMeta, Secret: testSecret}}, `source "m": format meta needs a verify token`},
		{"generic with verify token", []Source{{Name: "g", Format: FormatGeneric, Secret: testSecret, VerifyToken: metaVerify}}, `source "g": format "generic" takes no verify token`},
		{"x with verify token", []Source{{Name: "x", Format: FormatX, Secret: testSecret, VerifyToken: metaVerify}}, `source "x": format "x" takes no verify token`},
		{"same name twice", []Source{{Name: "x", Format: FormatX, Secret: testSecret}, {Name: "x", Format: FormatGeneric, Secret: testSecret}}, `source "x": configured twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Options{Sources: tt.src}, nil)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("New = %v, want %q", err, tt.want)
			}
		})
	}
}
