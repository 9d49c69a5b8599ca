// Package store owns socialroute's durable state in a single bbolt file:
// posts, the dedupe index, the delivery outbox and the record of where each
// post was delivered in Slack.
//
// The guarantee the rest of the product leans on: when Ingest returns
// without error, each post, its dedupe key and its outbox entry are in one
// committed, fsynced transaction. Concurrent Ingest calls share commits
// (group commit), so durability does not cost one fsync per request.
//
// bbolt never leaks through the API: callers see routing types, the store's
// own record types and the sentinel errors below.
package store
