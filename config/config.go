// Package config holds cspulse's configuration: one struct, its documented
// defaults (defaults.yaml), and the rules that make a value valid. Errors
// name the key, as written in YAML, so that a user knows what to fix.
package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// Config is the whole configuration of a cspulse process.
type Config struct {
	Kafka      Kafka      `koanf:"kafka"`
	Topics     Topics     `koanf:"topics"`
	ClickHouse ClickHouse `koanf:"clickhouse"`
	Time       Time       `koanf:"time"`
	Metrics    Metrics    `koanf:"metrics"`
	Filters    Filters    `koanf:"filters"`
	Run        Run        `koanf:"run"`
	Retention  Retention  `koanf:"retention"`
	Report     Report     `koanf:"report"`
	Export     Export     `koanf:"export"`
	Log        Log        `koanf:"log"`
	Alerts     Alerts     `koanf:"alerts"`
	Rankings   Rankings   `koanf:"rankings"`
}

// Alerts are the threshold rules of SPEC §4.2. The pipeline checks each
// rule at start (pipeline.operatorSettings) and names the one it refuses.
type Alerts struct {
	Rules []AlertRule `koanf:"rules"`
}

// AlertRule is one rule; see alerts.rules in defaults.yaml.
type AlertRule struct {
	Name      string                   `koanf:"name"`
	Metric    string                   `koanf:"metric"`
	Scope     string                   `koanf:"scope"`
	Window    string                   `koanf:"window"` // rolling | week
	Days      int                      `koanf:"days"`   // rolling: the window's days
	Threshold float64                  `koanf:"threshold"`
	Direction string                   `koanf:"direction"`
	MinSample int64                    `koanf:"min_sample"`
	Shops     map[string]AlertOverride `koanf:"shops"`
}

// AlertOverride changes a rule for one shop.
type AlertOverride struct {
	Off       bool     `koanf:"off"`
	Threshold *float64 `koanf:"threshold"`
	MinSample *int64   `koanf:"min_sample"`
}

// Rankings switches cs_agent_rankings (SPEC §4.3).
type Rankings struct {
	Enabled bool `koanf:"enabled"`
}

// Report is the metric schemes of `cspulse report`: each an ordered list
// of metric names (report.Metrics; report.CheckSchemes checks them).
type Report struct {
	// Overview is the scheme `cspulse report` shows without --scheme.
	Overview []string `koanf:"overview"`
	// Schemes are the named list schemes (--scheme NAME).
	Schemes map[string][]string `koanf:"schemes"`
}

// Export bounds `cspulse export sessions`.
type Export struct {
	// DefaultDays is the range exported without --from: the last N days
	// (report.CheckExportDays checks it).
	DefaultDays int `koanf:"default_days"`
}

// Retention is the whole months of data `cspulse retention` keeps per
// ClickHouse table; 0 keeps everything.
type Retention struct {
	AgentHourly  int `koanf:"cs_agent_hourly"`
	ShopHourly   int `koanf:"cs_shop_hourly"`
	InquiryDaily int `koanf:"cs_inquiry_daily"`
	RobotHourly  int `koanf:"cs_robot_hourly"`
	Sessions     int `koanf:"cs_sessions"`
	Alerts       int `koanf:"cs_alerts"`
	Rankings     int `koanf:"cs_agent_rankings"`
	// ExclusiveDaily: cs_exclusive_daily (SPEC §3.7).
	ExclusiveDaily int `koanf:"cs_exclusive_daily"`
}

// Months maps each table to its months to keep.
func (r Retention) Months() map[string]int {
	return map[string]int{
		"cs_agent_hourly": r.AgentHourly, "cs_shop_hourly": r.ShopHourly,
		"cs_inquiry_daily": r.InquiryDaily, "cs_robot_hourly": r.RobotHourly,
		"cs_sessions": r.Sessions, "cs_alerts": r.Alerts, "cs_agent_rankings": r.Rankings,
		"cs_exclusive_daily": r.ExclusiveDaily,
	}
}

