package config

import (
	"encoding"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// maxNodes bounds the nodes one decode visits, aliases followed included,
// so that a small document full of aliases cannot make it work for ever.
const maxNodes = 100_000

// decoder writes a YAML node tree into a Go value by reflection. yaml.v3's
// own decoder would do, but its errors name lines rather than keys, quote
// values (a misplaced ${SLACK_BOT_TOKEN} would be printed) and stop at the
// first problem; this one names the key path, describes values that came
// from the environment by their variable, and reports every problem.
type decoder struct {
	lookupEnv func(string) (string, bool)
	fromEnv   map[string]string // key path → how to name its value in errors, for values built from ${VAR}
	budget    int
	errs      []error
}

func reflectValue(cfg *Config) reflect.Value { return reflect.ValueOf(cfg).Elem() }

func (d *decoder) fail(path, format string, args ...any) {
	d.errs = append(d.errs, &fieldError{path: path, msg: fmt.Sprintf(format, args...)})
}

// decode writes n into v, which must be addressable. A null leaves v as it
// was, so an empty key keeps its default.
func (d *decoder) decode(path string, n *yaml.Node, v reflect.Value) {
	if d.budget--; d.budget < 0 {
		if d.budget == -1 {
			d.fail("", "document too large or too many aliases (more than %d values)", maxNodes)
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil || n.Alias.Kind == yaml.AliasNode {
			d.fail(path, "bad alias (line %d)", n.Line)
			return
		}
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		s, ok := d.scalar(path, n)
		if !ok {
			return
		}
		if err := u.UnmarshalText([]byte(s)); err != nil {
			d.fail(path, "%v, got %s (line %d)", err, d.describe(path, s), n.Line)
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.mapping(path, n, v)
	case reflect.Slice:
		d.sequence(path, n, v)
	case reflect.String:
		if s, ok := d.scalar(path, n); ok {
			v.SetString(s)
		}
	case reflect.Int, reflect.Int64:
		s, ok := d.scalar(path, n)
		if !ok {
			return
		}
		i, err := strconv.ParseInt(s, 0, 64)
		if err != nil || v.OverflowInt(i) {
			d.fail(path, "want a whole number, got %s (line %d)", d.describe(path, s), n.Line)
			return
		}
		v.SetInt(i)
	case reflect.Bool:
		s, ok := d.scalar(path, n)
		if !ok {
			return
		}
		switch s {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			d.fail(path, "want true or false, got %s (line %d)", d.describe(path, s), n.Line)
		}
	case reflect.Float64:
		s, ok := d.scalar(path, n)
		if !ok {
			return
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.fail(path, "want a number, got %s (line %d)", d.describe(path, s), n.Line)
			return
		}
		v.SetFloat(f)
	default:
		// Only reachable if a field of a type this decoder does not know
		// is added to Config; the tests decode every field.
		panic(fmt.Sprintf("config: cannot decode into %s", v.Type()))
	}
}

// mapping decodes a YAML mapping into the struct v, key by key.
func (d *decoder) mapping(path string, n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.fail(path, "want a mapping of keys to values, got %s (line %d)", kindName(n), n.Line)
		return
	}
	fields := yamlFields(v.Type())
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.AliasNode && k.Alias != nil {
			k = k.Alias
		}
		if k.Kind != yaml.ScalarNode {
			d.fail(path, "a key must be a plain name, got %s (line %d)", kindName(k), k.Line)
			continue
		}
		if k.ShortTag() == "!!merge" {
			d.fail(path, "merge key \"<<\" is not supported; write the keys out (line %d)", k.Line)
			continue
		}
		p := joinKey(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.fail(p, "duplicate key (line %d, first at line %d)", k.Line, first)
			continue
		}
		seen[k.Value] = k.Line
		idx, ok := fields[k.Value]
		if !ok {
			if near := closest(k.Value, fields); near != "" {
				d.fail(p, "unknown key (line %d; did you mean %s?)", k.Line, near)
			} else {
				d.fail(p, "unknown key (line %d)", k.Line)
			}
			continue
		}
		d.decode(p, val, v.Field(idx))
	}
}

// sequence decodes a YAML sequence into the slice v, replacing its contents.
func (d *decoder) sequence(path string, n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.SequenceNode {
		d.fail(path, "want a list, got %s (line %d)", kindName(n), n.Line)
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.decode(fmt.Sprintf("%s[%d]", path, i), item, s.Index(i))
	}
	v.Set(s)
}

// scalar returns n's text with ${VAR} expanded, recording where the value
// came from the environment.
func (d *decoder) scalar(path string, n *yaml.Node) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.fail(path, "want a single value, got %s (line %d)", kindName(n), n.Line)
		return "", false
	}
	s, vars, err := expand(n.Value, d.lookupEnv)
	if err != nil {
		d.fail(path, "%v", err)
		return "", false
	}
	switch {
	case len(vars) == 0:
		delete(d.fromEnv, path)
	case len(vars) == 1 && n.Value == "${"+vars[0]+"}":
		d.fromEnv[path] = "the value of ${" + vars[0] + "}"
	default:
		d.fromEnv[path] = "the value built from ${" + strings.Join(vars, "}, ${") + "}"
	}
	return s, true
}

// describe names the value s at path for an error: quoted, unless it came
// from the environment.
func (d *decoder) describe(path, s string) string {
	if how, ok := d.fromEnv[path]; ok {
		return how
	}
	return quote(s)
}

// quote quotes s for an error message, cut short if long.
func quote(s string) string {
	const max = 64
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max]) + "…"
	}
	return strconv.Quote(s)
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a single value"
	}
	return "an alias"
}

// joinKey appends key to path; keys that are not plain names are quoted so
// that every error stays on one readable line.
func joinKey(path, key string) string {
	if !plainKey(key) {
		key = quote(key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func plainKey(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// yamlFields maps t's YAML keys to field indexes.
func yamlFields(t reflect.Type) map[string]int {
	m := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			m[name] = i
		}
	}
	return m
}

// closest returns the known key nearest to k by edit distance, if it is
// near enough to be a typo, and "" otherwise.
func closest(k string, known map[string]int) string {
	if len(k) > 64 {
		return ""
	}
	best, bestDist := "", 3 // suggest only up to two edits away
	for name := range known {
		if dist := editDistance(strings.ToLower(k), name); dist < bestDist || dist == bestDist && name < best {
			best, bestDist = name, dist
		}
	}
	if bestDist > 2 {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
