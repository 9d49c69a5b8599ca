package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/socialroute/socialroute/internal/app"
	"github.com/socialroute/socialroute/internal/config"
	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

// rulesFile is the YAML of `rules export` and `rules import`: the
// config's routing.rules schema.
type rulesFile struct {
	Rules []ruleYAML `yaml:"rules"`
}

type ruleYAML struct {
	Department string `yaml:"department"`
	Match      string `yaml:"match"`
	Value      string `yaml:"value,omitempty"`
	Priority   string `yaml:"priority,omitempty"`
	Incident   bool   `yaml:"incident,omitempty"`
}

var goTypeRe = regexp.MustCompile(` in type [\w.\[\]]+`)

const rulesHeader = "# socialroute routing rules, in the order they apply (the schema of routing.rules in the config).\n"

func runRules(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const synopsis = "export [-config FILE] [-db FILE] | import [-config FILE] [-db FILE] FILE"
	if len(args) == 0 {
		fmt.Fprintf(stderr, "Usage: socialroute rules %s\n", synopsis)
		return fmt.Errorf("%w: rules wants export or import", errUsage)
	}
	switch args[0] {
	case "export":
		return rulesExport(args[1:], stdout, stderr)
	case "import":
		return rulesImport(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprintf(stderr, "Usage: socialroute rules %s\n\n"+
			"export prints the routing rules stored in the database as YAML; import replaces them\n"+
			"with the rules of FILE. With bbolt both work on the database file while socialroute is stopped;\n"+
			"with store.backend etcd they work while it runs, and every replica follows an import at once.\n", synopsis)
		return flag.ErrHelp
	}
	return fmt.Errorf("%w: rules %q: want export or import", errUsage, args[0])
}

// rulesTarget is the database a rules command works on, and the config if
// one was read (to check departments and find the seed).
type rulesTarget struct {
	db         string
	explicitDB string // -db as given
	cfg        *config.Config
}

func rulesFlags(name, synopsis string, args []string, stderr io.Writer) (rulesTarget, []string, error) {
	fs := newFlags("rules "+name, synopsis, stderr)
	cfgPath := fs.String("config", "", "config file, for store.path and the departments (default $SOCIALROUTE_CONFIG, else ./config.yaml)")
	db := fs.String("db", "", "database file; without it, store.path of the config")
	if err := parseFlags(fs, args); err != nil {
		return rulesTarget{}, nil, err
	}
	t := rulesTarget{db: *db, explicitDB: *db}
	if *db == "" || *cfgPath != "" {
		cfg, err := loadConfig(cfgPath)
		if err != nil {
			return rulesTarget{}, nil, err
		}
		t.cfg = cfg
		if t.db == "" {
			t.db = cfg.Store.Path
		}
	}
	return t, fs.Args(), nil
}

// etcd reports whether the rules live in the etcd store of the config
// rather than in a bbolt file.
func (t rulesTarget) etcd() bool {
	return t.cfg != nil && t.cfg.Store.Backend == "etcd" && t.explicitDB == ""
}

// open opens the database, and says clearly when a running socialroute
// holds it. Only import may create it: rules can be put in place before
// the first start.
func (t rulesTarget) open(what string, create bool) (*store.Store, error) {
	if t.etcd() {
		// etcd is shared by design: the running replicas take the change
		// as soon as it commits.
		return app.OpenStore(t.cfg.Store, store.Options{})
	}
	if _, err := os.Stat(t.db); err != nil && !create {
		return nil, fmt.Errorf("%s: no database at %s: %w", what, t.db, err)
	}
	st, err := store.Open(t.db, store.Options{Timeout: 500 * time.Millisecond})
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("%s: the database %s is in use by a running socialroute; stop it first (rules export and import work on the database file while the daemon is stopped)", what, t.db)
	}
	return st, err
}

