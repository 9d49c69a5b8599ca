package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/socialroute/socialroute/internal/metrics"
	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

// Storer keeps posts durably; *store.Store is the real one.
type Storer interface {
	Ingest(ctx context.Context, posts []routing.Post) ([]store.IngestResult, error)
}

// Source is one configured webhook source.
type Source struct {
	Name   string
	Format string // one of Formats: "generic", "x" or "meta"
	// Secret is the HMAC key of the format's signature: the shared
	// webhook secret (generic), the app's consumer secret (x) or the app
	// secret (meta).
	Secret []byte
	// VerifyToken is the token Meta echoes in its verification request;
	// required by format meta, refused by the others.
	VerifyToken []byte
}

// route is a source with its format.
type route struct {
	Source
	format format
}

// Options configure a Server.
type Options struct {
	Sources      []Source
	MaxBodyBytes int64 // default 1 MiB
	// MaxBodyMemory bounds the bytes of request bodies held at once
	// (default 64 MiB, never less than MaxBodyBytes). A request takes its
	// Content-Length (MaxBodyBytes when it sends none) before its body is
	// read and gives it back once answered; one that finds no room within
	// a second is answered 503 with Retry-After. Without it, every slow
	// or stalled upload would hold up to MaxBodyBytes.
	MaxBodyMemory int64
	ReplayWindow  time.Duration // default 300 s
	// Retention is how long the store keeps posts (store.retention_days),
	// and so remembers them as duplicates; 0 if it keeps them for ever.
	// X and Meta events older than this are refused: their bodies are
	// signed without a time, so a captured one could be replayed after its
	// posts were pruned, and would be posted again.
	Retention time.Duration
	// ShutdownTimeout bounds how long Run waits for requests in progress
	// when its context ends. Default 10 s.
	ShutdownTimeout time.Duration
	// Ready reports whether the daemon can do its job (store open, Slack
	// connected); /readyz answers 503 with its error otherwise.
	Ready func() error
	// Details, when set, adds facts to the /readyz answer, such as how
	// many posts wait for delivery or are parked.
	Details func() map[string]any
	// AdminToken and Backup, when both set, serve GET /admin/backup: a
	// consistent copy of the database for requests bearing the token.
	AdminToken []byte
	Backup     func(w io.Writer) (int64, error)
	// StoreCallBytes, when positive, bounds the encoded size of the posts
	// handed to the store in one call; a request with more is stored in
	// several calls. etcd needs it (see EtcdStoreCallBytes); with bbolt one
	// call keeps a request's posts in one transaction.
	StoreCallBytes int
	// TempDir holds the copy a backup is made into before it is sent
	// (default: the system's temporary directory).
	TempDir string
	// WriteTimeout bounds writing one answer (default 30 s); a backup
	// download is bounded by its progress instead.
	WriteTimeout time.Duration
	// Metrics, when set, counts what the webhooks take in and refuse, and
	// is served on GET /metrics.
	Metrics *metrics.Metrics
	Now     func() time.Time
	Logger  zerolog.Logger
}

// Server is the HTTP side of socialroute.
type Server struct {
	opts    Options
	store   Storer
	sources map[string]route
	bodies  *budget
	mux     *http.ServeMux
	log     zerolog.Logger
}

// New builds a Server; it does not listen until Run.
func New(opts Options, st Storer) (*Server, error) {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.MaxBodyMemory <= 0 {
		opts.MaxBodyMemory = 64 << 20
	}
	opts.MaxBodyMemory = max(opts.MaxBodyMemory, opts.MaxBodyBytes)
	if opts.ReplayWindow <= 0 {
		opts.ReplayWindow = 300 * time.Second
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 30 * time.Second
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Ready == nil {
		opts.Ready = func() error { return nil }
	}
	s := &Server{
		opts:    opts,
		store:   st,
		sources: make(map[string]route, len(opts.Sources)),
		mux:     http.NewServeMux(),
		log:     opts.Logger.With().Str("component", "ingest").Logger(),
		bodies:  newBudget(opts.MaxBodyMemory, opts.Metrics.BodyBytes),
	}
	for _, src := range opts.Sources {
		f, err := newFormat(src, opts)
		if err != nil {
			return nil, err
		}
		if _, dup := s.sources[src.Name]; dup {
			return nil, fmt.Errorf("source %q: configured twice", src.Name)
		}
		s.sources[src.Name] = route{Source: src, format: f}
	}
	// Methods are checked by the handlers, not the patterns, so that a
	// wrong method gets a JSON 405 like every other refusal.
	s.mux.HandleFunc("/webhooks/{source}", s.handleWebhook)
	s.mux.HandleFunc("/healthz", s.handleHealthz)
	s.mux.HandleFunc("/readyz", s.handleReadyz)
	if opts.Metrics != nil {
		s.mux.Handle("GET /metrics", opts.Metrics.Handler())
	}
	if len(opts.AdminToken) > 0 && opts.Backup != nil {
		s.mux.HandleFunc("GET /admin/backup", s.handleBackup)
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint %s", r.URL.Path))
	})
	return s, nil
}

