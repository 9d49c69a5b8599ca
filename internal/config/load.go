package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ErrInvalid is matched, through errors.Is, by every error that says the
// configuration itself is wrong (as opposed to a file that cannot be read).
var ErrInvalid = errors.New("invalid config")

// fieldError is one problem with the configuration: "config: <path>: <msg>".
type fieldError struct {
	path string // key path such as "routing.departments[1].channel"; empty for the whole document
	msg  string
}

func (e *fieldError) Error() string {
	if e.path == "" {
		return "config: " + e.msg
	}
	return "config: " + e.path + ": " + e.msg
}

func (e *fieldError) Is(target error) bool { return target == ErrInvalid }

// Default returns the configuration used for every key a file leaves out.
// Tokens, sources, the triage channel, departments and etcd endpoints have
// no default.
func Default() Config {
	return Config{
		Slack: Slack{
			APIURL:          "https://slack.com/api/",
			Command:         "/route",
			ChannelRate:     1,
			ChannelBurst:    5,
			DigestThreshold: 20,
			DigestSize:      10,
		},
		HTTP: HTTP{
			Listen:          ":8080",
			MaxBodyBytes:    1 << 20,
			MaxBodyMemory:   64 << 20,
			ShutdownTimeout: Duration(10 * time.Second),
		},
		Store: Store{
			Backend:       "bbolt",
			Path:          "./socialroute.db",
			RetentionDays: 90,
			Etcd: Etcd{
				Prefix:         "/socialroute/",
				DialTimeout:    Duration(5 * time.Second),
				RequestTimeout: Duration(5 * time.Second),
				LeaseTTL:       Duration(10 * time.Second),
			},
		},
		Routing: Routing{
			MinConfidence: 0.55,
		},
		SLA:       defaultSLA(),
		Incidents: defaultIncidents(),
		Log: Log{
			Level:  "info",
			Format: "json",
		},
	}
}

// Load reads the YAML file at path and parses it like Parse. An error
// reading the file does not match ErrInvalid.
func Load(path string, lookupEnv func(string) (string, bool)) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(data, lookupEnv)
}

// Parse builds a configuration from one YAML document: defaults, then the
// document with ${VAR} expanded through lookupEnv (os.LookupEnv when nil),
// then Validate. The returned error lists every problem found by the first
// step that failed, one "config: <key path>: <why>" line each.
func Parse(data []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	root, err := parseDocument(data)
	if err != nil {
		return nil, err
	}
	cfg := Default()
	d := decoder{lookupEnv: lookupEnv, fromEnv: map[string]string{}, budget: maxNodes}
	if root != nil {
		d.decode("", root, reflectValue(&cfg))
		if len(d.errs) > 0 {
			return nil, errors.Join(d.errs...)
		}
	}
	if err := cfg.validate(d.fromEnv); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// parseDocument returns the root node of data's single YAML document, or
// nil when data holds no document at all.
func parseDocument(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, yamlError(err)
	}
	for {
		var next yaml.Node
		err := dec.Decode(&next)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, yamlError(err)
		}
		if !emptyDocument(&next) {
			return nil, &fieldError{msg: fmt.Sprintf("line %d: a second YAML document starts here; want exactly one", next.Line)}
		}
	}
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil, nil
		}
		return doc.Content[0], nil
	}
	return &doc, nil
}

// emptyDocument reports whether n is a document with nothing in it, as a
// trailing "---" makes.
func emptyDocument(n *yaml.Node) bool {
	if n.Kind != yaml.DocumentNode || len(n.Content) != 1 {
		return false
	}
	c := n.Content[0]
	return c.Kind == yaml.ScalarNode && c.Value == "" && c.ShortTag() == "!!null"
}

// yamlError turns a YAML syntax error into "config: line N: …".
func yamlError(err error) error {
	return &fieldError{msg: strings.TrimPrefix(err.Error(), "yaml: ")}
}

// Source returns the source called name.
func (c *Config) Source(name string) (Source, bool) {
	for _, s := range c.Sources {
		if s.Name == name {
			return s, true
		}
	}
	return Source{}, false
}
