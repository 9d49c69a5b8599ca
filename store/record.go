package store

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/oklog/ulid/v2"

	"github.com/socialroute/socialroute/routing"
)

// A post's Record is kept in three buckets, each value written once:
//
//	posts       the post and what people do with it (Claimed, Resolved, History), at ingest
//	decisions   the routing decision, when the post is first routed
//	deliveries  where it landed in Slack, when it is delivered
//
// Keys in all three grow with time (ULIDs), and bbolt packs such buckets
// tightly (see packAppendBuckets). A single record that grew twice after
// it was written — decision, then delivery, each adding to a value already
// sitting in a packed page — split its pages again and again, leaving the
// posts bucket about two thirds full for good; kept apart, no value grows.
// The post's id is its key and is not stored again inside the value.
//
// Decisions are the bulk of a record (the reasons behind the class) and
// say much the same thing every time, so they are stored compressed with a
// preset dictionary: about 150 bytes instead of 500. Only the delivery
// worker writes them, once per post; the webhook path never pays for it.

// getRecord reads the whole record of the post with key. A decision or
// delivery stored inside the post's own value (schema 1) is taken as well.
func getRecord(tx txn, key []byte) (Record, error) {
	var rec Record
	v := tx.Bucket(bucketPosts).Get(key)
	if v == nil {
		return rec, ErrNotFound
	}
	if err := json.Unmarshal(v, &rec); err != nil {
		return rec, fmt.Errorf("decode post: %w", err)
	}
	rec.Post.ID = ulid.ULID(key).String()
	if v := tx.Bucket(bucketDecisions).Get(key); v != nil {
		rec.Decision = new(routing.Decision)
		if err := decodeDecision(v, rec.Decision); err != nil {
			return rec, err
		}
	}
	if v := tx.Bucket(bucketDeliveries).Get(key); v != nil {
		rec.Delivery = new(Delivery)
		if err := json.Unmarshal(v, rec.Delivery); err != nil {
			return rec, fmt.Errorf("decode delivery: %w", err)
		}
	}
	return rec, nil
}

// putRecord stores rec as the record of the post with key, writing only
// the parts whose encoding changed.
func putRecord(tx txn, key []byte, rec Record) error {
	v, err := encodePost(rec)
	if err != nil {
		return err
	}
	if err := putChanged(tx.Bucket(bucketPosts), key, v); err != nil {
		return err
	}
	if rec.Decision != nil {
		if err := putDecision(tx, key, *rec.Decision); err != nil {
			return err
		}
	} else if err := tx.Bucket(bucketDecisions).Delete(key); err != nil {
		return err
	}
	if rec.Delivery != nil {
		return putDelivery(tx, key, *rec.Delivery)
	}
	// A reclassified post leaves its old message: it has no delivery
	// until the new one.
	return tx.Bucket(bucketDeliveries).Delete(key)
}

// encodePost encodes the posts bucket's part of rec.
func encodePost(rec Record) ([]byte, error) {
	rec.Post.ID = "" // the key
	rec.Decision, rec.Delivery = nil, nil
	v, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode post: %w", err)
	}
	return v, nil
}

// getDecision returns the decision stored for the post with key, nil if
// it was not routed yet, and ErrNotFound when there is no such post.
func getDecision(tx txn, key []byte) (*routing.Decision, error) {
	post := tx.Bucket(bucketPosts).Get(key)
	if post == nil {
		return nil, ErrNotFound
	}
	if v := tx.Bucket(bucketDecisions).Get(key); v != nil {
		d := new(routing.Decision)
		if err := decodeDecision(v, d); err != nil {
			return nil, err
		}
		return d, nil
	}
	var legacy struct {
		Decision *routing.Decision `json:"decision"`
	}
	if err := json.Unmarshal(post, &legacy); err != nil {
		return nil, fmt.Errorf("decode post: %w", err)
	}
	return legacy.Decision, nil
}

