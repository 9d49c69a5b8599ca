package config

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

const examplePath = "../../config.example.yaml"

func TestExampleConfigIsValid(t *testing.T) {
	cfg, err := Load(examplePath, lookup(fakeEnv()))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Slack.AppToken.Value() != testAppToken || cfg.Slack.BotToken.Value() != testBotToken {
		t.Error("tokens do not come from ${SLACK_APP_TOKEN} and ${SLACK_BOT_TOKEN}")
	}
	if s, ok := cfg.Source("generic"); !ok || s.Secret.Value() != testWebhook {
		t.Error("source generic does not take its secret from ${WEBHOOK_SECRET}")
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
			key := prefix + typ.Field(i).Tag.Get("yaml")
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

// TestExampleConfigCommentedOut checks the parts of the example that are
// commented out: the rules example is valid, and the x and meta sources
// fail as the note above them says.
func TestExampleConfigCommentedOut(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)

	rules := uncomment(t, doc, "  # rules:", "  #     value: '(?i)")
	withRules := strings.Replace(doc, "  rules: []\n", rules, 1)
	cfg, err := Parse([]byte(withRules), lookup(fakeEnv()))
	if err != nil {
		t.Fatalf("example with its rules uncommented: %v", err)
	}
	if len(cfg.Routing.Rules) != 2 {
		t.Errorf("uncommented example has %d rules, want 2", len(cfg.Routing.Rules))
	}

	sources := uncomment(t, doc, "  # - name: x", "  #   verify_token: ${META_VERIFY_TOKEN}")
	withSources := strings.Replace(doc, "\nrouting:\n", "\n"+sources+"\nrouting:\n", 1)
	env := fakeEnv()
	for _, k := range []string{"X_CONSUMER_SECRET", "META_APP_SECRET", "META_VERIFY_TOKEN"} {
		env[k] = "secret-" + k
	}
	_, err = Parse([]byte(withSources), lookup(env))
	want := "config: sources[1].format: format \"x\" is not supported yet (supported: generic)\n" +
		"config: sources[2].format: format \"meta\" is not supported yet (supported: generic)"
	if err == nil || err.Error() != want {
		t.Errorf("example with x and meta uncommented: error\n%v\nwant\n%s", err, want)
	}
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