// Handler returns the server's routes.
func (s *Server) Handler() http.Handler { return s.mux }

// Run serves on ln until ctx ends, then stops accepting connections and
// waits (up to ShutdownTimeout) for requests in progress, so a post whose
// commit is under way is still answered.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      s.opts.WriteTimeout,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info().Str("addr", ln.Addr().String()).Msg("listening")
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-errc
	if err != nil {
		return fmt.Errorf("http shutdown: %w", err)
	}
	s.log.Info().Msg("http server stopped")
	return nil
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	body := map[string]any{"status": "ready"}
	if s.opts.Details != nil {
		for k, v := range s.opts.Details() {
			body[k] = v
		}
	}
	if err := s.opts.Ready(); err != nil {
		body["status"], body["error"] = "not ready", err.Error()
		writeJSON(w, http.StatusServiceUnavailable, body)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) handleWebhook(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("source")
	rt, ok := s.sources[name]
	// GET is the platforms' handshake; whether this source has one is
	// known only once the source is, so GET passes the method check here
	// and is refused below for formats without one.
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		allow := http.MethodPost
		if ok {
			allow = allowed(rt.format)
		}
		s.opts.Metrics.Rejected(s.label(name), "method")
		methodNotAllowed(w, r.Method, allow)
		return
	}
	if !ok {
		s.opts.Metrics.Rejected(unknownSource, "source")
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown source %q", name))
		return
	}
	log := s.log.With().Str("source", name).Logger()
	if r.Method == http.MethodGet {
		hs, ok := rt.format.(handshaker)
		if !ok {
			s.opts.Metrics.Rejected(name, "method")
			methodNotAllowed(w, r.Method, allowed(rt.format))
			return
		}
		if err := hs.handshake(w, r); err != nil {
			log.Warn().Str("remote", r.RemoteAddr).Str("reason", err.Error()).Msg("webhook handshake refused")
			return
		}
		log.Info().Str("format", rt.Format).Msg("webhook handshake answered")
		return
	}

	if r.ContentLength > s.opts.MaxBodyBytes {
		s.opts.Metrics.Rejected(name, "size")
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", s.opts.MaxBodyBytes))
		return
	}
	need := r.ContentLength
	if need < 0 {
		need = s.opts.MaxBodyBytes // chunked: it may be as long as allowed
	}
	wait, cancel := context.WithTimeout(r.Context(), bodyWait)
	got := s.bodies.acquire(wait, need)
	cancel()
	if !got {
		s.opts.Metrics.Rejected(name, "busy")
		// The body stays unread: closing the connection keeps net/http
		// from reading it before answering, which a stalled sender
		// would hold up.
		w.Header().Set("Connection", "close")
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "too many request bodies in progress; retry later")
		return
	}
	defer s.bodies.release(need)
	body, err := s.readBody(w, r)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.opts.Metrics.Rejected(name, "size")
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", s.opts.MaxBodyBytes))
			return
		}
		s.opts.Metrics.Rejected(name, "body")
		writeError(w, http.StatusBadRequest, "reading body: "+err.Error())
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		s.opts.Metrics.Rejected(name, "content_type")
		writeError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return
	}
	if err := rt.format.verify(r.Header, body, s.opts.Now()); err != nil {
		log.Warn().Str("remote", r.RemoteAddr).Str("reason", err.Error()).Msg("webhook refused: signature")
		s.opts.Metrics.Rejected(name, "signature")
		writeError(w, http.StatusUnauthorized, err.Error())
		return
	}

	if err := checkDepth(body); err != nil {
		s.opts.Metrics.Rejected(name, "body")
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	b, err := rt.format.parse(body, rt.Name)
	if err != nil {
		s.opts.Metrics.Rejected(name, "body")
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if s.opts.Retention > 0 {
		b = b.dropStale(s.opts.Now().Add(-s.opts.Retention+clockSkew), s.opts.Retention)
	}
	for _, sk := range b.skips {
		if sk.refused == "" {
			log.Debug().Str("event", sk.event).Str("reason", sk.reason).Msg("webhook event skipped")
			continue
		}
		s.opts.Metrics.Rejected(name, sk.refused)
		log.Warn().Str("event", sk.event).Str("reason", sk.reason).Msg("webhook event refused")
	}
	var results []store.IngestResult
	if valid := b.valid(); len(valid) > 0 {
		results, err = s.ingestParts(r.Context(), valid)
		if err != nil {
			s.opts.Metrics.Rejected(name, "store")
			s.storeFailed(w, log, err)
			return
		}
	}
	for _, res := range results {
		s.opts.Metrics.Received(name, res.Duplicate)
		if !res.Duplicate {
			log.Debug().Str("post_id", res.ID).Msg("post accepted")
		}
	}
	rt.format.reply(w, b, results)
}

// unknownSource is the metric label of requests for a source that is not
// configured. Paths are the caller's to choose: were each name its own
// label, every new one would cost memory and /metrics output for good.
const unknownSource = ""

// label is the metric label for source name: the name itself only when it
// is configured.
func (s *Server) label(name string) string {
	if _, ok := s.sources[name]; ok {
		return name
	}
	return unknownSource
}

// allowed is the Allow header for a source of format f.
func allowed(f format) string {
	if _, ok := f.(handshaker); ok {
		return "GET, POST"
	}
	return http.MethodPost
}

func methodNotAllowed(w http.ResponseWriter, method, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed; use %s", method, strings.ReplaceAll(allow, ", ", " or ")))
}

// bodyWait is how long a request waits for room in MaxBodyMemory before
// it is answered 503: long enough to ride out a burst of ordinary
// requests, short enough that a sender is not left hanging.
const bodyWait = time.Second

// readBody reads at most MaxBodyBytes. A body of known length is read
// into a buffer of that length, so it costs no more than was reserved.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body := http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
	if r.ContentLength >= 0 {
		buf := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(body, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	return io.ReadAll(body)
}

// clockSkew is how far ahead of ours a platform's clock may be: events
// are refused as stale this much before the store's own cutoff, which
// counts from when posts arrived here.
const clockSkew = 5 * time.Minute

// EtcdStoreCallBytes is the StoreCallBytes for a store on etcd. etcd
// refuses requests over 1.5 MiB by default (its client over 2 MiB), and
// the store writes one call's posts in as few transactions as their count
// allows: a body of large posts within http.max_body_bytes (text escaped
// in JSON grows up to six-fold) would otherwise make a write that fails on
// every retry.
const EtcdStoreCallBytes = 512 << 10

// ingestParts stores posts in calls of at most StoreCallBytes each, in
// order. As when the store splits a call itself, a failure leaves the
// parts before it stored, and a retry reports those as duplicates.
func (s *Server) ingestParts(ctx context.Context, posts []routing.Post) ([]store.IngestResult, error) {
	limit := s.opts.StoreCallBytes
	if limit <= 0 {
		return s.store.Ingest(ctx, posts)
	}
	var results []store.IngestResult
	for len(posts) > 0 {
		n, size := 0, 0
		for n < len(posts) {
			b := encodedSize(posts[n])
			if n > 0 && size+b > limit {
				break
			}
			n, size = n+1, size+b
		}
		res, err := s.store.Ingest(ctx, posts[:n])
		if err != nil {
			return nil, err
		}
		results = append(results, res...)
		posts = posts[n:]
	}
	return results, nil
}

// encodedSize is about how many bytes p takes in the store: its JSON and
// room for what the store adds (ids, times, keys).
func encodedSize(p routing.Post) int {
	b, err := json.Marshal(p)
	if err != nil {
		return math.MaxInt32 // cannot happen for a post checkPost passed
	}
	return len(b) + 256
}

func (s *Server) storeFailed(w http.ResponseWriter, log zerolog.Logger, err error) {
	retry := "5"
	msg := "store unavailable; retry later"
	if errors.Is(err, store.ErrBusy) {
		retry, msg = "1", "ingest queue full; retry later"
	}
	if errors.Is(err, context.Canceled) {
		// The caller went away; nobody reads the answer.
		log.Debug().Err(err).Msg("webhook caller gone before commit")
	} else {
		log.Error().Err(err).Msg("store refused posts")
	}
	w.Header().Set("Retry-After", retry)
	writeError(w, http.StatusServiceUnavailable, msg)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}
