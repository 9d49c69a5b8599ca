package bot

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

// onEvent handles Events API envelopes (already acked).
func (b *Bot) onEvent(ctx context.Context, evt socketmode.Event) {
	ev, ok := evt.Data.(slackevents.EventsAPIEvent)
	if !ok {
		return
	}
	if home, ok := ev.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent); ok && home.Tab == "home" {
		user := home.User
		b.enqueue(ctx, func(ctx context.Context) {
			if err := b.publishHome(ctx, user); err != nil {
				b.log.Error().Err(err).Str("user", user).Msg("publish app home")
			}
		})
	}
}

// homeStats is what the App Home shows.
type homeStats struct {
	open         map[string]int // department → open posts
	unclaimed    map[string]int // department → of which unclaimed
	mine         []store.OpenItem
	today        map[routing.Class]int
	oldest       *store.OpenItem // oldest unclaimed
	oldestRecord store.Record
}

func (b *Bot) homeStats(user string) (homeStats, error) {
	st := homeStats{open: map[string]int{}, unclaimed: map[string]int{}, today: map[routing.Class]int{}}
	err := b.store.OpenItems(func(it store.OpenItem) bool {
		dept := it.Department
		if dept == "" {
			dept = "triage"
		}
		st.open[dept]++
		if !it.Claimed {
			st.unclaimed[dept]++
			if st.oldest == nil {
				st.oldest = &it
			}
		} else {
			st.mine = append(st.mine, it)
		}
		return true
	})
	if err != nil {
		return st, err
	}
	// Keep only the viewer's claims: ownership lives in the record.
	own := st.mine[:0]
	for _, it := range st.mine {
		rec, err := b.store.Get(it.PostID)
		if err == nil && rec.Claimed != nil && rec.Claimed.User == user {
			own = append(own, it)
		}
	}
	st.mine = own
	if st.oldest != nil {
		st.oldestRecord, _ = b.store.Get(st.oldest.PostID)
	}
	now := b.opts.Now()
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	err = b.store.PostsSince(midnight, func(rec store.Record) bool {
		if rec.Decision != nil {
			st.today[rec.Decision.Class]++
		}
		return true
	})
	return st, err
}

func (b *Bot) publishHome(ctx context.Context, user string) error {
	st, err := b.homeStats(user)
	if err != nil {
		return err
	}
	view := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: homeBlocks(st, b.opts.Now())}}
	// Publishing replaces the whole view, so a retry does no harm.
	return b.calls.do(ctx, func(ctx context.Context) error {
		_, err := b.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: view})
		return err
	})
}

func homeBlocks(st homeStats, now time.Time) []slack.Block {
	var blocks []slack.Block
	blocks = append(blocks, slack.NewHeaderBlock(plain("socialroute")))

	var depts []string
	for d := range st.open {
		depts = append(depts, d)
	}
	sort.Strings(depts)
	var lines []string
	for _, d := range depts {
		lines = append(lines, fmt.Sprintf("• *%s*: %d open, %d unclaimed", escape(d), st.open[d], st.unclaimed[d]))
	}
	if len(lines) == 0 {
		lines = append(lines, "Nothing open. :tada:")
	}
	blocks = append(blocks, slack.NewSectionBlock(mrkdwn("*Open items by department*\n"+strings.Join(lines, "\n")), nil, nil))

	mine := fmt.Sprintf("*Your claims*: %d open", len(st.mine))
	for i, it := range st.mine {
		if i == 10 {
			mine += fmt.Sprintf("\n… and %d more", len(st.mine)-10)
			break
		}
		mine += fmt.Sprintf("\n• %s post claimed %s (id %s)", it.Class, slackDate(it.Since), it.PostID)
	}
	blocks = append(blocks, slack.NewSectionBlock(mrkdwn(mine), nil, nil))

	var today []string
	for _, c := range routing.Classes {
		today = append(today, fmt.Sprintf("%s %d", classTitle[c], st.today[c]))
	}
	blocks = append(blocks, slack.NewSectionBlock(mrkdwn("*Today*: "+strings.Join(today, " · ")), nil, nil))

	if st.oldest != nil {
		waiting := now.Sub(st.oldest.Since).Round(time.Minute)
		text := fmt.Sprintf("*Oldest unclaimed*: waiting %s in %s\n%s", waiting, st.oldest.Department, quote(truncate(st.oldestRecord.Post.Text, 200)))
		if d := st.oldestRecord.Delivery; d != nil {
			text += fmt.Sprintf("\n<#%s>", d.Channel)
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(text), nil, nil))
	}
	return blocks
}
