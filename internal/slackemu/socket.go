package slackemu

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// writeTimeout bounds every WebSocket write, so a client that stopped
// reading cannot wedge a Push call or the pinger.
const writeTimeout = 5 * time.Second

// wsConn is one live Socket Mode connection.
type wsConn struct {
	id string
	ws *websocket.Conn
	// writeMu serialises data frames: gorilla/websocket allows one writer at
	// a time (control frames may be written concurrently).
	writeMu sync.Mutex
	// done is closed when the connection ends; it stops the pinger.
	done chan struct{}
	// draining is set, under Server.mu, once the connection was asked to
	// disconnect: it gets no more envelopes.
	draining bool
}

func (c *wsConn) writeJSON(v any) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := c.ws.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return err
	}
	return c.ws.WriteJSON(v)
}

// closeGracefully sends a close frame, then closes the socket.
func (c *wsConn) closeGracefully() {
	msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "slackemu closing")
	_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	_ = c.ws.Close()
}

// ackFrame is what the client sends back for an envelope.
type ackFrame struct {
	EnvelopeID string          `json:"envelope_id"`
	Payload    json.RawMessage `json:"payload,omitempty"`
	seq        int64           // when it arrived, in the emulator's sequence
}

// appsConnectionsOpen hands out a fresh, single-use WebSocket URL, like
// Slack does on every (re)connect.
func (s *Server) appsConnectionsOpen(_ *http.Request, _ params) (obj, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := fmt.Sprintf("%d-%s", s.nextIDLocked(), randomHex(8))
	s.tickets[id] = true
	host := s.baseURL[len("http://"):]
	return obj{"url": "ws://" + host + "/ws/" + id}, ""
}

// handleWebSocket serves a Socket Mode connection: hello, then PINGs every
// PingInterval, while this goroutine reads acks until the socket ends.
func (s *Server) handleWebSocket(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	valid := s.tickets[id] && !s.closed
	delete(s.tickets, id)
	s.mu.Unlock()
	if !valid {
		writeJSON(w, http.StatusNotFound, obj{"ok": false, "error": "invalid_connection"})
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.logf("slackemu: websocket upgrade: %v", err)
		return
	}
	c := &wsConn{id: id, ws: ws, done: make(chan struct{})}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.closeGracefully()
		return
	}
	hello := obj{
		"type":            "hello",
		"num_connections": s.connectedLocked() + 1,
		"connection_info": obj{"app_id": s.opts.AppID},
		"debug_info": obj{
			"host":                        "slackemu",
			"build_number":                1,
			"approximate_connection_time": 18060,
		},
	}
	// Registered under the lock that Close takes before waiting, so every
	// Add happens before the Wait.
	s.conns = append(s.conns, c)
	s.wg.Add(2)
	s.mu.Unlock()
	defer s.wg.Done()
	defer s.unregister(c)

	if err := c.writeJSON(hello); err != nil {
		s.logf("slackemu: socket %s: hello: %v", id, err)
		s.wg.Done() // the pinger never starts
		return
	}
	go func() {
		defer s.wg.Done()
		s.ping(c)
	}()
	s.mu.Lock()
	s.logf("slackemu: socket %s connected (%d live)", id, s.connectedLocked())
	s.notifyLocked()
	s.mu.Unlock()
	s.readAcks(c)
}

// ping sends a PING control frame at once (so the client's dead-man timer
// starts fed) and then every PingInterval, until the connection ends.
func (s *Server) ping(c *wsConn) {
	t := time.NewTicker(s.opts.PingInterval)
	defer t.Stop()
	for n := 1; ; n++ {
		err := c.ws.WriteControl(websocket.PingMessage, []byte(strconv.Itoa(n)), time.Now().Add(writeTimeout))
		if err != nil {
			_ = c.ws.Close() // makes readAcks return
			return
		}
		s.mu.Lock()
		s.pings++
		s.notifyLocked()
		s.mu.Unlock()
		select {
		case <-c.done:
			return
		case <-s.quit:
			return
		case <-t.C:
		}
	}
}

// readAcks reads frames until the socket fails and hands acks to the Push
// calls waiting for them. Client PINGs are answered by gorilla/websocket's
// default ping handler.
func (s *Server) readAcks(c *wsConn) {
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			s.logf("slackemu: socket %s closed: %v", c.id, err)
			return
		}
		if typ != websocket.TextMessage {
			continue
		}
		var f ackFrame
		if err := json.Unmarshal(data, &f); err != nil || f.EnvelopeID == "" {
			s.logf("slackemu: socket %s: ignoring frame that is not an ack: %.200s", c.id, data)
			continue
		}
		s.mu.Lock()
		f.seq = s.nextIDLocked()
		if ch, ok := s.pending[f.EnvelopeID]; ok {
			select {
			case ch <- f:
			default: // an ack for an earlier delivery is already queued
			}
			s.logf("slackemu: envelope %s acked", f.EnvelopeID)
		} else {
			s.logf("slackemu: ack for unknown or finished envelope %s", f.EnvelopeID)
		}
		s.notifyLocked()
		s.mu.Unlock()
	}
}

// unregister forgets a connection that ended and closes its socket.
func (s *Server) unregister(c *wsConn) {
	s.mu.Lock()
	s.conns = slices.DeleteFunc(s.conns, func(x *wsConn) bool { return x == c })
	s.notifyLocked()
	s.mu.Unlock()
	close(c.done)
	_ = c.ws.Close()
}

// Connected is the number of live Socket Mode connections that can receive
// envelopes (ones sent a disconnect request no longer count).
func (s *Server) Connected() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connectedLocked()
}

func (s *Server) connectedLocked() int {
	n := 0
	for _, c := range s.conns {
		if !c.draining {
			n++
		}
	}
	return n
}

// PingsSent is the number of WebSocket PING frames sent, over all
// connections; tests wait on it to let ping intervals pass without sleeping.
func (s *Server) PingsSent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pings
}

// WaitConnected waits until at least n connections can receive envelopes.
func (s *Server) WaitConnected(ctx context.Context, n int) error {
	return s.WaitFor(ctx, func() bool { return s.Connected() >= n })
}

// DropConnections closes every socket abruptly, without a close frame, as a
// network failure would.
func (s *Server) DropConnections() {
	s.mu.Lock()
	conns := s.conns
	s.conns = nil
	s.notifyLocked()
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.ws.Close()
	}
	s.logf("slackemu: dropped %d connection(s)", len(conns))
}

// SendDisconnect sends {"type":"disconnect","reason":reason} on every socket,
// as Slack does before rotating connections ("warning", "refresh_requested",
// "link_disabled"). The sockets stay open for the client to close, but get
// no more envelopes.
func (s *Server) SendDisconnect(reason string) {
	s.mu.Lock()
	conns := slices.Clone(s.conns)
	for _, c := range conns {
		c.draining = true
	}
	s.notifyLocked()
	s.mu.Unlock()
	frame := obj{"type": "disconnect", "reason": reason, "debug_info": obj{"host": "slackemu"}}
	for _, c := range conns {
		if err := c.writeJSON(frame); err != nil {
			s.logf("slackemu: socket %s: disconnect: %v", c.id, err)
		}
	}
}
