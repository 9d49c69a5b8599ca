// Package ingest owns socialroute's HTTP side: the webhook endpoints that
// connectors and platforms post to, their signature checks and formats, and
// the health endpoints.
//
// Each source has a format: "generic" (socialroute's own JSON, signed with
// X-Socialroute-Signature), "x" (X's Account Activity webhooks) or "meta"
// (Meta's webhooks for Facebook Pages and Instagram). A format verifies a
// request's signature, parses its body into posts and answers; X and Meta
// also prove the endpoint with a GET handshake, so GET is allowed for their
// sources only.
//
// A webhook request is answered 2xx only after the store has committed the
// posts; every refusal is a JSON body saying what was wrong. Checks run in a
// fixed order — method, source, body size, content type, signature, body —
// so a caller always learns about the most basic problem first. Generic
// posts are answered 202 (or 200 duplicate, 207 for arrays); X and Meta
// requests, which may carry many events of which only some are posts, are
// answered 200 with how many events were accepted, duplicates or skipped,
// because those platforms retry, and eventually disable, webhooks that
// answer anything else.
package ingest