func rulesExport(args []string, stdout, stderr io.Writer) error {
	t, rest, err := rulesFlags("export", "[-config FILE] [-db FILE]", args, stderr)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: rules export takes no arguments, got %q", errUsage, rest)
	}
	st, err := t.open("rules export", false)
	if err != nil {
		return err
	}
	defer st.Close()
	has, err := st.HasRules()
	if err != nil {
		return err
	}
	var rules []routing.Rule
	switch {
	case has:
		rs, err := st.Rules()
		if err != nil {
			return err
		}
		rules = rs.Rules
	case t.cfg != nil:
		// Nothing stored yet: the next start seeds the config's rules.
		if rules, err = app.SeedRules(t.cfg.Routing.Rules); err != nil {
			return err
		}
		fmt.Fprintln(stderr, "socialroute: no rules stored yet; these are the config's seed rules")
	}
	out, err := encodeRules(rules)
	if err != nil {
		return err
	}
	_, err = stdout.Write(out)
	return err
}

func encodeRules(rules []routing.Rule) ([]byte, error) {
	doc := rulesFile{Rules: make([]ruleYAML, 0, len(rules))}
	for _, r := range rules {
		doc.Rules = append(doc.Rules, ruleYAML{
			Department: r.Department, Match: string(r.Match), Value: r.Value, Priority: r.Priority, Incident: r.Incident,
		})
	}
	var buf bytes.Buffer
	buf.WriteString(rulesHeader)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode rules: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode rules: %w", err)
	}
	return buf.Bytes(), nil
}

func rulesImport(args []string, stdout, stderr io.Writer) error {
	t, rest, err := rulesFlags("import", "[-config FILE] [-db FILE] FILE", args, stderr)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("%w: rules import wants one file, got %d arguments", errUsage, len(rest))
	}
	file := rest[0]
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("rules import: %w", err)
	}
	rules, err := decodeRules(data, t.cfg)
	if err != nil {
		return fmt.Errorf("%w: rules import %s: %v", errUsage, file, err)
	}
	if t.cfg == nil {
		fmt.Fprintln(stderr, "socialroute: no config read, so the rules' departments were not checked")
	}
	st, err := t.open("rules import", true)
	if err != nil {
		return err
	}
	defer st.Close()
	rs, err := st.ChangeRules("cli", "socialroute rules import "+file, func(rs *store.RuleSet) (string, error) {
		before := len(rs.Rules)
		rs.Rules = rules
		return fmt.Sprintf("imported %s from %s, replacing %d", nRules(len(rules)), file, before), nil
	})
	if err != nil {
		return err
	}
	if err := st.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	if t.etcd() {
		fmt.Fprintf(stdout, "imported %s into etcd under %s; running replicas use them at once\n", nRules(len(rs.Rules)), t.cfg.Store.Etcd.Prefix)
		return nil
	}
	fmt.Fprintf(stdout, "imported %s into %s; socialroute uses them from its next start\n", nRules(len(rs.Rules)), t.db)
	return nil
}

func nRules(n int) string {
	if n == 1 {
		return "1 rule"
	}
	return fmt.Sprintf("%d rules", n)
}

// decodeRules reads a rules file strictly and checks every rule; with a
// config, departments must be configured ones or classes.
func decodeRules(data []byte, cfg *config.Config) ([]routing.Rule, error) {
	var doc rulesFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		// yaml.v3 names Go types ("field x not found in type main.ruleYAML").
		return nil, errors.New(goTypeRe.ReplaceAllString(err.Error(), ""))
	}
	var names []string
	if cfg != nil {
		for _, d := range cfg.Routing.Departments {
			names = append(names, d.Name)
		}
	}
	rules := make([]routing.Rule, 0, len(doc.Rules))
	var errs []error
	for i, y := range doc.Rules {
		r, err := routing.Rule{Department: y.Department, Match: routing.MatchKind(y.Match), Value: y.Value,
			Priority: y.Priority, Incident: y.Incident}.Normalize()
		var re *routing.RuleError
		switch {
		case errors.As(err, &re):
			errs = append(errs, fmt.Errorf("rules[%d].%s: %s", i, re.Field, re.Problem))
		case err != nil:
			errs = append(errs, fmt.Errorf("rules[%d]: %v", i, err))
		case r.Department == "":
			errs = append(errs, fmt.Errorf("rules[%d].department: empty", i))
		case cfg != nil && !slices.Contains(names, r.Department) && !routing.Class(r.Department).Valid():
			errs = append(errs, fmt.Errorf("rules[%d].department: %q is not a configured department or a class", i, r.Department))
		}
		rules = append(rules, r)
	}
	return rules, errors.Join(errs...)
}
