package config

import (
	"errors"
	"fmt"
	"strings"
)

// expand replaces each ${NAME} in s with lookupEnv(NAME) and each "$$" with
// "$"; any other "$" stays as it is. It returns the names it replaced. The
// replacement text is not scanned again, so a variable's value may hold "$"
// freely. Errors never include a variable's value.
func expand(s string, lookupEnv func(string) (string, bool)) (string, []string, error) {
	if !strings.Contains(s, "$") {
		return s, nil, nil
	}
	var (
		b    strings.Builder
		vars []string
	)
	b.Grow(len(s))
	for i := 0; i < len(s); {
		switch {
		case s[i] != '$':
			b.WriteByte(s[i])
			i++
		case strings.HasPrefix(s[i:], "$$"):
			b.WriteByte('$')
			i += 2
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", nil, errors.New("unterminated ${ (write $$ for a literal $)")
			}
			name := s[i+2 : i+2+end]
			if !validVarName(name) {
				return "", nil, fmt.Errorf("bad environment variable name %s in ${…} (want letters, digits and _; write $$ for a literal $)", quote(name))
			}
			val, ok := lookupEnv(name)
			if !ok {
				return "", nil, fmt.Errorf("environment variable %s is not set", name)
			}
			b.WriteString(val)
			vars = append(vars, name)
			i += 2 + end + 1
		default:
			b.WriteByte('$')
			i++
		}
	}
	return b.String(), vars, nil
}

// validVarName reports whether name is a portable environment variable
// name: a letter or "_", then letters, digits and "_".
func validVarName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
