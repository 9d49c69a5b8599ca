// Package bot owns everything socialroute says to and hears from Slack:
// the Socket Mode connection, Block Kit rendering of routed posts, and the
// delivery worker that drains the store's outbox into channels, and the
// /route slash command that shows and changes routing (command*.go).
//
// Delivery is at-least-once towards Slack with a look-up that makes it
// effectively once: an entry is marked in flight before chat.postMessage,
// every message carries the post id in its metadata, and an entry found in
// flight after a crash is first searched for in the channel's history
// before it is posted again.
package bot
