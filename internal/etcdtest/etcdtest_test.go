package etcdtest

import (
	"context"
	"testing"
	"time"
)

func TestClusterSurvivesOneMember(t *testing.T) {
	c := Start(t, 3)
	cli := c.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := cli.Put(ctx, "k", "1"); err != nil {
		t.Fatal(err)
	}
	leader := c.Leader()
	if leader < 0 {
		t.Fatal("no raft leader")
	}
	c.Stop(leader)
	if c.Running(leader) {
		t.Fatal("stopped member still running")
	}
	// The other two elect a leader and keep serving.
	if err := Healthy(ctx, cli); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(ctx, "k", "2"); err != nil {
		t.Fatal(err)
	}
	resp, err := cli.Get(ctx, "k")
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "2" {
		t.Fatalf("get after a member stopped: %+v, %v", resp, err)
	}
	if l := c.Leader(); l < 0 || l == leader {
		t.Errorf("raft leader after the stop: %d", l)
	}
}
