package config

// Config is socialroute's whole configuration. Load and Parse return one
// that has passed Validate; the YAML keys are the snake_case names in the
// struct tags, documented key by key in config.example.yaml.
type Config struct {
	Slack     Slack     `yaml:"slack" json:"slack"`
	HTTP      HTTP      `yaml:"http" json:"http"`
	Store     Store     `yaml:"store" json:"store"`
	Sources   []Source  `yaml:"sources" json:"sources"`
	Routing   Routing   `yaml:"routing" json:"routing"`
	SLA       SLA       `yaml:"sla" json:"sla"`
	Incidents Incidents `yaml:"incidents" json:"incidents"`
	Log       Log       `yaml:"log" json:"log"`
}

// Slack is how the bot reaches Slack.
type Slack struct {
	AppToken Secret   `yaml:"app_token" json:"app_token"` // xapp-…, for Socket Mode
	BotToken Secret   `yaml:"bot_token" json:"bot_token"` // xoxb-…, for the Web API
	APIURL   string   `yaml:"api_url" json:"api_url"`     // Web API base URL; always ends in "/" once validated
	Admins   []string `yaml:"admins" json:"admins"`       // Slack user ids allowed to change routing rules
	Command  string   `yaml:"command" json:"command"`     // slash command name, with its leading "/"
	// ChannelRate is how many messages per second socialroute posts to one
	// channel (Slack allows about one); ChannelBurst how many may go at once.
	ChannelRate  float64 `yaml:"channel_rate" json:"channel_rate"`
	ChannelBurst int     `yaml:"channel_burst" json:"channel_burst"`
	// DigestThreshold is the backlog of promotional posts waiting for one
	// channel from which they go out DigestSize at a time in one message.
	DigestThreshold int `yaml:"digest_threshold" json:"digest_threshold"`
	DigestSize      int `yaml:"digest_size" json:"digest_size"`
	// AdminGroup is a user group id (S…) whose members may change routing
	// rules too; empty for none.
	AdminGroup string `yaml:"admin_group" json:"admin_group"`
}

// HTTP is the webhook server.
type HTTP struct {
	Listen          string   `yaml:"listen" json:"listen"`                     // host:port
	MaxBodyBytes    int64    `yaml:"max_body_bytes" json:"max_body_bytes"`     // larger request bodies get 413
	MaxBodyMemory   int64    `yaml:"max_body_memory" json:"max_body_memory"`   // request body bytes held at once; beyond, 503
	ShutdownTimeout Duration `yaml:"shutdown_timeout" json:"shutdown_timeout"` // how long in-flight requests get on shutdown
	// AdminToken, when set, enables GET /admin/backup for requests that
	// carry it as a bearer token (socialroute backup uses it).
	AdminToken Secret `yaml:"admin_token,omitempty" json:"admin_token,omitempty"`
}

// Store is where posts, deliveries and rules are kept: one bbolt file, or
// an etcd cluster that several replicas share.
type Store struct {
	Backend       string `yaml:"backend" json:"backend"` // bbolt or etcd
	Path          string `yaml:"path" json:"path"`       // bbolt only; relative paths are relative to the working directory
	RetentionDays int    `yaml:"retention_days" json:"retention_days"`
	// Etcd is read only when Backend is etcd, so that it may stay in the
	// file while an operator switches back to bbolt.
	Etcd Etcd `yaml:"etcd" json:"etcd"`
}

// Etcd is how the etcd backend reaches its cluster.
type Etcd struct {
	Endpoints []string `yaml:"endpoints" json:"endpoints"` // client URLs, http:// or https://, host and port
	Prefix    string   `yaml:"prefix" json:"prefix"`       // every key lives under it; starts and ends with "/"
	// Username and Password authenticate to etcd; both empty for a
	// cluster without auth.
	Username       string   `yaml:"username" json:"username"`
	Password       Secret   `yaml:"password,omitempty" json:"password,omitempty"`
	DialTimeout    Duration `yaml:"dial_timeout" json:"dial_timeout"`       // how long connecting may take
	RequestTimeout Duration `yaml:"request_timeout" json:"request_timeout"` // bounds each etcd request
	// LeaseTTL is the leader's lease: a leader that dies is replaced
	// within about this long. Whole seconds, as etcd leases are.
	LeaseTTL Duration `yaml:"lease_ttl" json:"lease_ttl"`
	// Replica names this process in the leader election and in logs;
	// empty means the host name, which the code that needs it looks up.
	Replica string  `yaml:"replica" json:"replica"`
	TLS     EtcdTLS `yaml:"tls" json:"tls"`
}

// EtcdTLS is the TLS set-up for https endpoints. With every field empty,
// https endpoints are verified against the system roots.
type EtcdTLS struct {
	CAFile     string `yaml:"ca_file" json:"ca_file"`         // PEM bundle of the CAs that sign the servers' certificates
	CertFile   string `yaml:"cert_file" json:"cert_file"`     // client certificate (PEM), with KeyFile
	KeyFile    string `yaml:"key_file" json:"key_file"`       // client key (PEM), with CertFile
	ServerName string `yaml:"server_name" json:"server_name"` // overrides the name checked in the servers' certificates
}

// Enabled reports whether any TLS setting is given, in which case every
// endpoint must be https.
func (t EtcdTLS) Enabled() bool {
	return t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.ServerName != ""
}

// Source is one webhook endpoint, POST /webhooks/{Name}.
type Source struct {
	Name        string `yaml:"name" json:"name"`
	Format      string `yaml:"format" json:"format"`                                 // payload format: generic, x or meta
	Secret      Secret `yaml:"secret" json:"secret"`                                 // HMAC key for the signature header
	VerifyToken Secret `yaml:"verify_token,omitempty" json:"verify_token,omitempty"` // format meta only: echoed in Meta's verification request
}

// Routing says which department owns which class, and where unsure posts go.
type Routing struct {
	MinConfidence float64      `yaml:"min_confidence" json:"min_confidence"`
	TriageChannel string       `yaml:"triage_channel" json:"triage_channel"`
	Departments   []Department `yaml:"departments" json:"departments"`
	Rules         []Rule       `yaml:"rules" json:"rules"` // seed rules; rules changed in Slack win
}

// Department is a team with a Slack channel and the classes it owns.
type Department struct {
	Name    string   `yaml:"name" json:"name"`
	Channel string   `yaml:"channel" json:"channel"` // channel id, C… or G…
	Classes []string `yaml:"classes" json:"classes"` // routing.Class names
}

// Rule sends matching posts to a department whatever the model says.
type Rule struct {
	Department string `yaml:"department" json:"department"` // a department name, or a class (meaning its owner)
	Match      string `yaml:"match" json:"match"`           // keyword, phrase, regex, author, platform, followers or verified
	Value      string `yaml:"value" json:"value"`
	Priority   string `yaml:"priority" json:"priority"` // "", "high" or "normal"
	Incident   bool   `yaml:"incident" json:"incident"` // mark matching posts as an incident
}

// Log is the process log.
type Log struct {
	Level  string `yaml:"level" json:"level"`   // debug, info, warn or error
	Format string `yaml:"format" json:"format"` // json or console
}