type Kafka struct {
	Brokers          []string      `koanf:"brokers"`
	Embedded         string        `koanf:"embedded"`
	Partitions       int           `koanf:"partitions"`
	Group            string        `koanf:"group"`
	SessionTimeout   time.Duration `koanf:"session_timeout"`
	RebalanceTimeout time.Duration `koanf:"rebalance_timeout"`
	ClientID         string        `koanf:"client_id"`
	// InstanceID is the static group membership id; empty = dynamic.
	InstanceID  string `koanf:"instance_id"`
	StartOffset string `koanf:"start_offset"`
	// FetchMaxPartitionBytes caps what one fetch returns per partition.
	FetchMaxPartitionBytes int `koanf:"fetch_max_partition_bytes"`
	// Partitioner is how producers map a key to a partition (murmur2,
	// crc32 or none); records elsewhere are dead-lettered (SPEC §2).
	Partitioner string `koanf:"partitioner"`
	// Transactions writes each checkpoint (state, its rows, dead letters)
	// in one Kafka transaction per partition, which also fences a member
	// that lost its partitions.
	Transactions       bool          `koanf:"transactions"`
	TransactionTimeout time.Duration `koanf:"transaction_timeout"`
	SASL               SASL          `koanf:"sasl"`
	TLS                TLS           `koanf:"tls"`
}

type SASL struct {
	Mechanism string `koanf:"mechanism"`
	User      string `koanf:"user"`
	Password  Secret `koanf:"password"`
	// PasswordFile: read the password from this file at load (a mounted
	// Kubernetes or Docker secret); a trailing newline is dropped.
	PasswordFile string `koanf:"password_file"`
}

// Secret is a password: its value is used, but never printed. %v, %s,
// %#v and JSON show "<redacted>" (empty stays empty), so a logged or
// printed Config cannot leak it; Reveal returns the value.
type Secret string

const redacted = "<redacted>"

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// MarshalJSON keeps JSON encodings — encoding/json, and zap's logs of
// zap.Any("config", cfg), which use it — from showing the value.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// Reveal is the secret's value, for the one place that needs it.
func (s Secret) Reveal() string { return string(s) }

// SecretKeys are the keys whose values `cspulse config` and every other
// output redact.
var SecretKeys = []string{"kafka.sasl.password", "clickhouse.password"}

type TLS struct {
	Enabled            bool   `koanf:"enabled"`
	CAFile             string `koanf:"ca_file"`
	CertFile           string `koanf:"cert_file"`
	KeyFile            string `koanf:"key_file"`
	InsecureSkipVerify bool   `koanf:"insecure_skip_verify"`
}

type Topics struct {
	Sessions    string `koanf:"sessions"`
	Transfers   string `koanf:"transfers"`
	Messages    string `koanf:"messages"`
	Evaluations string `koanf:"evaluations"`
	Orders      string `koanf:"orders"`
	// Outreach is optional (SPEC §1, §3.7): empty turns it off.
	Outreach   string `koanf:"outreach"`
	DeadLetter string `koanf:"deadletter"`
	Alerts     string `koanf:"alerts"`
	Changelog  string `koanf:"changelog"`
}

// All lists every topic cspulse reads or writes.
func (t Topics) All() []string {
	return append(t.Inputs(), t.DeadLetter, t.Alerts)
}

// ChangelogTopic is the state changelog's name: topics.changelog, or the
// consumer group's name + ".changelog".
func (c *Config) ChangelogTopic() string {
	if c.Topics.Changelog != "" {
		return c.Topics.Changelog
	}
	return c.Kafka.Group + ".changelog"
}

// Inputs lists the input topic names in schemas.Topics order: the five
// required ones, then cs.outreach when it is configured (it is last in
// schemas.Topics, so the input indexes are the same with or without it).
func (t Topics) Inputs() []string {
	in := []string{t.Sessions, t.Transfers, t.Messages, t.Evaluations, t.Orders}
	if t.Outreach != "" {
		in = append(in, t.Outreach)
	}
	return in
}

type ClickHouse struct {
	Addr     []string `koanf:"addr"`
	Database string   `koanf:"database"`
	Cluster  string   `koanf:"cluster"`
	// Replicated: the cluster's shards have replicas (see defaults.yaml).
	Replicated bool   `koanf:"replicated"`
	User       string `koanf:"user"`
	Password   Secret `koanf:"password"`
	// PasswordFile: read the password from this file at load.
	PasswordFile    string        `koanf:"password_file"`
	TLS             TLS           `koanf:"tls"`
	DialTimeout     time.Duration `koanf:"dial_timeout"`
	BatchRows       int           `koanf:"batch_rows"`
	RetryMaxElapsed time.Duration `koanf:"retry_max_elapsed"`
}

