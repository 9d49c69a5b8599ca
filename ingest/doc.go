// Package ingest owns socialroute's HTTP side: the webhook endpoints that
// connectors and platforms post to, their signature checks and formats, and
// the health endpoints.
//
// A webhook request is answered 202 only after the store has committed the
// post; every refusal is a JSON body saying what was wrong. Checks run in a
// fixed order — method, source, body size, content type, signature, body —
// so a caller always learns about the most basic problem first.
package ingest
