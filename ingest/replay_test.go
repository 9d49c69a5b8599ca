package ingest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socialroute/socialroute/internal/metrics"
)

// TestStalePlatformEventsRefused: X and Meta sign bodies without a time,
// so an event older than the retention period — whose earlier copy the
// store may have pruned, dedupe key and all — is refused (logged and
// counted), while the fresh events of the same body are stored.
func TestStalePlatformEventsRefused(t *testing.T) {
	const retention = 90 * 24 * time.Hour
	f := newPlatformFixture(t, func(o *Options) {
		o.Retention = retention
		o.Metrics = metrics.New()
	})
	now := time.Now().UTC()
	old, recent := now.Add(-retention-time.Hour), now.Add(-retention+time.Hour)

	tweet := func(id string, at time.Time) string {
		return fmt.Sprintf(`{"id_str":%q,"text":"my order never arrived","created_at":%q,"user":{"id_str":"7","screen_name":"jane"}}`, id, at.Format(time.RubyDate))
	}
	dm := func(id string, at time.Time) string {
		return fmt.Sprintf(`{"type":"message_create","id":%q,"created_timestamp":"%d","message_create":{"sender_id":"7","target":{"recipient_id":"1"},"message_data":{"text":"where is my refund"}}}`, id, at.UnixMilli())
	}
	x := `{"for_user_id":"1","tweet_create_events":[` + tweet("x-old", old) + "," + tweet("x-recent", recent) + "," + tweet("x-now", now) +
		`],"direct_message_events":[` + dm("x-dm-old", old) + "," + dm("x-dm-now", now) + `]}`
	if r := f.platformPost(t, "x", []byte(x)); r.code != http.StatusOK || r.body["accepted"] != 3.0 || r.body["skipped"] != 2.0 {
		t.Fatalf("x: %d %v, want 200 with 3 accepted and 2 skipped", r.code, r.body)
	}
	// X's own documented payload, from 2018, replayed today.
	if r := f.platformPost(t, "x", readTestdata(t, "x/mention.json")); r.code != http.StatusOK || r.body["accepted"] != 0.0 || r.body["skipped"] != 1.0 {
		t.Fatalf("x testdata: %d %v, want 200 with the old tweet skipped", r.code, r.body)
	}

	feed := func(id string, at time.Time) string {
		return fmt.Sprintf(`{"field":"feed","value":{"item":"comment","verb":"add","comment_id":%q,"post_id":"1_2","message":"my order never arrived","from":{"id":"3"},"created_time":%d}}`, id, at.Unix())
	}
	mention := func(comment string) string {
		return fmt.Sprintf(`{"field":"mentions","value":{"comment_id":%q,"media_id":"55"}}`, comment)
	}
	entry := func(object string, at time.Time, changes ...string) string {
		return fmt.Sprintf(`{"object":%q,"entry":[{"id":"1","time":%d,"changes":[%s]}]}`, object, at.Unix(), strings.Join(changes, ","))
	}
	meta := `[` +
		entry("page", now, feed("m-old", old), feed("m-now", now)) + "," +
		// Instagram mentions carry no time of their own: the entry's counts.
		entry("instagram", old, mention("m-mention-old")) + "," +
		entry("instagram", now, mention("m-mention-now")) + "," +
		fmt.Sprintf(`{"object":"page","entry":[{"id":"1","time":%d,"messaging":[{"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":%d,"message":{"mid":"m-msg-old","text":"hello?"}}]}]}`, now.UnixMilli(), old.UnixMilli()) +
		`]`
	if r := f.platformPost(t, "meta", []byte(meta)); r.code != http.StatusOK || r.body["accepted"] != 2.0 || r.body["skipped"] != 3.0 {
		t.Fatalf("meta: %d %v, want 200 with 2 accepted and 3 skipped", r.code, r.body)
	}

	// The generic format's signed timestamp already bounds replays to
	// minutes, so an old created_at (a backfill) is taken.
	if r := f.post(t, fmt.Sprintf(`{"id":"g-old","platform":"x","text":"my order never arrived","created_at":%q}`, old.Format(time.RFC3339))); r.code != http.StatusAccepted {
		t.Fatalf("generic backfill: %d %v, want 202", r.code, r.body)
	}
	body := []byte(`{"id":"g-replay","platform":"x","text":"my order never arrived"}`)
	if r := f.send(t, http.MethodPost, "/webhooks/generic", "application/json", body, signedAt(testSecret, now.Add(-301*time.Second), body)); r.code != http.StatusUnauthorized {
		t.Fatalf("generic body signed 301 s ago: %d %v, want 401", r.code, r.body)
	}

	var ids []string
	for _, p := range f.stored(t) {
		ids = append(ids, p.ExternalID)
	}
	slices.Sort(ids)
	if want := []string{"g-old", "m-mention-now", "m-now", "x-dm-now", "x-now", "x-recent"}; !slices.Equal(ids, want) {
		t.Fatalf("stored %v, want %v", ids, want)
	}
	text := f.scrape(t)
	for _, line := range []string{
		`socialroute_webhook_rejected_total{reason="stale",source="x"} 3`,
		`socialroute_webhook_rejected_total{reason="stale",source="meta"} 3`,
	} {
		if !strings.Contains(text, line+"\n") {
			t.Errorf("metrics lack %s:\n%s", line, grepLines(text, "rejected"))
		}
	}
}

// TestNoRetentionKeepsOldEvents: a store that never prunes remembers every
// post, so old platform events are taken, and a replay is a duplicate.
func TestNoRetentionKeepsOldEvents(t *testing.T) {
	f := newPlatformFixture(t, nil)
	body := readTestdata(t, "x/mention.json")
	if r := f.platformPost(t, "x", body); r.code != http.StatusOK || r.body["accepted"] != 1.0 {
		t.Fatalf("%d %v, want the tweet accepted", r.code, r.body)
	}
	if r := f.platformPost(t, "x", body); r.code != http.StatusOK || r.body["duplicate"] != 1.0 {
		t.Fatalf("replay: %d %v, want a duplicate", r.code, r.body)
	}
}