type Time struct {
	DefaultZone     string            `koanf:"default_zone"`
	ShopZones       map[string]string `koanf:"shop_zones"`
	MaxOutOfOrder   time.Duration     `koanf:"max_out_of_order"`
	AllowedLateness time.Duration     `koanf:"allowed_lateness"`
	SessionTimeout  time.Duration     `koanf:"session_timeout"`
	RatingWindow    time.Duration     `koanf:"rating_window"`
	IdleInput       time.Duration     `koanf:"idle_input"`
	// MaxFuture: a ts further than this ahead of the wall clock at read
	// time is out of range (SPEC §2).
	MaxFuture time.Duration `koanf:"max_future"`
}

type Metrics struct {
	WindowStart          string            `koanf:"window_start"`
	WindowEnd            string            `koanf:"window_end"`
	ReplyWithin          time.Duration     `koanf:"reply_within"`
	SatisfiedMinScore    int               `koanf:"satisfied_min_score"`
	AttributionRule      string            `koanf:"attribution_rule"`
	ShopAttributionRules map[string]string `koanf:"shop_attribution_rules"`
	InquiryValidDays     int               `koanf:"inquiry_valid_days"`
	OrderPayWindow       time.Duration     `koanf:"order_pay_window"`
}

type Filters struct {
	Adverts             bool     `koanf:"adverts"`
	BuyerIDs            []string `koanf:"buyer_ids"`
	AgentIDs            []string `koanf:"agent_ids"`
	AgentSingleSentence bool     `koanf:"agent_single_sentence"`
	Monologue           bool     `koanf:"monologue"`
}

type Run struct {
	UntilIdle        time.Duration `koanf:"until_idle"`
	FlushInterval    time.Duration `koanf:"flush_interval"`
	StateCheckpoints bool          `koanf:"state_checkpoints"`
	ProgressInterval time.Duration `koanf:"progress_interval"`
	HTTPListen       string        `koanf:"http_listen"`
	ShutdownGrace    time.Duration `koanf:"shutdown_grace"`
	GCPercent        int           `koanf:"gc_percent"`
	// StartupTimeout bounds the retries of the start (Kafka and ClickHouse
	// reachable, authenticated, topics ready).
	StartupTimeout time.Duration `koanf:"startup_timeout"`
	// Pprof serves Go's /debug/pprof on run.http_listen.
	Pprof bool `koanf:"pprof"`
	// ReadyMaxCheckpointAge: /readyz fails when no checkpoint succeeded
	// for this long.
	ReadyMaxCheckpointAge time.Duration `koanf:"ready_max_checkpoint_age"`
	// CheckpointTimeout: a checkpoint not durable after this long ends the
	// run with an error (exit 1) rather than hang.
	CheckpointTimeout time.Duration `koanf:"checkpoint_timeout"`
}

type Log struct {
	Level  string `koanf:"level"`
	Format string `koanf:"format"`
}

