package ingest

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// jsonObj is a JSON object read leniently, the way platform payloads are:
// a field that is missing, null or of an unexpected type reads as the zero
// value. Platforms add fields and change details without notice; an
// unexpected shape must cost one field, never the request.
type jsonObj map[string]json.RawMessage

// asObj opens raw as an object; ok is false if it is anything else.
func asObj(raw json.RawMessage) (jsonObj, bool) {
	if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return nil, false
	}
	var o jsonObj
	if json.Unmarshal(raw, &o) != nil {
		return nil, false
	}
	return o, true
}

// str reads a string, or a number's literal text: platforms send ids both
// ways, and a 64-bit id must not pass through a float.
func (o jsonObj) str(key string) string {
	raw := bytes.TrimSpace(o[key])
	if len(raw) == 0 {
		return ""
	}
	switch c := raw[0]; {
	case c == '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case c == '-' || (c >= '0' && c <= '9'):
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			return n.String()
		}
	}
	return ""
}

// num reads an integer given as a number or a numeric string; 0 otherwise.
func (o jsonObj) num(key string) int64 {
	n, err := strconv.ParseInt(o.str(key), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// flag reads true or "true".
func (o jsonObj) flag(key string) bool {
	raw := bytes.TrimSpace(o[key])
	return bytes.Equal(raw, []byte("true")) || bytes.Equal(raw, []byte(`"true"`))
}

// obj reads a nested object; nil if absent or not an object.
func (o jsonObj) obj(key string) jsonObj {
	if _, ok := o[key]; !ok {
		return nil
	}
	v, _ := asObj(o[key])
	return v
}

// arr reads an array. ok is false when the field is present but is not
// an array (a field that is absent or null is an empty array).
func (o jsonObj) arr(key string) (items []json.RawMessage, ok bool) {
	raw := bytes.TrimSpace(o[key])
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, true
	}
	if raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
		return nil, false
	}
	return items, true
}
