package config

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

const redacted = "[redacted]"

// Secret is a token or key that must never be shown: every fmt verb, JSON,
// YAML and text marshalling print "[redacted]", including when the Secret
// sits inside a printed Config. Value returns the real text, and should be
// called only where the secret is used.
type Secret string

// Value returns the secret itself.
func (s Secret) Value() string { return string(s) }

// String returns "[redacted]".
func (s Secret) String() string { return redacted }

// GoString returns "[redacted]", so %#v does not show the value either.
func (s Secret) GoString() string { return redacted }

// Format prints "[redacted]" for every verb. Without it a verb that does not
// suit strings, such as %d, would make fmt print the raw value in its
// "%!d(...)" complaint.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprint(f, strconv.Quote(redacted))
		return
	}
	fmt.Fprint(f, redacted)
}

// MarshalJSON encodes "[redacted]".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalYAML encodes "[redacted]".
func (s Secret) MarshalYAML() (any, error) { return redacted, nil }

// MarshalText encodes "[redacted]", for encoders that know only
// encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Duration is a time.Duration written in YAML and JSON as a Go duration
// string such as "10s" or "1m30s".
type Duration time.Duration

// String formats d like time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText encodes d as a duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses a duration string such as "10s".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return errors.New("want a duration such as 10s or 1m30s")
	}
	*d = Duration(v)
	return nil
}
