package bot

import (
	"slices"
	"testing"

	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

func TestPlanDigests(t *testing.T) {
	var due []store.Pending
	var ds []routing.Decision
	add := func(d routing.Decision) {
		due = append(due, store.Pending{})
		ds = append(ds, d)
	}
	promo := routing.Decision{Class: routing.Promotional, Channel: "CMKT"}
	for range 7 {
		add(promo)
	}
	add(routing.Decision{Class: routing.Support, Channel: "CMKT"}) // never merged
	add(routing.Decision{Class: routing.Promotional, Channel: "CMKT", Priority: "high"})
	add(routing.Decision{Class: routing.Promotional, Channel: "CMKT", Reasons: []routing.Reason{{Kind: reasonPerson}}}) // moved by a person
	add(promo)
	for range 3 {
		add(routing.Decision{Class: routing.Promotional, Channel: "COTHER"}) // under the threshold
	}

	got := planDigests(due, ds, 5, 3)
	want := map[int][]int{0: {0, 1, 2}, 3: {3, 4, 5}, 6: {6, 10}}
	if len(got) != len(want) {
		t.Fatalf("groups %v, want %v", got, want)
	}
	for first, idx := range want {
		if !slices.Equal(got[first], idx) {
			t.Fatalf("groups %v, want %v", got, want)
		}
	}
	if g := planDigests(due, ds, 0, 3); g != nil {
		t.Fatalf("threshold 0 merged: %v", g)
	}
}
