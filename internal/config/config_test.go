package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Values the fake environment hands out. The token and secret values are
// long and distinctive so that a test can look for them in any output.
const (
	testAppToken = "xapp-1-A0TEST-1111-appsecretappsecret"
	testBotToken = "xoxb-2222-3333-botsecretbotsecret"
	testWebhook  = "whsec-0123456789abcdef-webhook"
	testEtcdPass = "etcdpass-5f3e9a1c-etcdpass"
)

// fakeEnv is the environment every test parses with.
func fakeEnv() map[string]string {
	return map[string]string{
		"SLACK_APP_TOKEN":        testAppToken,
		"SLACK_BOT_TOKEN":        testBotToken,
		"WEBHOOK_SECRET":         testWebhook,
		"ETCD_PASSWORD":          testEtcdPass,
		"BOT_TOKEN_WITH_NEWLINE": testBotToken + "\n",
		"EMPTY":                  "",
	}
}

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

// minimal is the smallest valid configuration: only what has no default.
const minimal = `
slack:
  app_token: ${SLACK_APP_TOKEN}
  bot_token: ${SLACK_BOT_TOKEN}
sources:
  - {name: generic, format: generic, secret: "${WEBHOOK_SECRET}"}
routing:
  triage_channel: C0TRIAGE
  departments:
    - {name: support, channel: C0SUPPORT, classes: [support]}
    - {name: pr, channel: C0PR, classes: [reputation]}
    - {name: marketing, channel: C0MARKETING, classes: [promotional]}
`

// minimalConfig is what minimal parses to.
func minimalConfig() Config {
	c := Default()
	c.Slack.AppToken = testAppToken
	c.Slack.BotToken = testBotToken
	c.Sources = []Source{{Name: "generic", Format: "generic", Secret: testWebhook}}
	c.Routing.TriageChannel = "C0TRIAGE"
	c.Routing.Departments = []Department{
		{Name: "support", Channel: "C0SUPPORT", Classes: []string{"support"}},
		{Name: "pr", Channel: "C0PR", Classes: []string{"reputation"}},
		{Name: "marketing", Channel: "C0MARKETING", Classes: []string{"promotional"}},
	}
	return c
}

func TestDefault(t *testing.T) {
	want := Config{
		Slack: Slack{APIURL: "https://slack.com/api/", Command: "/route", ChannelRate: 1, ChannelBurst: 5,
			DigestThreshold: 20, DigestSize: 10},
		HTTP: HTTP{Listen: ":8080", MaxBodyBytes: 1048576, MaxBodyMemory: 64 << 20, ShutdownTimeout: Duration(10 * time.Second)},
		Store: Store{Backend: "bbolt", Path: "./socialroute.db", RetentionDays: 90,
			Etcd: Etcd{Prefix: "/socialroute/", DialTimeout: Duration(5 * time.Second),
				RequestTimeout: Duration(5 * time.Second), LeaseTTL: Duration(10 * time.Second)}},
		Routing: Routing{MinConfidence: 0.55},
		SLA:     SLA{ClaimMinutes: 30, ResolveMinutes: 240, VIPFollowers: 100000, VIPFactor: 0.5},
		Incidents: Incidents{WindowMinutes: 120, Similarity: 0.8, TopicPosts: 5, SpikePosts: 10, SpikeMinutes: 15,
			UpdateEvery: Duration(10 * time.Second)},
		Log: Log{Level: "info", Format: "json"},
	}
	if got := Default(); !reflect.DeepEqual(got, want) {
		t.Errorf("Default() = %+v, want %+v", got, want)
	}
}

func TestParseMinimalGetsDefaults(t *testing.T) {
	got, err := Parse([]byte(minimal), lookup(fakeEnv()))
	if err != nil {
		t.Fatal(err)
	}
	if want := minimalConfig(); !reflect.DeepEqual(*got, want) {
		t.Errorf("Parse(minimal) =\n%#v\nwant\n%#v", *got, want)
	}
}

