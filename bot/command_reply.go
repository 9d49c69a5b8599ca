package bot

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/slack-go/slack"
)

// Slack's limits on a command's answer: an ack frame of 20 KB or more is
// dropped silently, a message holds at most 50 blocks, and a section's
// text at most 3000 characters. Answers are cut below them, with a note
// saying how many lines were left out.
const (
	maxReplyBytes   = 19000
	maxReplyBlocks  = 50
	maxSectionChars = 2900
)

// reply is an answer to a /route command, shown only to the user who ran it.
type reply struct {
	title string   // the first line, in bold; also the notification text
	lines []string // mrkdwn, one item per line
	// actions, if set, goes last: the Apply button of a preview.
	actions *slack.ActionBlock
}

// payload is a reply as an ack payload or a response_url body.
type payload struct {
	ResponseType string        `json:"response_type"`
	Text         string        `json:"text"`
	Blocks       []slack.Block `json:"blocks,omitempty"`
}

func replyf(format string, args ...any) reply {
	return reply{title: fmt.Sprintf(format, args...)}
}

// payload renders r within Slack's limits, leaving out lines from the end
// ("…and N more") until it fits.
func (r reply) payload() payload {
	keep := len(r.lines)
	for {
		p := r.build(keep)
		b, err := json.Marshal(p)
		if err != nil || len(b) <= maxReplyBytes || keep == 0 {
			return p
		}
		keep = max(0, min(keep-1, keep*maxReplyBytes/len(b)))
	}
}

func (r reply) build(keep int) payload {
	title := truncate(r.title, maxSectionChars)
	blocks := []slack.Block{slack.NewSectionBlock(mrkdwn("*"+title+"*"), nil, nil)}
	room := maxReplyBlocks - 2 // the title and a possible "and N more"
	if r.actions != nil {
		room--
	}
	omitted := len(r.lines) - keep
	var sec strings.Builder
	flush := func() {
		if sec.Len() > 0 {
			blocks = append(blocks, slack.NewSectionBlock(mrkdwn(sec.String()), nil, nil))
			room--
			sec.Reset()
		}
	}
	for i, line := range r.lines[:keep] {
		line = truncate(line, maxSectionChars)
		if sec.Len() > 0 && len([]rune(sec.String()))+1+len([]rune(line)) > maxSectionChars {
			if room == 1 { // the last section: what does not fit is left out
				omitted += keep - i
				break
			}
			flush()
		}
		if sec.Len() > 0 {
			sec.WriteByte('\n')
		}
		sec.WriteString(line)
	}
	flush()
	if omitted > 0 {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("…and %d more", omitted))))
	}
	if r.actions != nil {
		blocks = append(blocks, r.actions)
	}
	return payload{ResponseType: slack.ResponseTypeEphemeral, Text: truncate(r.title, 150), Blocks: blocks}
}
