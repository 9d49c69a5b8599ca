package ingest

import (
	"net/http"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func FuzzParseGeneric(f *testing.F) {
	f.Add([]byte(goodPost))
	f.Add([]byte(`[{"id":"1","platform":"x","text":"t"},{"id":2}]`))
	f.Add([]byte(`{"id":"1","platform":"x","text":"t","author":{"followers":1e999}}`))
	f.Add([]byte("[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]"))
	f.Fuzz(func(t *testing.T, body []byte) {
		pb, err := parseGeneric(body, "generic")
		if err != nil {
			return
		}
		if len(pb.posts) != len(pb.errs) || len(pb.posts) == 0 || len(pb.posts) > MaxBatch {
			t.Fatalf("inconsistent parse: %d posts, %d errs", len(pb.posts), len(pb.errs))
		}
		for i, p := range pb.posts {
			if pb.errs[i] != nil {
				continue
			}
			if p.ExternalID == "" || p.Text == "" || !utf8.ValidString(p.Text) || utf8.RuneCountInString(p.Text) > MaxTextRunes {
				t.Fatalf("invalid post accepted: %+v", p)
			}
		}
	})
}

func FuzzVerify(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(goodPost)
	f.Add(strconv.FormatInt(now.Unix(), 10), Sign(testSecret, now.Unix(), body), body)
	f.Add("", "v1=", []byte{})
	f.Add("-99999999999999999999", "v1=zz,v1=,,", []byte("x"))
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, sig)
		err := verify(h, body, testSecret, now, 300*time.Second)
		if err == nil {
			// Only a genuine signature may pass (hex digits in either case
			// are the same signature).
			n, perr := strconv.ParseInt(ts, 10, 64)
			if perr != nil || !strings.Contains(strings.ToLower(sig), Sign(testSecret, n, body)) {
				t.Fatalf("forged signature accepted: ts=%q sig=%q", ts, sig)
			}
		}
	})
}

// addPlatformSeeds seeds f with the documented payloads in testdata/dir.
func addPlatformSeeds(f *testing.F, dir string, extra ...string) {
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata/%s: %v", dir, err)
	}
	for _, file := range files {
		f.Add(readTestdata(f, filepath.Join(dir, filepath.Base(file))))
	}
	for _, s := range extra {
		f.Add([]byte(s))
	}
}

// checkPlatformBatch is what any parse of an X or Meta body must satisfy:
// only valid posts of the source's platforms, a reason for every skip,
// and the same answer every time.
func checkPlatformBatch(t *testing.T, parse func() (batch, error), source string, platforms ...string) {
	b, err := parse()
	if err != nil {
		return
	}
	if b.array || b.errs != nil || len(b.posts) > MaxPlatformPosts {
		t.Fatalf("platform batch shaped like a generic one: %+v", b)
	}
	for _, p := range b.posts {
		if err := checkPost(p); err != nil {
			t.Fatalf("invalid post %+v: %v", p, err)
		}
		if p.Source != source || !slices.Contains(platforms, p.Platform) {
			t.Fatalf("post with source %q platform %q", p.Source, p.Platform)
		}
	}
	for _, s := range b.skips {
		if s.event == "" && s.reason == "" {
			t.Fatal("skip without event or reason")
		}
	}
	again, _ := parse()
	if !reflect.DeepEqual(b, again) {
		t.Fatal("two parses of the same body differ")
	}
}

func FuzzParseX(f *testing.F) {
	addPlatformSeeds(f, "x",
		`{"for_user_id":1,"tweet_create_events":[{"id":1e400,"text":"\ud800"}],"direct_message_events":{}}`,
		`{"tweet_create_events":[{"id_str":"1","extended_tweet":{"full_text":"  "},"text":"x","user":{"followers_count":-5}}]}`,
		`{"direct_message_events":[{"type":"message_create","id":"1","message_create":{"sender_id":"2","target":{"recipient_id":"10"},"message_data":{"text":"&lt;b&gt;"}}}]}`)
	f.Fuzz(func(t *testing.T, body []byte) {
		checkPlatformBatch(t, func() (batch, error) { return xFormat{}.parse(body, "x") }, "x", "x")
	})
}

func FuzzParseMeta(f *testing.F) {
	addPlatformSeeds(f, "meta",
		`[{"object":"page","entry":[{"id":"1","field":"feed","value":{"item":"comment","verb":"add","comment_id":"2","message":"hi"}}]}]`,
		`{"object":"instagram","entry":[{"id":"1","changes":null,"messaging":[{"message":{"mid":"m","text":"t","is_echo":"true"}}]}]}`,
		`{"object":"page","entry":[{"changes":[{"field":"mention","value":{"verb":"add","item":"comment","post_id":"1","message":"x","created_time":"99999999999999999999"}}]}]}`)
	f.Fuzz(func(t *testing.T, body []byte) {
		checkPlatformBatch(t, func() (batch, error) { return metaFormat{}.parse(body, "meta") }, "meta", "facebook", "instagram")
	})
}

func FuzzVerifyPlatforms(f *testing.F) {
	body := readTestdata(f, "x/mention.json")
	f.Add(SignX(xSecret, body), SignMeta(metaSecret, body), body)
	f.Add("sha256=", "sha256=", []byte{})
	f.Add("sha256=====", "sha256=zz", []byte("{}"))
	x, meta := xFormat{secret: xSecret}, metaFormat{secret: metaSecret, verifyToken: metaVerify}
	f.Fuzz(func(t *testing.T, xSig, metaSig string, body []byte) {
		h := http.Header{}
		h.Set(HeaderXSignature, xSig)
		h.Set(HeaderMetaSignature, metaSig)
		if x.verify(h, body, time.Time{}) == nil && strings.TrimSpace(xSig) != SignX(xSecret, body) {
			t.Fatalf("forged X signature accepted: %q", xSig)
		}
		if meta.verify(h, body, time.Time{}) == nil && !strings.EqualFold(strings.TrimSpace(metaSig), SignMeta(metaSecret, body)) {
			t.Fatalf("forged Meta signature accepted: %q", metaSig)
		}
	})
}