// Validate checks every value and returns the first problem, naming its
// key; but report.* and export.*, which the report package checks where
// the report is built (report.CheckSchemes, report.CheckExportDays), so
// that config stays below the packages it configures.
func (c *Config) Validate() error {
	checks := []func() error{c.validateKafka, c.validateTopics, c.validateClickHouse,
		c.validateTime, c.validateMetrics, c.validateRun, c.validateRetention, c.validateLog}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// keyError is an invalid value, reported with its YAML key.
type keyError struct {
	key, msg string
}

func (e *keyError) Error() string { return fmt.Sprintf("config key %s: %s", e.key, e.msg) }

func bad(key, format string, args ...any) error {
	return &keyError{key: key, msg: fmt.Sprintf(format, args...)}
}

// RequireKafka reports a configuration that names no broker, for the
// commands that talk to Kafka (report does not).
func (c *Config) RequireKafka() error {
	if len(c.Kafka.Brokers) == 0 && c.Kafka.Embedded == "" {
		return bad("kafka.brokers", "empty: give brokers (--brokers) or an embedded listen address (--embedded-kafka)")
	}
	return nil
}

func (c *Config) validateKafka() error {
	k := c.Kafka
	if len(k.Brokers) > 0 && k.Embedded != "" {
		return bad("kafka.embedded", "set together with kafka.brokers: choose one")
	}
	for _, b := range k.Brokers {
		if err := checkHostPort(b); err != nil {
			return bad("kafka.brokers", "%q: %v", b, err)
		}
	}
	if k.Embedded != "" {
		if err := checkHostPort(k.Embedded); err != nil {
			return bad("kafka.embedded", "%q: %v", k.Embedded, err)
		}
	}
	if k.Partitions < 1 || k.Partitions > 1024 {
		return bad("kafka.partitions", "%d: must be 1..1024", k.Partitions)
	}
	if k.Group == "" {
		return bad("kafka.group", "empty")
	}
	if err := checkInstanceID(k.InstanceID); err != nil {
		return bad("kafka.instance_id", "%q: %v", k.InstanceID, err)
	}
	if k.SessionTimeout < time.Second {
		return bad("kafka.session_timeout", "%v: must be ≥ 1s", k.SessionTimeout)
	}
	if k.RebalanceTimeout < time.Second {
		return bad("kafka.rebalance_timeout", "%v: must be ≥ 1s", k.RebalanceTimeout)
	}
	if k.StartOffset != "earliest" && k.StartOffset != "latest" {
		return bad("kafka.start_offset", "%q: must be earliest or latest", k.StartOffset)
	}
	// franz-go's whole fetch is capped at 50 MiB by default.
	if k.TransactionTimeout < time.Second || k.TransactionTimeout > 15*time.Minute {
		return bad("kafka.transaction_timeout", "%v: must be 1s..15m", k.TransactionTimeout)
	}
	if k.FetchMaxPartitionBytes < 1<<10 || k.FetchMaxPartitionBytes > 50<<20 {
		return bad("kafka.fetch_max_partition_bytes", "%d: must be 1 KiB..50 MiB", k.FetchMaxPartitionBytes)
	}
	switch k.SASL.Mechanism {
	case "none":
	case "plain", "scram-sha-256", "scram-sha-512":
		if k.SASL.User == "" {
			return bad("kafka.sasl.user", "empty with mechanism %s", k.SASL.Mechanism)
		}
	default:
		return bad("kafka.sasl.mechanism", "%q: must be none, plain, scram-sha-256 or scram-sha-512", k.SASL.Mechanism)
	}
	if (k.TLS.CertFile == "") != (k.TLS.KeyFile == "") {
		return bad("kafka.tls.cert_file", "cert_file and key_file go together")
	}
	switch k.Partitioner {
	case "murmur2", "crc32", "none":
	default:
		return bad("kafka.partitioner", "%q: must be murmur2, crc32 or none", k.Partitioner)
	}
	return nil
}

// checkInstanceID applies Kafka's rule for group.instance.id (the one for
// topic names): at most 249 of [A-Za-z0-9._-]. Empty means dynamic
// membership.
func checkInstanceID(id string) error {
	if len(id) > 249 {
		return fmt.Errorf("longer than 249 characters")
	}
	if id == "." || id == ".." {
		return fmt.Errorf("not a valid id")
	}
	for _, r := range id {
		if r != '.' && r != '_' && r != '-' && (r < '0' || r > '9') && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return fmt.Errorf("%q is not allowed: use letters, digits, '.', '_' and '-'", r)
		}
	}
	return nil
}

func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return err
	}
	if port == "" || host == "" && !strings.HasPrefix(s, ":") {
		return fmt.Errorf("want host:port")
	}
	return nil
}

