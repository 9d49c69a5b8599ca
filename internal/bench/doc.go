// Package bench measures socialroute: webhook ingest throughput and latency
// against a baseline durable writer, webhook-to-Slack latency against the
// built-in Slack emulator, start-up time and memory of the real binary, and
// the size of a database holding many posts. cmd/socialroute-bench is its
// command line; BENCHMARKS.md holds the figures it produced.
//
// Every run is bounded by a request count and a duration, and only talks to
// loopback addresses.
package bench
