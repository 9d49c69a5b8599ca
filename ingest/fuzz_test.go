package ingest

import (
	"net/http"
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
			// Only a genuine signature may pass.
			n, perr := strconv.ParseInt(ts, 10, 64)
			if perr != nil || !strings.Contains(sig, Sign(testSecret, n, body)) {
				t.Fatalf("forged signature accepted: ts=%q sig=%q", ts, sig)
			}
		}
	})
}
