package config

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

const examplePath = "../../config.example.yaml"

// exampleEnv is fakeEnv plus the variables the example's x and meta
// sources read.
func exampleEnv() map[string]string {
	env := fakeEnv()
	env["X_CONSUMER_SECRET"] = "x-consumer-secret-from-env"
	env["META_APP_SECRET"] = "meta-app-secret-from-env"
	env["META_VERIFY_TOKEN"] = "meta-verify-token-from-env"
	return env
}

func TestExampleConfigIsValid(t *testing.T) {
	env := exampleEnv()
	cfg, err := Load(examplePath, lookup(env))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Slack.AppToken.Value() != testAppToken || cfg.Slack.BotToken.Value() != testBotToken {
		t.Error("tokens do not come from ${SLACK_APP_TOKEN} and ${SLACK_BOT_TOKEN}")
	}
	// DESIGN.md's sources, each secret from its own variable.
	want := []Source{
		{Name: "generic", Format: "generic", Secret: testWebhook},
		{Name: "x", Format: "x", Secret: Secret(env["X_CONSUMER_SECRET"])},
		{Name: "meta", Format: "meta", Secret: Secret(env["META_APP_SECRET"]), VerifyToken: Secret(env["META_VERIFY_TOKEN"])},
	}
	if !reflect.DeepEqual(cfg.Sources, want) {
		t.Errorf("example sources\n%#v\nwant\n%#v", describeSources(cfg.Sources), describeSources(want))
	}

	// The example writes out the defaults, and says so: keep them true.
	def := Default()
	for name, pair := range map[string][2]any{
		"slack.api_url":          {cfg.Slack.APIURL, def.Slack.APIURL},
		"slack.command":          {cfg.Slack.Command, def.Slack.Command},
		"http":                   {cfg.HTTP, def.HTTP},
		"store":                  {cfg.Store, def.Store},
		"routing.min_confidence": {cfg.Routing.MinConfidence, def.Routing.MinConfidence},
		"log":                    {cfg.Log, def.Log},
	} {
		if !reflect.DeepEqual(pair[0], pair[1]) {
			t.Errorf("example %s = %+v, but the default is %+v", name, pair[0], pair[1])
		}
	}
}

// TestExampleConfigDocumentsEveryKey fails when a key is added to Config
// without being written (perhaps commented out) in the example.
func TestExampleConfigDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	var walk func(prefix string, typ reflect.Type) []string
	walk = func(prefix string, typ reflect.Type) []string {
		var keys []string
		for i := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("yaml"), ",")
			key := prefix + name
			keys = append(keys, key)
			ft := typ.Field(i).Type
			if ft.Kind() == reflect.Slice {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				keys = append(keys, walk(key+".", ft)...)
			}
		}
		return keys
	}
	for _, key := range walk("", reflect.TypeOf(Config{})) {
		leaf := key[strings.LastIndex(key, ".")+1:]
		// The key as a block mapping key, possibly commented out or as the
		// first key of a list item.
		re := regexp.MustCompile(`(?m)^[ #-]*` + regexp.QuoteMeta(leaf) + `:`)
		if !re.Match(data) {
			t.Errorf("config.example.yaml does not document %s", key)
		}
	}
}

// TestExampleConfigCommentedOut checks the part of the example that is
// commented out: the rules example is valid.
func TestExampleConfigCommentedOut(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)

	rules := uncomment(t, doc, "  # rules:", "  #     value: '(?i)")
	withRules := strings.Replace(doc, "  rules: []\n", rules, 1)
	cfg, err := Parse([]byte(withRules), lookup(exampleEnv()))
	if err != nil {
		t.Fatalf("example with its rules uncommented: %v", err)
	}
	if len(cfg.Routing.Rules) != 2 {
		t.Errorf("uncommented example has %d rules, want 2", len(cfg.Routing.Rules))
	}
}