func putDecision(tx txn, key []byte, d routing.Decision) error {
	v, err := encodeDecision(d)
	if err != nil {
		return err
	}
	return putChanged(tx.Bucket(bucketDecisions), key, v)
}

// Formats of a stored decision, told apart by the first byte.
const (
	// decisionJSON is plain JSON: '{' starts the object itself.
	decisionJSON = '{'
	// decisionFlate is 'z' followed by the JSON compressed with DEFLATE
	// (RFC 1951) and decisionDict as the preset dictionary. The dictionary
	// is part of the file format: a different one needs a new first byte.
	decisionFlate = 'z'
)

// decisionDict holds what most decisions share, most common last (nearer
// matches encode shorter).
var decisionDict = []byte(`{"class":"promotional","confidence":0.5,"department":"","channel":"C0","unsure":true,` +
	`"runner_up":"reputation","priority":"high","reasons":[` +
	`{"class":"reputation","kind":"reach","detail":"followers ≥ 100k","weight":1},` +
	`{"class":"reputation","kind":"reach","detail":"verified author","weight":1},` +
	`{"class":"promotional","kind":"emoji","detail":"","weight":1},` +
	`{"class":"support","kind":"rule","detail":"","weight":1},` +
	`{"class":"support","kind":"context","detail":"question to an account","weight":0.4},` +
	`{"class":"promotional","kind":"keyword","detail":"","weight":1.5},` +
	`{"class":"reputation","kind":"phrase","detail":"","weight":2.5},` +
	`{"class":"support","kind":"keyword","detail":"","weight":0.5},` +
	`{"class":"support","kind":"phrase","detail":"","weight":3}]}`)

var (
	flateWriters = sync.Pool{New: func() any {
		w, err := flate.NewWriterDict(io.Discard, flate.DefaultCompression, decisionDict)
		if err != nil {
			panic(err) // only for an invalid level
		}
		return w
	}}
	flateReaders = sync.Pool{New: func() any {
		return flate.NewReaderDict(bytes.NewReader(nil), decisionDict)
	}}
)

func encodeDecision(d routing.Decision) ([]byte, error) {
	js, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode decision: %w", err)
	}
	buf := bytes.NewBuffer(make([]byte, 0, 1+len(js)/2))
	buf.WriteByte(decisionFlate)
	w := flateWriters.Get().(*flate.Writer)
	defer flateWriters.Put(w)
	w.Reset(buf)
	if _, err := w.Write(js); err != nil {
		return nil, fmt.Errorf("compress decision: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("compress decision: %w", err)
	}
	return buf.Bytes(), nil
}

func decodeDecision(v []byte, d *routing.Decision) error {
	if len(v) == 0 || (v[0] != decisionFlate && v[0] != decisionJSON) {
		return fmt.Errorf("decode decision: unknown format %.1q", v)
	}
	if v[0] == decisionFlate {
		r := flateReaders.Get().(io.ReadCloser)
		defer flateReaders.Put(r)
		if err := r.(flate.Resetter).Reset(bytes.NewReader(v[1:]), decisionDict); err != nil {
			return fmt.Errorf("decode decision: %w", err)
		}
		js, err := io.ReadAll(r)
		if err != nil {
			return fmt.Errorf("decode decision: %w", err)
		}
		v = js
	}
	if err := json.Unmarshal(v, d); err != nil {
		return fmt.Errorf("decode decision: %w", err)
	}
	return nil
}

func putDelivery(tx txn, key []byte, d Delivery) error {
	v, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode delivery: %w", err)
	}
	return putChanged(tx.Bucket(bucketDeliveries), key, v)
}

// putChanged writes v unless the bucket holds it already, so an unchanged
// part does not dirty its page.
func putChanged(b bucket, key, v []byte) error {
	if bytes.Equal(b.Get(key), v) {
		return nil
	}
	return b.Put(key, v)
}