func (c *Config) validateTopics() error {
	t := c.Topics
	names := map[string]string{
		"topics.sessions": t.Sessions, "topics.transfers": t.Transfers, "topics.messages": t.Messages,
		"topics.evaluations": t.Evaluations, "topics.orders": t.Orders,
		"topics.deadletter": t.DeadLetter, "topics.alerts": t.Alerts,
		"topics.changelog": c.ChangelogTopic(),
	}
	if t.Outreach != "" { // optional: empty is off
		names["topics.outreach"] = t.Outreach
	}
	seen := map[string]string{}
	for _, key := range sortedKeys(names) {
		name := names[key]
		if name == "" {
			return bad(key, "empty")
		}
		if other, dup := seen[name]; dup {
			return bad(key, "%q is also %s", name, other)
		}
		seen[name] = key
	}
	return nil
}

func (c *Config) validateClickHouse() error {
	ch := c.ClickHouse
	if len(ch.Addr) == 0 {
		return bad("clickhouse.addr", "empty")
	}
	for _, a := range ch.Addr {
		if err := checkHostPort(a); err != nil {
			return bad("clickhouse.addr", "%q: %v", a, err)
		}
	}
	if !isIdentifier(ch.Database) {
		return bad("clickhouse.database", "%q: must be a plain identifier ([A-Za-z_][A-Za-z0-9_]*)", ch.Database)
	}
	if ch.Cluster != "" && !isIdentifier(ch.Cluster) {
		return bad("clickhouse.cluster", "%q: must be a plain identifier ([A-Za-z_][A-Za-z0-9_]*), a cluster of the servers' remote_servers", ch.Cluster)
	}
	if ch.Replicated && ch.Cluster == "" {
		return bad("clickhouse.replicated", "true needs clickhouse.cluster: replicas are replicas of a cluster's shards")
	}
	if (ch.TLS.CertFile == "") != (ch.TLS.KeyFile == "") {
		return bad("clickhouse.tls.cert_file", "cert_file and key_file go together")
	}
	if ch.BatchRows < 1 {
		return bad("clickhouse.batch_rows", "%d: must be ≥ 1", ch.BatchRows)
	}
	if ch.DialTimeout <= 0 {
		return bad("clickhouse.dial_timeout", "%v: must be > 0", ch.DialTimeout)
	}
	return nil
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		letter := r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}

func (c *Config) validateTime() error {
	t := c.Time
	if _, err := time.LoadLocation(t.DefaultZone); err != nil || t.DefaultZone == "" {
		return bad("time.default_zone", "%q is not an IANA time zone", t.DefaultZone)
	}
	for _, shop := range sortedKeys(t.ShopZones) {
		if _, err := time.LoadLocation(t.ShopZones[shop]); err != nil || t.ShopZones[shop] == "" {
			return bad("time.shop_zones."+shop, "%q is not an IANA time zone", t.ShopZones[shop])
		}
	}
	durations := []struct {
		key string
		d   time.Duration
		min time.Duration
	}{
		{"time.max_out_of_order", t.MaxOutOfOrder, 0},
		{"time.allowed_lateness", t.AllowedLateness, 0},
		{"time.session_timeout", t.SessionTimeout, time.Millisecond},
		{"time.rating_window", t.RatingWindow, 0},
		{"time.idle_input", t.IdleInput, time.Millisecond},
		{"time.max_future", t.MaxFuture, time.Second},
	}
	for _, d := range durations {
		if d.d < d.min {
			return bad(d.key, "%v: must be ≥ %v", d.d, d.min)
		}
	}
	return nil
}

func (c *Config) validateMetrics() error {
	m := c.Metrics
	start, err := ParseClock(m.WindowStart)
	if err != nil {
		return bad("metrics.window_start", "%v", err)
	}
	end, err := ParseClock(m.WindowEnd)
	if err != nil {
		return bad("metrics.window_end", "%v", err)
	}
	if end <= start {
		return bad("metrics.window_end", "%s is not after window_start %s", m.WindowEnd, m.WindowStart)
	}
	if m.ReplyWithin <= 0 {
		return bad("metrics.reply_within", "%v: must be > 0", m.ReplyWithin)
	}
	if m.SatisfiedMinScore < 1 || m.SatisfiedMinScore > 5 {
		return bad("metrics.satisfied_min_score", "%d: must be 1..5", m.SatisfiedMinScore)
	}
	if !validRule(m.AttributionRule) {
		return bad("metrics.attribution_rule", "%q: must be order, pay or order_first", m.AttributionRule)
	}
	for _, shop := range sortedKeys(m.ShopAttributionRules) {
		if !validRule(m.ShopAttributionRules[shop]) {
			return bad("metrics.shop_attribution_rules."+shop, "%q: must be order, pay or order_first", m.ShopAttributionRules[shop])
		}
	}
	if m.InquiryValidDays < 1 || m.InquiryValidDays > 31 {
		return bad("metrics.inquiry_valid_days", "%d: must be 1..31", m.InquiryValidDays)
	}
	if m.OrderPayWindow < time.Hour {
		return bad("metrics.order_pay_window", "%v: must be ≥ 1h", m.OrderPayWindow)
	}
	return nil
}

