package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	bolt "go.etcd.io/bbolt"
)

var baselineBucket = []byte("posts")

// Baseline is the ceiling socialroute's ingest is compared with: a minimal
// net/http handler that stores each request body in bbolt with db.Batch
// (bbolt's own group commit: concurrent calls share one transaction and
// fsync) and answers 202 once it is on disk. It checks nothing and parses
// nothing; it is the cost of a durable write on this machine and little else.
type Baseline struct {
	db   *bolt.DB
	srv  *http.Server
	ln   net.Listener
	errc chan error
}

// StartBaseline opens a fresh bbolt file at path and serves the baseline
// handler on a loopback port.
func StartBaseline(path string) (*Baseline, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("baseline: open %q: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(baselineBucket)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("baseline: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("baseline: %w", err)
	}
	b := &Baseline{db: db, ln: ln, errc: make(chan error, 1)}
	b.srv = &http.Server{Handler: http.HandlerFunc(b.handle), ReadHeaderTimeout: 10 * time.Second}
	go func() { b.errc <- b.srv.Serve(ln) }()
	return b, nil
}

// URL is the address to load.
func (b *Baseline) URL() string { return "http://" + b.ln.Addr().String() + "/webhooks/bench" }

// BatchSettings describes db.Batch's grouping, for the report.
func (b *Baseline) BatchSettings() string {
	return fmt.Sprintf("db.Batch, MaxBatchSize %d, MaxBatchDelay %s", b.db.MaxBatchSize, b.db.MaxBatchDelay)
}

// Close stops the server and closes the file.
func (b *Baseline) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := b.srv.Shutdown(ctx)
	if serr := <-b.errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return errors.Join(err, b.db.Close())
}

func (b *Baseline) handle(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, `{"error":"read body"}`, http.StatusBadRequest)
		return
	}
	// Batch may run the function again on its own after a failed batch;
	// taking a fresh sequence number each time keeps it idempotent.
	err = b.db.Batch(func(tx *bolt.Tx) error {
		bk := tx.Bucket(baselineBucket)
		seq, err := bk.NextSequence()
		if err != nil {
			return err
		}
		return bk.Put(binary.BigEndian.AppendUint64(nil, seq), body)
	})
	if err != nil {
		http.Error(w, `{"error":"store"}`, http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"status":"accepted"}`+"\n")
}