// TestParseEveryKey sets every key away from its default, so that a field
// whose tag or decoding is wrong shows up.
func TestParseEveryKey(t *testing.T) {
	const doc = `
slack:
  app_token: xapp-literal
  bot_token: xoxb-literal
  api_url: http://127.0.0.1:9999/api
  admins: [U0123ADMIN, W0ENTERPRISE]
  command: /socialroute
  channel_rate: 0.5
  channel_burst: 2
  digest_threshold: 0
  digest_size: 5
  admin_group: S0ADMINS
http:
  listen: 127.0.0.1:0
  max_body_bytes: 0x10000
  shutdown_timeout: 1m30s
store:
  backend: etcd
  path: /var/lib/socialroute/db
  retention_days: 7
  etcd:
    endpoints: [https://etcd-1:2379, https://10.0.0.2:2379]
    prefix: /acme/socialroute/
    username: socialroute
    password: etcd-s3cret
    dial_timeout: 2s
    request_timeout: 3s
    lease_ttl: 15s
    replica: sr-1.eu
    tls:
      ca_file: /etc/etcd/ca.pem
      cert_file: /etc/etcd/client.pem
      key_file: /etc/etcd/client-key.pem
      server_name: etcd.internal
sources:
  - name: generic
    format: generic
    secret: s3cret
  - name: x
    format: x
    secret: x-s3cret
  - name: meta
    format: meta
    secret: meta-s3cret
    verify_token: v3rify
routing:
  min_confidence: 0
  triage_channel: G0PRIVATE
  departments:
    - name: care
      channel: C0CARE
      classes: [support, promotional]
    - name: pr
      channel: C0PR
      classes: [reputation]
  rules:
    - {department: pr, match: phrase, value: class action, priority: high}
    - {department: support, match: regex, value: '(?i)order\s+\d+', priority: normal}
    - {department: care, match: author, value: "@bigcustomer"}
    - {department: reputation, match: platform, value: review}
    - {department: pr, match: keyword, value: recall, incident: true}
    - {department: pr, match: followers, value: 100k}
    - {department: pr, match: verified}
sla:
  claim_minutes: 10
  resolve_minutes: 60
  vip_followers: 5000
  vip_factor: 0.25
incidents:
  window_minutes: 30
  similarity: 0.9
  topic_posts: 3
  spike_posts: 4
  spike_minutes: 5
  mention_group: S0PRONCALL
  update_every: 2s
log:
  level: debug
  format: console
`
	got, err := Parse([]byte(doc), lookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Slack: Slack{
			AppToken:     "xapp-literal",
			BotToken:     "xoxb-literal",
			APIURL:       "http://127.0.0.1:9999/api/",
			Admins:       []string{"U0123ADMIN", "W0ENTERPRISE"},
			Command:      "/socialroute",
			ChannelRate:  0.5,
			ChannelBurst: 2,
			DigestSize:   5,
			AdminGroup:   "S0ADMINS",
		},
		HTTP: HTTP{Listen: "127.0.0.1:0", MaxBodyBytes: 65536, MaxBodyMemory: 64 << 20, ShutdownTimeout: Duration(90 * time.Second)},
		Store: Store{
			Backend:       "etcd",
			Path:          "/var/lib/socialroute/db",
			RetentionDays: 7,
			Etcd: Etcd{
				Endpoints:      []string{"https://etcd-1:2379", "https://10.0.0.2:2379"},
				Prefix:         "/acme/socialroute/",
				Username:       "socialroute",
				Password:       "etcd-s3cret",
				DialTimeout:    Duration(2 * time.Second),
				RequestTimeout: Duration(3 * time.Second),
				LeaseTTL:       Duration(15 * time.Second),
				Replica:        "sr-1.eu",
				TLS: EtcdTLS{CAFile: "/etc/etcd/ca.pem", CertFile: "/etc/etcd/client.pem",
					KeyFile: "/etc/etcd/client-key.pem", ServerName: "etcd.internal"},
			},
		},
		Sources: []Source{
			{Name: "generic", Format: "generic", Secret: "s3cret"},
			{Name: "x", Format: "x", Secret: "x-s3cret"},
			{Name: "meta", Format: "meta", Secret: "meta-s3cret", VerifyToken: "v3rify"},
		},
		Routing: Routing{
			MinConfidence: 0,
			TriageChannel: "G0PRIVATE",
			Departments: []Department{
				{Name: "care", Channel: "C0CARE", Classes: []string{"support", "promotional"}},
				{Name: "pr", Channel: "C0PR", Classes: []string{"reputation"}},
			},
			Rules: []Rule{
				{Department: "pr", Match: "phrase", Value: "class action", Priority: "high"},
				{Department: "support", Match: "regex", Value: `(?i)order\s+\d+`, Priority: "normal"},
				{Department: "care", Match: "author", Value: "@bigcustomer"},
				{Department: "reputation", Match: "platform", Value: "review"},
				{Department: "pr", Match: "keyword", Value: "recall", Incident: true},
				{Department: "pr", Match: "followers", Value: "100k"},
				{Department: "pr", Match: "verified"},
			},
		},
		SLA: SLA{ClaimMinutes: 10, ResolveMinutes: 60, VIPFollowers: 5000, VIPFactor: 0.25},
		Incidents: Incidents{WindowMinutes: 30, Similarity: 0.9, TopicPosts: 3, SpikePosts: 4, SpikeMinutes: 5,
			MentionGroup: "S0PRONCALL", UpdateEvery: Duration(2 * time.Second)},
		Log: Log{Level: "debug", Format: "console"},
	}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("Parse =\n%#v\nwant\n%#v", *got, want)
	}
}