func validRule(r string) bool { return r == "order" || r == "pay" || r == "order_first" }

// ParseClock parses a local wall-clock time "HH:MM" (00:00..24:00) into
// minutes after midnight.
func ParseClock(s string) (int, error) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("%q: want HH:MM", s)
	}
	if _, err := fmt.Sscanf(s, "%02d:%02d", &h, &m); err != nil {
		return 0, fmt.Errorf("%q: want HH:MM", s)
	}
	if h < 0 || m < 0 || m > 59 || h > 24 || h == 24 && m != 0 {
		return 0, fmt.Errorf("%q: not a time of day", s)
	}
	return h*60 + m, nil
}

func (c *Config) validateRun() error {
	r := c.Run
	if r.UntilIdle < 0 {
		return bad("run.until_idle", "%v: must be ≥ 0", r.UntilIdle)
	}
	if r.FlushInterval < 10*time.Millisecond {
		return bad("run.flush_interval", "%v: must be ≥ 10ms", r.FlushInterval)
	}
	if r.ProgressInterval <= 0 {
		return bad("run.progress_interval", "%v: must be > 0", r.ProgressInterval)
	}
	if r.HTTPListen != "" {
		if err := checkHostPort(r.HTTPListen); err != nil {
			return bad("run.http_listen", "%q: %v", r.HTTPListen, err)
		}
	}
	if r.ShutdownGrace <= 0 {
		return bad("run.shutdown_grace", "%v: must be > 0", r.ShutdownGrace)
	}
	if r.StartupTimeout < 0 {
		return bad("run.startup_timeout", "%v: must be ≥ 0", r.StartupTimeout)
	}
	if r.GCPercent < 25 {
		return bad("run.gc_percent", "%d: must be ≥ 25", r.GCPercent)
	}
	if r.ReadyMaxCheckpointAge < time.Second {
		return bad("run.ready_max_checkpoint_age", "%v: must be ≥ 1s", r.ReadyMaxCheckpointAge)
	}
	if r.ReadyMaxCheckpointAge <= r.FlushInterval {
		return bad("run.ready_max_checkpoint_age", "%v: must be longer than run.flush_interval (%v)", r.ReadyMaxCheckpointAge, r.FlushInterval)
	}
	if r.CheckpointTimeout <= c.ClickHouse.RetryMaxElapsed {
		return bad("run.checkpoint_timeout", "%v: must be longer than clickhouse.retry_max_elapsed (%v), "+
			"so that an insert gives up (and logs why) before the checkpoint does", r.CheckpointTimeout, c.ClickHouse.RetryMaxElapsed)
	}
	return nil
}

func (c *Config) validateRetention() error {
	months := c.Retention.Months()
	for _, table := range sortedKeys(months) {
		if m := months[table]; m < 0 || m > 1200 {
			return bad("retention."+table, "%d: must be 0 (keep forever) or 1..1200 months", m)
		}
	}
	return nil
}

func (c *Config) validateLog() error {
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return bad("log.level", "%q: must be debug, info, warn or error", c.Log.Level)
	}
	if c.Log.Format != "console" && c.Log.Format != "json" {
		return bad("log.format", "%q: must be console or json", c.Log.Format)
	}
	return nil
}

// Build returns the tls.Config these settings describe; key ("kafka.tls",
// "clickhouse.tls") names them in errors.
func (t TLS) Build(key string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // the user's explicit choice
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, bad(key+".ca_file", "%v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, bad(key+".ca_file", "%s: no PEM certificate found", t.CAFile)
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, bad(key+".cert_file", "%v", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
