package ingest

import "fmt"

// maxDepth bounds how deeply a webhook body's JSON may nest. Real payloads
// (X's and Meta's included) stay under ten levels; the bound keeps a
// hostile body from costing the decoder deep recursion.
const maxDepth = 32

// checkDepth reports an error if body's arrays and objects nest deeper than
// maxDepth. It only counts brackets outside strings; the decoder checks
// everything else.
func checkDepth(body []byte) error {
	depth, inString, escaped := 0, false, false
	for _, c := range body {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > maxDepth {
				return fmt.Errorf("malformed JSON: nested deeper than %d levels", maxDepth)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}
