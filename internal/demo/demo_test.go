package demo

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestDemoRoutesEverySample(t *testing.T) {
	var out, logs bytes.Buffer
	if err := Run(context.Background(), &out, Options{Log: &logs}); err != nil {
		t.Fatalf("demo: %v\n%s\nlogs:\n%s", err, out.String(), logs.String())
	}
	for _, want := range []string{
		"#support (C0SUPPORT) — 3 message(s)",
		"#pr (C0PR) — 3 message(s)",
		"Incident: 3 posts",
		"one click won: the message now says \"Claimed by <@U0AGENT",
		"was told privately: \"Already claimed by <@U0AGENT",
		"#marketing (C0MARKETING) — 3 message(s)",
		"#triage (C0TRIAGE) — 1 message(s)",
		"200 duplicate",
		"/route add pr keyword recall priority high",
		`added r1: pr ← keyword "recall" · priority high`,
		"This would go to pr",
		"401 refused",
		"All 12 posts landed where they belong, each exactly once.",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}
