// Package store owns socialroute's durable state: posts, the dedupe index,
// the delivery outbox, where each post was delivered in Slack, what people
// did with it, incidents, routing rules with their history and audit, and
// the examples the classifier learns from.
//
// The guarantee the rest of the product leans on: when Ingest returns
// without error, each post, its dedupe key and its outbox entry are in one
// committed, durable transaction.
//
// The logic is written once against sorted buckets in serializable
// transactions (kv.go) and runs on one of two engines:
//
//   - bbolt (Open): one file, one process. Concurrent writes share commits
//     (group commit), so durability does not cost one fsync per request.
//   - etcd (OpenEtcd): any number of processes on one cluster. Each write
//     is an optimistic transaction that commits only if nothing it read has
//     changed, and is run again otherwise; Lead elects the one process that
//     does the work that must happen once, and a watch tells every process
//     about new posts and rule changes.
//
// Neither engine leaks through the API: callers see routing types, the
// store's own record types and the sentinel errors.
package store
