package routing

import (
	"slices"
	"testing"
)

func TestSimilarity(t *testing.T) {
	orig := "Acme leaked my personal data and now I'm getting scam calls. Talking to my lawyer. #BoycottAcme"
	tests := []struct {
		name     string
		text     string
		min, max float64
	}{
		{"identical", orig, 1, 1},
		{"retweet", "RT @priya: " + orig + " https://t.co/x1", 1, 1},
		{"case and punctuation", "ACME LEAKED my personal data, and now I'm getting scam calls!! Talking to my lawyer #boycottacme", 1, 1},
		{"one word changed", "Acme leaked my private data and now I'm getting scam calls. Talking to my lawyer. #BoycottAcme", 0.6, 0.95},
		{"different post", "Where can I buy the new headphones in Berlin before Friday?", 0, 0.05},
		{"empty", "", 0, 0},
	}
	a := NewFingerprint(orig)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Similarity(a, NewFingerprint(tt.text))
			if s < tt.min || s > tt.max {
				t.Fatalf("similarity %.2f, want in [%.2f, %.2f]", s, tt.min, tt.max)
			}
		})
	}
	if s := Similarity(NewFingerprint("boycott"), NewFingerprint("Boycott!")); s != 1 {
		t.Fatalf("short texts: %.2f", s)
	}
}

func TestTopics(t *testing.T) {
	got := Topics("@acme Your #Recall of the X2 blender is a joke. The recall letter never came, data breach too http://x.co/abc #recall", 5)
	want := []string{"#recall", "recall letter", "data breach"}
	if !slices.Equal(got, want) {
		t.Fatalf("Topics = %q, want %q", got, want)
	}
	if got := Topics("Starbucks coffee today. Starbucks again!", 5); len(got) != 1 || got[0] != "starbucks coffee" {
		t.Fatalf("a lone brand name became a topic: %q", got)
	}
	if got := Topics("#one #two #three #four", 2); len(got) != 2 {
		t.Fatalf("max not honoured: %q", got)
	}
}