func TestParseNullKeepsDefault(t *testing.T) {
	doc := minimal + "http:\n  listen:\n  max_body_bytes: ~\nstore:\nlog: {level: null}\n"
	got, err := Parse([]byte(doc), lookup(fakeEnv()))
	if err != nil {
		t.Fatal(err)
	}
	if want := minimalConfig(); !reflect.DeepEqual(*got, want) {
		t.Errorf("Parse =\n%#v\nwant\n%#v", *got, want)
	}
}

func TestParseAPIURLGetsSlash(t *testing.T) {
	for _, in := range []string{"http://localhost:3000/api", "http://localhost:3000/api/"} {
		doc := strings.Replace(minimal, "slack:\n", "slack:\n  api_url: "+in+"\n", 1)
		cfg, err := Parse([]byte(doc), lookup(fakeEnv()))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Slack.APIURL != "http://localhost:3000/api/" {
			t.Errorf("api_url %s: got %q", in, cfg.Slack.APIURL)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(minimal), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, lookup(fakeEnv()))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Slack.BotToken.Value() != testBotToken {
		t.Errorf("bot token not loaded")
	}

	_, err = Load(filepath.Join(dir, "missing.yaml"), lookup(fakeEnv()))
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrInvalid) {
		t.Errorf("Load(missing) = %v; want an fs.ErrNotExist that is not ErrInvalid", err)
	}
	if err == nil || !strings.HasPrefix(err.Error(), "config: ") {
		t.Errorf("Load(missing) = %v; want a \"config: \" prefix", err)
	}
}

func TestParseErrorsAreErrInvalid(t *testing.T) {
	for _, doc := range []string{"", "slack: [", "nope: 1", minimal + "log: {level: loud}\n"} {
		_, err := Parse([]byte(doc), lookup(fakeEnv()))
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) = %v; want ErrInvalid", doc, err)
		}
	}
}

func TestSource(t *testing.T) {
	cfg := minimalConfig()
	cfg.Sources = append(cfg.Sources, Source{Name: "other", Format: "generic", Secret: "x"})
	if s, ok := cfg.Source("other"); !ok || s.Name != "other" || s.Secret.Value() != "x" {
		t.Errorf("Source(other) = %v, %v", s, ok)
	}
	if _, ok := cfg.Source("nope"); ok {
		t.Error("Source(nope) found")
	}
}

// TestValidateByHand covers Validate on a Config built in code rather than
// parsed, as tests in other packages build them.
func TestValidateByHand(t *testing.T) {
	cfg := minimalConfig()
	cfg.Slack.APIURL = "http://127.0.0.1:1234/api"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Slack.APIURL != "http://127.0.0.1:1234/api/" {
		t.Errorf("APIURL = %q; want a trailing slash added", cfg.Slack.APIURL)
	}
	cfg.Routing.MinConfidence = -0.1
	cfg.Routing.Departments[1].Channel = ""
	err := cfg.Validate()
	want := "config: routing.min_confidence: must be between 0 and 1, got -0.1\n" +
		"config: routing.departments[1].channel: empty"
	if err == nil || err.Error() != want {
		t.Errorf("Validate() = %v\nwant %s", err, want)
	}
}
