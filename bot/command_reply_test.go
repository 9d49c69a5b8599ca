package bot

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

func TestReplyFitsSlackLimits(t *testing.T) {
	lines := func(n, size int, s string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%d ", i) + strings.Repeat(s, size)
		}
		return out
	}
	apply := slack.NewActionBlock("route_preview", slack.NewButtonBlockElement(ActionApply, "id", plain("Apply")))
	tests := []struct {
		name    string
		r       reply
		omitted bool
	}{
		{"short", reply{title: "ok", lines: lines(3, 10, "a")}, false},
		{"no lines", reply{title: "ok"}, false},
		{"many short lines", reply{title: "list", lines: lines(2000, 5, "a")}, true},
		{"long lines", reply{title: "list", lines: lines(300, 200, "b")}, true},
		{"lines longer than a section are cut", reply{title: "x", lines: lines(3, 4000, "c")}, false},
		{"escaped characters cost more in JSON", reply{title: "x", lines: lines(500, 60, "<>&\"→")}, true},
		{"many sections with a button", reply{title: "x", lines: lines(60, 2800, "d"), actions: apply}, true},
		{"long title", reply{title: strings.Repeat("t", 5000)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.r.payload()
			b, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) > maxReplyBytes {
				t.Fatalf("payload is %d bytes, over %d", len(b), maxReplyBytes)
			}
			if len(p.Blocks) > maxReplyBlocks || len(p.Blocks) == 0 {
				t.Fatalf("%d blocks", len(p.Blocks))
			}
			if p.ResponseType != "ephemeral" || p.Text == "" || utf8.RuneCountInString(p.Text) > 200 {
				t.Fatalf("response_type %q, text %q", p.ResponseType, p.Text)
			}
			var shown int
			more := 0
			for _, bl := range p.Blocks {
				switch bl := bl.(type) {
				case *slack.SectionBlock:
					if n := utf8.RuneCountInString(bl.Text.Text); n > 3000 {
						t.Fatalf("section of %d characters", n)
					}
					if bl != p.Blocks[0] {
						shown += len(strings.Split(bl.Text.Text, "\n"))
					}
				case *slack.ContextBlock:
					m := regexp.MustCompile(`^…and (\d+) more$`).FindStringSubmatch(bl.ContextElements.Elements[0].(*slack.TextBlockObject).Text)
					if m == nil {
						t.Fatalf("context block %+v", bl)
					}
					more, _ = strconv.Atoi(m[1])
				}
			}
			if (more > 0) != tc.omitted {
				t.Fatalf("omitted %d lines; expected some: %v", more, tc.omitted)
			}
			if shown+more != len(tc.r.lines) {
				t.Fatalf("%d lines shown + %d left out != %d", shown, more, len(tc.r.lines))
			}
			if tc.r.actions != nil && p.Blocks[len(p.Blocks)-1] != tc.r.actions {
				t.Fatal("the Apply button is not the last block")
			}
		})
	}
}
