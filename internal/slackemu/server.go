package slackemu

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Server is an emulated Slack workspace with its Web API and Socket Mode
// endpoints. Build it with New, then Start it; all methods are safe for
// concurrent use.
type Server struct {
	opts Options
	logf func(format string, args ...any)

	// mu guards everything below it. changed is closed and replaced on every
	// mutation, which is what WaitFor waits on.
	mu        sync.Mutex
	changed   chan struct{}
	started   bool
	closed    bool
	baseURL   string
	botToken  string
	appToken  string
	revoked   bool
	store     *store
	calls     map[string]int
	faults    map[string]*Fault
	views     map[string]*View
	homeViews map[string]string // user ID → view ID
	triggers  map[string]string // trigger_id → user ID
	responses map[string]responseTarget
	posts     []ResponseURLPost
	seq       int64
	// groups maps a user group ID to its members' user IDs.
	groups map[string][]string
	// Socket Mode state: tickets are the unused WebSocket URL IDs handed out
	// by apps.connections.open; conns the live sockets in connect order.
	tickets map[string]bool
	conns   []*wsConn
	rr      int
	pings   int
	pending map[string]chan ackFrame
	// sent holds the last delivery of recent envelopes, oldest first in
	// sentOrder, for Redeliver.
	sent      map[string]sentEnvelope
	sentOrder []string
	// redeliveries is how many extra times every envelope is sent even
	// though it was acked, as Slack does when an ack reaches it late.
	redeliveries int

	quit     chan struct{}
	wg       sync.WaitGroup
	http     *http.Server
	upgrader websocket.Upgrader
}

// New builds a Server from opts, applying defaults. It does not listen; call
// Start.
func New(opts Options) *Server {
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&opts.BotToken, DefaultBotToken)
	def(&opts.AppToken, DefaultAppToken)
	def(&opts.TeamID, DefaultTeamID)
	def(&opts.BotUserID, DefaultBotUserID)
	def(&opts.BotID, DefaultBotID)
	def(&opts.AppID, DefaultAppID)
	def(&opts.Addr, "127.0.0.1:0")
	if opts.PingInterval <= 0 {
		opts.PingInterval = DefaultPingInterval
	}
	if opts.AckTimeout <= 0 {
		opts.AckTimeout = DefaultAckTimeout
	}
	s := &Server{
		opts:      opts,
		logf:      opts.Logf,
		changed:   make(chan struct{}),
		botToken:  opts.BotToken,
		appToken:  opts.AppToken,
		store:     newStore(),
		calls:     make(map[string]int),
		faults:    make(map[string]*Fault),
		views:     make(map[string]*View),
		homeViews: make(map[string]string),
		triggers:  make(map[string]string),
		groups:    make(map[string][]string),
		responses: make(map[string]responseTarget),
		tickets:   make(map[string]bool),
		pending:   make(map[string]chan ackFrame),
		sent:      make(map[string]sentEnvelope),
		quit:      make(chan struct{}),
		// Slack's client dials with Origin https://api.slack.com; any origin
		// is fine for a loopback emulator.
		upgrader: websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }},
	}
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	for _, c := range opts.Channels {
		s.store.addChannel(c.ID, c.Name)
	}
	return s
}

// Start listens on Options.Addr (default 127.0.0.1, a free port) and serves
// until Close.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("slackemu: already started")
	}
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("slackemu: listen on %s: %w", s.opts.Addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/{method}", s.handleAPI)
	mux.HandleFunc("GET /ws/{id}", s.handleWebSocket)
	mux.HandleFunc("POST /response/{id}", s.handleResponseURL)
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.baseURL = "http://" + ln.Addr().String()
	s.started = true
	s.wg.Go(func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logf("slackemu: serve: %v", err)
		}
	})
	s.logf("slackemu: listening on %s", s.baseURL)
	return nil
}

// Close stops the server: it closes the listener and every WebSocket, wakes
// every waiting call with ErrClosed, and returns once all of the server's
// goroutines have ended. It is safe to call more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.quit)
	conns := s.conns
	s.conns = nil
	srv := s.http
	s.notifyLocked()
	s.mu.Unlock()

	var err error
	if srv != nil {
		// Handlers in a fault Delay return on quit, so this is quick; the
		// bound only guards against a stuck client.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = srv.Shutdown(ctx)
		cancel()
		if err != nil {
			err = srv.Close()
		}
	}
	// Hijacked WebSocket connections are not the http.Server's any more.
	for _, c := range conns {
		c.closeGracefully()
	}
	s.wg.Wait()
	return err
}

// APIURL is the Web API base URL for slack.OptionAPIURL, ending in "/"
// (slack-go joins it with method names by plain concatenation). It is empty
// before Start.
func (s *Server) APIURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.baseURL == "" {
		return ""
	}
	return s.baseURL + "/api/"
}

// Options returns the effective options, defaults applied. Channels is
// left empty: the workspace's channels change, see Channels.
func (s *Server) Options() Options {
	o := s.opts
	o.Channels = nil
	return o
}

// BotToken is the bot token currently accepted by the Web API.
func (s *Server) BotToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.botToken
}

// AppToken is the app-level token currently accepted by apps.connections.open.
func (s *Server) AppToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appToken
}

// WaitFor returns nil as soon as cond returns true. cond is evaluated now and
// again after every change of the emulator's state (messages, calls,
// connections, acks, …), so it may call the Server's accessors but must not
// block. It returns ctx.Err() when ctx ends first and ErrClosed when the
// Server closes.
func (s *Server) WaitFor(ctx context.Context, cond func() bool) error {
	for {
		// Take the channel before evaluating cond: a change between the two
		// closes this channel, so it cannot be missed.
		s.mu.Lock()
		ch := s.changed
		closed := s.closed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		if closed {
			return ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// notifyLocked wakes every WaitFor. Callers hold s.mu.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// nextIDLocked returns a fresh number for IDs. Callers hold s.mu.
func (s *Server) nextIDLocked() int64 {
	s.seq++
	return s.seq
}
