package bot

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

var (
	errTimeout = &net.OpError{Op: "read", Err: errors.New("i/o timeout")}
	errLimited = &slack.RateLimitedError{RetryAfter: time.Millisecond}
)

func TestCreateLooksBeforeRepeatingAnUncertainPost(t *testing.T) {
	tests := []struct {
		name      string
		inFlight  bool
		fails     []error // the post's answers before it succeeds
		inSlack   bool    // whether a failed post took effect
		wantPosts int
		wantFinds int
	}{
		{"clean", false, nil, false, 1, 0},
		{"in flight, absent", true, nil, false, 1, 1},
		{"429 is looked for", false, []error{errLimited, errLimited}, false, 3, 2},
		{"429 that took effect", false, []error{errLimited}, true, 1, 1},
		{"refusal is not looked for", false, []error{slack.SlackErrorResponse{Err: "fatal_error"}}, false, 2, 0},
		{"timeout that took effect", false, []error{errTimeout}, true, 1, 1},
		{"timeout that did not", false, []error{errTimeout}, false, 2, 1},
		{"5xx that took effect", false, []error{slack.StatusCodeError{Code: 503, Status: "503"}}, true, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			posts, finds, inSlack := 0, 0, ""
			find := func(context.Context) (string, error) { finds++; return inSlack, nil }
			post := func(context.Context) (string, error) {
				posts++
				if posts <= len(tt.fails) {
					if tt.inSlack {
						inSlack = "1.1"
					}
					return "", tt.fails[posts-1]
				}
				return "2.2", nil
			}
			// Retries of timeouts back off up to a second; the deadline allows it.
			ts, maybe, err := caller{deadline: time.Minute}.create(context.Background(), tt.inFlight, find, post)
			if err != nil || maybe {
				t.Fatalf("create = %q, %v, %v", ts, maybe, err)
			}
			if posts != tt.wantPosts || finds != tt.wantFinds {
				t.Fatalf("%d posts and %d look-ups, want %d and %d", posts, finds, tt.wantPosts, tt.wantFinds)
			}
			if want := map[bool]string{true: "1.1", false: "2.2"}[tt.inSlack]; ts != want {
				t.Fatalf("ts %q, want %q", ts, want)
			}
		})
	}
}

func TestCallerGivesUp(t *testing.T) {
	c := caller{deadline: 200 * time.Millisecond}
	t.Run("permanent", func(t *testing.T) {
		n := 0
		err := c.do(context.Background(), func(context.Context) error { n++; return slack.SlackErrorResponse{Err: "channel_not_found"} })
		if err == nil || n != 1 {
			t.Fatalf("%d calls, %v; want one call and its error", n, err)
		}
	})
	t.Run("retry after beyond the deadline", func(t *testing.T) {
		n, start := 0, time.Now()
		err := c.do(context.Background(), func(context.Context) error { n++; return &slack.RateLimitedError{RetryAfter: time.Minute} })
		var rl *slack.RateLimitedError
		if !errors.As(err, &rl) || n != 1 || time.Since(start) > 10*time.Second {
			t.Fatalf("%d calls in %s, %v; want one call and the 429 at once", n, time.Since(start), err)
		}
	})
	t.Run("uncertain post left to a later look", func(t *testing.T) {
		_, maybe, err := c.create(context.Background(), false,
			func(context.Context) (string, error) { return "", errTimeout },
			func(context.Context) (string, error) { return "", errTimeout })
		if err == nil || !maybe {
			t.Fatalf("create = %v, maybe %v; want an error that may have taken effect", err, maybe)
		}
	})
	t.Run("ephemeral not repeated after an uncertain failure", func(t *testing.T) {
		n := 0
		err := c.once(context.Background(), func(context.Context) error { n++; return errTimeout })
		if err == nil || n != 1 {
			t.Fatalf("%d calls, %v; want one", n, err)
		}
		n = 0
		err = caller{deadline: time.Minute}.once(context.Background(), func(context.Context) error {
			if n++; n == 1 {
				return errLimited
			}
			return nil
		})
		if err != nil || n != 2 {
			t.Fatalf("%d calls, %v; want a retry after the 429", n, err)
		}
	})
}
