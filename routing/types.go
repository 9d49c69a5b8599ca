package routing

import (
	"fmt"
	"time"
)

// Class is what a post is about, and so which department owns it.
type Class string

// The three classes every post is sorted into.
const (
	Support     Class = "support"
	Reputation  Class = "reputation"
	Promotional Class = "promotional"
)

// Classes lists every class in a fixed order; arrays indexed by class use it.
var Classes = [...]Class{Support, Reputation, Promotional}

// Valid reports whether c is one of Classes.
func (c Class) Valid() bool {
	return c.index() >= 0
}

func (c Class) index() int {
	for i, k := range Classes {
		if k == c {
			return i
		}
	}
	return -1
}

// ParseClass turns s into a Class, or says which values are allowed.
func ParseClass(s string) (Class, error) {
	c := Class(s)
	if !c.Valid() {
		return "", fmt.Errorf("unknown class %q (want support, reputation or promotional)", s)
	}
	return c, nil
}

// Platforms lists the platform names a post may carry.
var Platforms = []string{"x", "facebook", "instagram", "linkedin", "reddit", "mastodon", "tiktok", "youtube", "review", "email", "other"}

// ValidPlatform reports whether p is one of Platforms.
func ValidPlatform(p string) bool {
	for _, q := range Platforms {
		if p == q {
			return true
		}
	}
	return false
}

// Author is who wrote a post, with the reach signals routing looks at.
type Author struct {
	Handle    string `json:"handle,omitempty"`
	Name      string `json:"name,omitempty"`
	Followers int64  `json:"followers,omitempty"`
	Verified  bool   `json:"verified,omitempty"`
}

// Post is one social-media post as socialroute knows it, whatever the
// platform or connector it came from.
type Post struct {
	ID             string    `json:"id"`          // internal id, assigned when stored
	Source         string    `json:"source"`      // name of the webhook source
	ExternalID     string    `json:"external_id"` // the platform's post id
	Platform       string    `json:"platform"`
	Text           string    `json:"text"`
	Author         Author    `json:"author"`
	URL            string    `json:"url,omitempty"`
	CreatedAt      time.Time `json:"created_at,omitzero"`
	ReceivedAt     time.Time `json:"received_at,omitzero"`
	ConversationID string    `json:"conversation_id,omitempty"`
	InReplyTo      string    `json:"in_reply_to,omitempty"`
	Lang           string    `json:"lang,omitempty"`
}

// Reason is one piece of evidence behind a classification.
type Reason struct {
	Class  Class   `json:"class"`
	Kind   string  `json:"kind"`   // "rule", "phrase", "keyword", "reach", ...
	Detail string  `json:"detail"` // what matched, e.g. "refund"
	Weight float64 `json:"weight"`
}

func (r Reason) String() string {
	return fmt.Sprintf("%s %q → %s (%+.2f)", r.Kind, r.Detail, r.Class, r.Weight)
}

// Result is a classifier's answer for one post.
type Result struct {
	Class      Class      `json:"class"`
	Confidence float64    `json:"confidence"` // probability of Class, 0..1
	Scores     [3]float64 `json:"-"`          // probability per class, indexed like Classes
	Reasons    []Reason   `json:"reasons"`
}

// Decision is where a post goes and why.
type Decision struct {
	Class      Class    `json:"class"`
	Confidence float64  `json:"confidence"`
	Department string   `json:"department"` // empty when sent to triage
	Channel    string   `json:"channel"`
	Unsure     bool     `json:"unsure,omitempty"`    // below min_confidence: sent to triage
	Runner     Class    `json:"runner_up,omitempty"` // second likeliest class
	Priority   string   `json:"priority,omitempty"`  // "high" or "" (normal)
	Incident   bool     `json:"incident,omitempty"`  // a rule marked the post as an incident
	Reasons    []Reason `json:"reasons,omitempty"`
}
