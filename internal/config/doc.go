// Package config loads, checks and documents socialroute's configuration.
//
// A configuration is built in four steps, each of which can only narrow
// what the next one sees:
//
//  1. Default returns every setting that has a sensible value without being
//     told (listen address, store path, limits, log format, ...).
//  2. The YAML document is parsed into a node tree and decoded on top of the
//     defaults by a walk over that tree, so that a key which is absent or
//     null keeps its default. The walk is strict: an unknown key, a
//     duplicate key or a value of the wrong shape is an error that names the
//     key path and the line, e.g. "config: slack.bot_tokn: unknown key
//     (line 3; did you mean bot_token?)".
//  3. During that walk every scalar value has ${VAR} replaced from the
//     environment. A variable that is unset is an error naming the key
//     ("config: slack.bot_token: environment variable SLACK_BOT_TOKEN is not
//     set"); a variable set to "" expands to "". "$$" stands for a literal
//     "$" (so "$${X}" is the text "${X}"); a "$" followed by anything else
//     is kept as it is. Expansion happens once: a variable's value is never
//     expanded again. Keys are not expanded. YAML merge keys ("<<") are
//     refused rather than half supported.
//  4. Validate checks single values and the relations between them (every
//     class owned by exactly one department, rules that name a configured
//     department, ...).
//
// Every error that Parse, Load and Validate report about the configuration
// itself matches ErrInvalid with errors.Is, and each line of its text reads
// "config: <key path>: <why>", with key paths such as
// "routing.departments[1].channel". The command line turns these into exit
// status 2. Validate reports every problem it finds, joined with newlines.
//
// Tokens, webhook secrets and the etcd password are held as Secret, which
// prints, logs and marshals as "[redacted]"; only Secret.Value gives the
// real text. Errors never quote a secret, and a value that came from the
// environment is described by its variable ("the value of ${LOG_LEVEL}")
// rather than quoted, because a misplaced ${SLACK_BOT_TOKEN} must not end
// up in a log.
package config
