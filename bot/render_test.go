package bot

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

func TestRenderPost(t *testing.T) {
	p := routing.Post{
		ID: "01TESTPOST", Platform: "x", URL: "https://x.com/a/status/1",
		Text:      "<!channel> refund & <@U123> now",
		Author:    routing.Author{Handle: "@a", Name: "A <b>", Followers: 1234567, Verified: true},
		CreatedAt: time.Date(2026, 11, 20, 14, 3, 0, 0, time.UTC),
	}
	d := routing.Decision{Class: routing.Support, Confidence: 0.873, Channel: "C1", Department: "support"}
	text, blocks, meta := renderPost(store.Record{Post: p, Decision: &d}, "", nil)

	if !strings.HasPrefix(text, "[support] @a: ") {
		t.Errorf("fallback text %q", text)
	}
	js := blocksJSON(t, blocks)
	for _, want := range []string{
		"&lt;!channel&gt; refund &amp; &lt;@U123&gt; now", // a post cannot ping anyone
		"A &lt;b&gt; (@a)", "1,234,567 followers", "verified",
		"<https://x.com/a/status/1|View on X>", "confidence 87%", "id 01TESTPOST",
		`"action_id":"claim"`, `"action_id":"escalate"`, `"action_id":"reclassify"`,
		`"block_id":"post:01TESTPOST"`,
	} {
		if !strings.Contains(js, want) {
			t.Errorf("blocks lack %q:\n%s", want, js)
		}
	}
	if strings.Contains(js, "<!channel>") {
		t.Error("post text reached Slack unescaped")
	}
	for _, v := range []string{`"value":"support"`, `"value":"reputation"`, `"value":"promotional"`} {
		if !strings.Contains(js, v) {
			t.Errorf("reclassify options lack %s", v)
		}
	}
	if meta.EventType != metadataEventType || meta.EventPayload["post_id"] != "01TESTPOST" {
		t.Errorf("metadata %+v", meta)
	}
	if id, ok := PostIDFromBlockID("post:01TESTPOST"); !ok || id != "01TESTPOST" {
		t.Errorf("PostIDFromBlockID = %q, %v", id, ok)
	}
}

func TestRenderVariants(t *testing.T) {
	long := strings.Repeat("ä", 5000)
	p := routing.Post{ID: "X", Platform: "review", Text: long}
	_, blocks, _ := renderPost(store.Record{Post: p, Decision: &routing.Decision{Class: routing.Reputation, Confidence: 0.999}}, "", nil)
	js := blocksJSON(t, blocks)
	if !strings.Contains(js, "(2100 more characters)") {
		t.Error("long text not truncated with a count")
	}
	if strings.Contains(js, `"action_id":"escalate"`) {
		t.Error("a reputation post offers escalation to PR")
	}
	if !strings.Contains(js, "confidence >99%") {
		t.Errorf("near-certain confidence not shown as >99%%: %s", js)
	}
	if !strings.Contains(js, "unknown author") {
		t.Error("missing author not named")
	}
	for _, b := range blocks {
		if s, ok := b.(*slack.SectionBlock); ok && s.Text != nil && len([]rune(s.Text.Text)) > 3000 {
			t.Errorf("section text of %d characters exceeds Slack's 3000", len([]rune(s.Text.Text)))
		}
	}

	_, blocks, _ = renderPost(store.Record{Post: routing.Post{ID: "Y", Platform: "x", Text: "hm"},
		Decision: &routing.Decision{Class: routing.Support, Runner: routing.Promotional, Unsure: true, Confidence: 0.41}}, "", nil)
	if js := blocksJSON(t, blocks); !strings.Contains(js, "Unsure: Support or Promotional?") {
		t.Errorf("unsure post not marked with the two likeliest classes: %s", js)
	}
}

// blocksJSON is the blocks as Slack receives them, without Go's HTML escaping.
func blocksJSON(t *testing.T, blocks []slack.Block) string {
	t.Helper()
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(blocks); err != nil {
		t.Fatal(err)
	}
	// slack-go's text objects marshal themselves with HTML escaping.
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(b.String())
}

func TestClassifyErrors(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		retry bool
		min   time.Duration
		max   time.Duration
	}{
		{"rate limited", &slack.RateLimitedError{RetryAfter: 7 * time.Second}, true, 7 * time.Second, 7 * time.Second},
		{"rate limited without a delay", &slack.RateLimitedError{}, true, time.Second, time.Second},
		{"channel gone", slack.SlackErrorResponse{Err: "channel_not_found"}, false, 0, 0},
		{"not in channel", slack.SlackErrorResponse{Err: "not_in_channel"}, false, 0, 0},
		{"server error", slack.StatusCodeError{Code: 503, Status: "503"}, true, 500 * time.Millisecond, time.Second},
		{"unknown slack error", slack.SlackErrorResponse{Err: "fatal_error"}, true, 500 * time.Millisecond, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			retry, after := classify(tt.err, 0)
			if retry != tt.retry || after < tt.min || after > tt.max {
				t.Fatalf("classify = %v, %v; want %v in [%v, %v]", retry, after, tt.retry, tt.min, tt.max)
			}
		})
	}
	if _, after := classify(slack.StatusCodeError{Code: 500}, 30); after > maxBackoff || after < maxBackoff/2 {
		t.Fatalf("backoff after many attempts = %v, want within [%v, %v]", after, maxBackoff/2, maxBackoff)
	}
}
