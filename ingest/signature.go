package ingest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers of the generic signature scheme.
const (
	HeaderTimestamp = "X-Socialroute-Timestamp"
	HeaderSignature = "X-Socialroute-Signature"
)

// Sign returns the X-Socialroute-Signature value for body sent at ts:
// "v1=" + hex(HMAC-SHA256(secret, ts + "." + body)). Connectors written in
// Go, the demo and the tests use it.
func Sign(secret []byte, ts int64, body []byte) string {
	return "v1=" + hex.EncodeToString(mac(secret, strconv.FormatInt(ts, 10), body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// verify checks the timestamp and signature headers of r against body.
// Several signatures may be sent comma-separated (secret rotation); one
// matching is enough. The error text is safe to return to the caller: it
// never includes the secret or the expected signature.
func verify(h http.Header, body, secret []byte, now time.Time, window time.Duration) error {
	tsText := h.Get(HeaderTimestamp)
	if tsText == "" {
		return fmt.Errorf("missing %s header", HeaderTimestamp)
	}
	sigText := h.Get(HeaderSignature)
	if sigText == "" {
		return fmt.Errorf("missing %s header", HeaderSignature)
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("%s: not a unix time in seconds", HeaderTimestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > window || d < -window {
		return fmt.Errorf("%s: more than %d s from the server's clock (replay protection)", HeaderTimestamp, int(window.Seconds()))
	}
	want := mac(secret, tsText, body)
	seen := false
	for _, part := range strings.Split(sigText, ",") {
		hexSig, ok := strings.CutPrefix(strings.TrimSpace(part), "v1=")
		if !ok {
			continue
		}
		seen = true
		got, err := hex.DecodeString(hexSig)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	if !seen {
		return errors.New(HeaderSignature + `: want "v1=<hex HMAC-SHA256>"`)
	}
	return errors.New(HeaderSignature + ": signature does not match")
}
