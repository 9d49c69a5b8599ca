package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/socialroute/socialroute/ingest"
)

// Hard bounds of one load phase, whatever the flags say.
const (
	MaxConns    = 4096
	MaxRequests = 5_000_000
	MaxDuration = 10 * time.Minute
	MaxRate     = 200_000
)

// Load is one phase of webhook requests against one server.
type Load struct {
	// URL is the webhook endpoint, e.g. http://127.0.0.1:8080/webhooks/bench.
	// Only loopback hosts are accepted.
	URL string
	// Secret signs every request; nil sends the signature headers with an
	// empty key (the baseline does not check them, but pays the same
	// client-side cost).
	Secret []byte
	// Conns is the number of concurrent connections, each with one request
	// in flight at a time.
	Conns int
	// Rate is the target in posts per second, spread evenly over time
	// (latency is measured from each request's scheduled time, so a slow
	// server cannot hide its queueing); 0 sends as fast as the server
	// answers.
	Rate float64
	// Duration and Requests bound the phase; it ends at whichever comes first.
	Duration time.Duration
	Requests int
	// Record keeps the internal id and send time of every accepted post,
	// for webhook-to-Slack latency.
	Record bool
}

// Sent is one accepted post: its internal id and when its request was due.
type Sent struct {
	ID string
	At time.Time
}

// Result is what one load phase measured.
type Result struct {
	Conns   int
	Rate    float64
	Elapsed time.Duration // first request to last answer
	// Requests counts every request sent; Codes counts answers by status;
	// Transport counts requests that got no answer.
	Requests  int
	Codes     map[int]int
	Transport int
	// FirstError describes the first unexpected answer or transport error.
	FirstError string
	Latency    Latencies
	Accepted   []Sent // when Record is set
	// Fsync is the cost of a sync in the phase's directory, measured just
	// before the phase (zero for a target daemon).
	Fsync Latencies
}

// Stored is the number of posts the server accepted (202).
func (r Result) Stored() int { return r.Codes[http.StatusAccepted] }

// Errors counts requests that were neither accepted nor answered duplicate.
func (r Result) Errors() int {
	n := r.Transport
	for code, c := range r.Codes {
		if code != http.StatusAccepted && code != http.StatusOK {
			n += c
		}
	}
	return n
}

// Throughput is accepted posts per second.
func (r Result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Stored()) / r.Elapsed.Seconds()
}

// CheckLoopback refuses URLs whose host is not a loopback address: the
// benchmark must never load someone else's server.
func CheckLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("url %q: %w", raw, err)
	}
	if u.Scheme != "http" {
		return fmt.Errorf("url %q: only http:// on loopback is supported", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("url %q: host %q is not a loopback address; the benchmark only targets this machine", raw, host)
}

func (l *Load) validate() error {
	if err := CheckLoopback(l.URL); err != nil {
		return err
	}
	switch {
	case l.Conns < 1 || l.Conns > MaxConns:
		return fmt.Errorf("connections: %d; want 1..%d", l.Conns, MaxConns)
	case l.Rate < 0 || l.Rate > MaxRate:
		return fmt.Errorf("rate: %g; want 0..%d posts/s", l.Rate, MaxRate)
	case l.Duration <= 0 || l.Duration > MaxDuration:
		return fmt.Errorf("duration: %s; want more than 0 and at most %s", l.Duration, MaxDuration)
	case l.Requests < 1 || l.Requests > MaxRequests:
		return fmt.Errorf("requests: %d; want 1..%d", l.Requests, MaxRequests)
	}
	return nil
}

// worker's private tallies, merged at the end.
type tally struct {
	codes     map[int]int
	transport int
	firstErr  string
	lat       []time.Duration
	accepted  []Sent
}

// Run sends the phase's requests and returns what it measured. It stops
// after Duration or Requests, or when ctx ends.
func (l Load) Run(ctx context.Context) (Result, error) {
	if err := l.validate(); err != nil {
		return Result{}, err
	}
	tr := &http.Transport{
		MaxConnsPerHost:     l.Conns,
		MaxIdleConnsPerHost: l.Conns,
		MaxIdleConns:        l.Conns,
		DisableCompression:  true,
		IdleConnTimeout:     30 * time.Second,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	gen := newPostGen()

	// The phase's end stops new requests; those under way are answered,
	// so that every post the server stores is counted.
	outer := ctx
	ctx, cancel := context.WithTimeout(ctx, l.Duration)
	defer cancel()
	var interval time.Duration
	if l.Rate > 0 {
		interval = time.Duration(float64(time.Second) / l.Rate)
	}
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		lastEnd atomic.Int64 // unix nanos of the latest answer
	)
	tallies := make([]tally, l.Conns)
	start := time.Now()
	deadline := start.Add(l.Duration)
	for w := range l.Conns {
		t := &tallies[w]
		t.codes = make(map[int]int)
		wg.Go(func() {
			var buf []byte
			for {
				i := next.Add(1) - 1
				if i >= int64(l.Requests) || ctx.Err() != nil {
					return
				}
				due := time.Now()
				if interval > 0 {
					due = start.Add(time.Duration(i) * interval)
					if !due.Before(deadline) {
						return
					}
					if d := time.Until(due); d > 0 {
						select {
						case <-time.After(d):
						case <-ctx.Done():
							return
						}
					}
				}
				buf = gen.next(buf[:0])
				code, id, err := l.send(outer, client, buf)
				end := time.Now()
				if err != nil {
					if outer.Err() != nil {
						return // the run was cancelled during this request: not an error of the server
					}
					t.transport++
					if t.firstErr == "" {
						t.firstErr = err.Error()
					}
					continue
				}
				storeMax(&lastEnd, end.UnixNano())
				t.codes[code]++
				t.lat = append(t.lat, end.Sub(due))
				switch {
				case code == http.StatusAccepted && l.Record:
					t.accepted = append(t.accepted, Sent{ID: id, At: due})
				case code != http.StatusAccepted && code != http.StatusOK && t.firstErr == "":
					t.firstErr = fmt.Sprintf("HTTP %d", code)
				}
			}
		})
	}
	wg.Wait()

	res := Result{Conns: l.Conns, Rate: l.Rate, Codes: make(map[int]int)}
	if e := lastEnd.Load(); e > 0 {
		res.Elapsed = time.Unix(0, e).Sub(start)
	}
	var lat []time.Duration
	for _, t := range tallies {
		for c, n := range t.codes {
			res.Codes[c] += n
			res.Requests += n
		}
		res.Requests += t.transport
		res.Transport += t.transport
		if res.FirstError == "" {
			res.FirstError = t.firstErr
		}
		lat = append(lat, t.lat...)
		res.Accepted = append(res.Accepted, t.accepted...)
	}
	res.Latency = Summarize(lat)
	return res, nil
}

func storeMax(v *atomic.Int64, x int64) {
	for {
		cur := v.Load()
		if x <= cur || v.CompareAndSwap(cur, x) {
			return
		}
	}
}

// send posts one signed body and returns the status code and, for a 202
// when recording, the internal id from the answer.
func (l *Load) send(ctx context.Context, client *http.Client, body []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.URL, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	ts := time.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(ingest.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(ingest.HeaderSignature, ingest.Sign(l.Secret, ts, body))
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || !l.Record {
		_, err = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, "", err
	}
	var answer struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		return 0, "", fmt.Errorf("decode 202 answer: %w", err)
	}
	if answer.ID == "" {
		return 0, "", errors.New("202 answer without an id")
	}
	return resp.StatusCode, answer.ID, nil
}