// TestExampleConfigPlatformSources checks what the example says about its
// x and meta sources: without their variables it does not load, naming
// each one, and with the two sources deleted it needs none of them.
func TestExampleConfigPlatformSources(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)

	_, err = Parse(data, lookup(fakeEnv()))
	want := "config: sources[1].secret: environment variable X_CONSUMER_SECRET is not set\n" +
		"config: sources[2].secret: environment variable META_APP_SECRET is not set\n" +
		"config: sources[2].verify_token: environment variable META_VERIFY_TOKEN is not set"
	if err == nil || err.Error() != want {
		t.Errorf("example without the platform variables: error\n%v\nwant\n%s", err, want)
	}

	start := strings.Index(doc, "  - name: x ")
	end := strings.Index(doc, "\nrouting:\n")
	if start < 0 || end < start {
		t.Fatal("config.example.yaml has no x source followed by routing:")
	}
	cfg, err := Parse([]byte(doc[:start]+doc[end+1:]), lookup(fakeEnv()))
	if err != nil {
		t.Fatalf("example with the x and meta sources deleted: %v", err)
	}
	if len(cfg.Sources) != 1 || cfg.Sources[0].Format != "generic" {
		t.Errorf("sources left: %v", describeSources(cfg.Sources))
	}
}

// describeSources shows sources with their secrets' values (fake ones in
// these tests), which %v would redact.
func describeSources(sources []Source) []string {
	var out []string
	for _, s := range sources {
		out = append(out, s.Name+"/"+s.Format+"/secret="+s.Secret.Value()+"/verify_token="+s.VerifyToken.Value())
	}
	return out
}

// uncomment returns the lines of doc from the one starting with first to
// the one starting with last, with one "# " removed from each.
func uncomment(t *testing.T, doc, first, last string) string {
	t.Helper()
	lines := strings.SplitAfter(doc, "\n")
	var out strings.Builder
	in := false
	for _, line := range lines {
		if strings.HasPrefix(line, first) {
			in = true
		}
		if !in {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		rest := strings.TrimPrefix(strings.TrimPrefix(line[indent:], "#"), " ")
		out.WriteString(line[:indent] + rest)
		if strings.HasPrefix(line, last) {
			return out.String()
		}
	}
	t.Fatalf("config.example.yaml has no commented block from %q to %q", first, last)
	return ""
}

// TestExampleConfigEtcd checks the etcd part of the example: with backend
// etcd and its commented-out keys uncommented, it is valid and reads what
// the comments say.
func TestExampleConfigEtcd(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	for _, edit := range [][2]string{
		{"  backend: bbolt\n", "  backend: etcd\n"},
		{"    # endpoints:", "    endpoints:"},
		{"    # username:", "    username:"},
		{"    # password:", "    password:"},
		{"    # replica:", "    replica:"},
	} {
		if !strings.Contains(doc, edit[0]) {
			t.Fatalf("config.example.yaml has no %q", edit[0])
		}
		doc = strings.Replace(doc, edit[0], edit[1], 1)
	}
	start := strings.Index(doc, "    # tls:\n")
	last := strings.Index(doc, "    #   server_name:")
	if start < 0 || last < start {
		t.Fatal("config.example.yaml has no commented tls block ending in server_name")
	}
	end := last + strings.IndexByte(doc[last:], '\n') + 1
	doc = doc[:start] + uncomment(t, doc, "    # tls:", "    #   server_name:") + doc[end:]

	cfg, err := Parse([]byte(doc), lookup(exampleEnv()))
	if err != nil {
		t.Fatalf("example with backend etcd and its etcd keys uncommented: %v", err)
	}
	e := cfg.Store.Etcd
	if e.Password.Value() != testEtcdPass {
		t.Error("store.etcd.password does not come from ${ETCD_PASSWORD}")
	}
	e.Password = ""
	want := Default().Store.Etcd
	want.Endpoints = []string{"https://etcd-1:2379", "https://etcd-2:2379", "https://etcd-3:2379"}
	want.Username = "socialroute"
	want.Replica = "socialroute-1"
	want.TLS = EtcdTLS{
		CAFile:     "/etc/socialroute/etcd-ca.pem",
		CertFile:   "/etc/socialroute/etcd-client.pem",
		KeyFile:    "/etc/socialroute/etcd-client-key.pem",
		ServerName: "etcd.internal",
	}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("example store.etcd =\n%+v\nwant\n%+v", e, want)
	}
}
