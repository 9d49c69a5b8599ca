package bot

import (
	"testing"
	"time"
)

func TestPacerKeepsChannelRate(t *testing.T) {
	p := newPacer(1, 3)
	t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	for i := range 3 {
		if ok, _ := p.take("C1", t0); !ok {
			t.Fatalf("burst message %d refused", i+1)
		}
	}
	ok, retry := p.take("C1", t0)
	if ok || !retry.Equal(t0.Add(time.Second)) {
		t.Fatalf("fourth message at once: ok=%v retry=%v, want a wait of 1s", ok, retry)
	}
	if ok, _ := p.take("C2", t0); !ok {
		t.Fatal("another channel is held back by C1's rate")
	}
	if ok, _ := p.take("C1", t0.Add(time.Second)); !ok {
		t.Fatal("refused after the wait")
	}

	p.pause("C2", t0.Add(5*time.Second))
	if ok, retry := p.take("C2", t0.Add(time.Second)); ok || !retry.Equal(t0.Add(5*time.Second)) {
		t.Fatalf("paused channel: ok=%v retry=%v", ok, retry)
	}
	if ok, _ := p.take("C2", t0.Add(5*time.Second)); !ok {
		t.Fatal("refused after the pause")
	}

	unpaced := newPacer(0, 1)
	for range 100 {
		if ok, _ := unpaced.take("C1", t0); !ok {
			t.Fatal("rate 0 paces")
		}
	}
}
