package config

import "time"

// SLA is how long posts may wait for people before socialroute reminds them.
type SLA struct {
	ClaimMinutes   int     `yaml:"claim_minutes" json:"claim_minutes"`     // an unclaimed support post gets a reminder after this
	ResolveMinutes int     `yaml:"resolve_minutes" json:"resolve_minutes"` // a claimed, unresolved post reminds its owner after this
	VIPFollowers   int64   `yaml:"vip_followers" json:"vip_followers"`     // authors with at least this many followers, or verified, are VIPs
	VIPFactor      float64 `yaml:"vip_factor" json:"vip_factor"`           // a VIP's deadlines are this fraction of the normal ones
}

// Incidents is how reputation posts are grouped into incident threads.
type Incidents struct {
	WindowMinutes int      `yaml:"window_minutes" json:"window_minutes"` // an incident takes related posts until this long after its last one
	Similarity    float64  `yaml:"similarity" json:"similarity"`         // text this similar (0..1) counts as the same post (retweets, copy-paste)
	TopicPosts    int      `yaml:"topic_posts" json:"topic_posts"`       // this many posts sharing a topic word within the window form a burst
	SpikePosts    int      `yaml:"spike_posts" json:"spike_posts"`       // an incident with this many posts ...
	SpikeMinutes  int      `yaml:"spike_minutes" json:"spike_minutes"`   // ... within this many minutes raises an alert
	MentionGroup  string   `yaml:"mention_group" json:"mention_group"`   // optional user group (S…) mentioned in spike alerts
	UpdateEvery   Duration `yaml:"update_every" json:"update_every"`     // the incident message is updated at most this often
}

func defaultSLA() SLA {
	return SLA{ClaimMinutes: 30, ResolveMinutes: 240, VIPFollowers: 100000, VIPFactor: 0.5}
}

func defaultIncidents() Incidents {
	return Incidents{WindowMinutes: 120, Similarity: 0.8, TopicPosts: 5, SpikePosts: 10, SpikeMinutes: 15, UpdateEvery: Duration(10 * time.Second)}
}

func (v *validator) sla(s *SLA) {
	if s.ClaimMinutes < 1 {
		v.fail("sla.claim_minutes", "must be at least 1")
	}
	if s.ResolveMinutes < 1 {
		v.fail("sla.resolve_minutes", "must be at least 1")
	}
	if s.VIPFollowers < 0 {
		v.fail("sla.vip_followers", "must not be negative")
	}
	if s.VIPFactor <= 0 || s.VIPFactor > 1 {
		v.fail("sla.vip_factor", "%v not in (0, 1]", s.VIPFactor)
	}
}

func (v *validator) incidents(in *Incidents) {
	if in.WindowMinutes < 1 {
		v.fail("incidents.window_minutes", "must be at least 1")
	}
	if in.Similarity <= 0 || in.Similarity > 1 {
		v.fail("incidents.similarity", "%v not in (0, 1]", in.Similarity)
	}
	if in.TopicPosts < 2 {
		v.fail("incidents.topic_posts", "must be at least 2")
	}
	if in.SpikePosts < 2 {
		v.fail("incidents.spike_posts", "must be at least 2")
	}
	if in.SpikeMinutes < 1 {
		v.fail("incidents.spike_minutes", "must be at least 1")
	}
	if in.MentionGroup != "" && !groupIDRe.MatchString(in.MentionGroup) {
		v.fail("incidents.mention_group", "%s is not a user group id (S…)", v.q("incidents.mention_group", in.MentionGroup))
	}
	if in.UpdateEvery < 0 {
		v.fail("incidents.update_every", "must not be negative")
	}
}
