package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func loadWith(t *testing.T, yamlText string, env []string, args ...string) (*Loaded, error) {
	t.Helper()
	path := ""
	if yamlText != "" {
		path = filepath.Join(t.TempDir(), "cspulse.yaml")
		if err := os.WriteFile(path, []byte(yamlText), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	if err := RegisterFlags(fs); err != nil {
		t.Fatal(err)
	}
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	if env == nil {
		env = []string{}
	}
	return Load(path, env, fs)
}

func TestDefaultsAreValid(t *testing.T) {
	l, err := loadWith(t, "", nil)
	if err != nil {
		t.Fatalf("defaults: %v", err)
	}
	c := l.Config
	if c.Time.MaxOutOfOrder != 10*time.Second || c.Time.AllowedLateness != time.Hour ||
		c.Time.SessionTimeout != 30*time.Minute || c.Time.RatingWindow != 24*time.Hour {
		t.Errorf("time defaults differ from SPEC §2: %+v", c.Time)
	}
	if c.Metrics.AttributionRule != "order_first" || c.Metrics.InquiryValidDays != 2 || c.Metrics.ReplyWithin != 3*time.Minute {
		t.Errorf("metric defaults differ from SPEC §3: %+v", c.Metrics)
	}
	if c.Topics.Messages != "cs.messages" || c.Topics.DeadLetter != "cs.deadletter" {
		t.Errorf("topic defaults differ from SPEC §1: %+v", c.Topics)
	}
	if err := c.RequireKafka(); err == nil || !strings.Contains(err.Error(), "kafka.brokers") {
		t.Errorf("RequireKafka without brokers: %v, want an error naming kafka.brokers", err)
	}
}

func TestPrecedence(t *testing.T) {
	file := "kafka:\n  group: from-file\n  partitions: 8\nrun:\n  flush_interval: 7s\n"
	env := []string{"CSPULSE_KAFKA_GROUP=from-env", "CSPULSE_RUN_FLUSH_INTERVAL=3s", "CSPULSE_KAFKA_BROKERS=a:1,b:2"}
	l, err := loadWith(t, file, env, "--kafka.group=from-flag", "--until-idle=5s")
	if err != nil {
		t.Fatal(err)
	}
	c := l.Config
	if c.Kafka.Group != "from-flag" {
		t.Errorf("group = %q, want the flag to win", c.Kafka.Group)
	}
	if c.Kafka.Partitions != 8 {
		t.Errorf("partitions = %d, want 8 from the file", c.Kafka.Partitions)
	}
	if c.Run.FlushInterval != 3*time.Second {
		t.Errorf("flush_interval = %v, want env over file", c.Run.FlushInterval)
	}
	if strings.Join(c.Kafka.Brokers, "|") != "a:1|b:2" {
		t.Errorf("brokers = %v, want the env list", c.Kafka.Brokers)
	}
	if c.Run.UntilIdle != 5*time.Second {
		t.Errorf("until_idle = %v, want the alias flag", c.Run.UntilIdle)
	}
}

func TestMapsFromEnvAndFlags(t *testing.T) {
	env := []string{"CSPULSE_TIME_SHOP_ZONES=shop-1=America/New_York,shop-2=Asia/Kolkata"}
	l, err := loadWith(t, "", env, "--metrics.shop_attribution_rules=shop-1=pay")
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Config.Time.ShopZones["shop-2"]; got != "Asia/Kolkata" {
		t.Errorf("shop_zones[shop-2] = %q", got)
	}
	if got := l.Config.Metrics.ShopAttributionRules["shop-1"]; got != "pay" {
		t.Errorf("shop_attribution_rules[shop-1] = %q", got)
	}
}

// TestReportSchemes: a scheme of the config file joins the default ones.
func TestReportSchemes(t *testing.T) {
	l, err := loadWith(t, "report:\n  schemes:\n    mine: [qa_ratio, robot_calls]\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	s := l.Config.Report.Schemes
	if strings.Join(s["mine"], ",") != "qa_ratio,robot_calls" || len(s["agents"]) == 0 || len(l.Config.Report.Overview) == 0 {
		t.Errorf("schemes %v, overview %v", s, l.Config.Report.Overview)
	}
}

func TestInvalidValuesNameTheKey(t *testing.T) {
	cases := []struct {
		name    string
		yaml    string
		env     []string
		args    []string
		wantKey string
	}{
		{"bad duration", "", nil, []string{"--time.max_out_of_order=ten"}, "time.max_out_of_order"},
		{"negative lateness", "time:\n  allowed_lateness: -1s\n", nil, nil, "time.allowed_lateness"},
		{"unknown zone", "", []string{"CSPULSE_TIME_DEFAULT_ZONE=Mars/Olympus"}, nil, "time.default_zone"},
		{"unknown shop zone", "time:\n  shop_zones:\n    shop-9: Nowhere/City\n", nil, nil, "time.shop_zones.shop-9"},
		{"bad rule", "", nil, []string{"--metrics.attribution_rule=first"}, "metrics.attribution_rule"},
		{"inquiry valid days 0", "", nil, []string{"--metrics.inquiry_valid_days=0"}, "metrics.inquiry_valid_days"},
		{"inquiry valid days 32", "", []string{"CSPULSE_METRICS_INQUIRY_VALID_DAYS=32"}, nil, "metrics.inquiry_valid_days"},
		{"order pay window", "", nil, []string{"--metrics.order_pay_window=59m"}, "metrics.order_pay_window"},
		{"satisfied score", "", nil, []string{"--metrics.satisfied_min_score=6"}, "metrics.satisfied_min_score"},
		{"shop rule", "metrics:\n  shop_attribution_rules:\n    shop-1: last\n", nil, nil, "metrics.shop_attribution_rules.shop-1"},
		{"window order", "metrics:\n  window_start: \"23:00\"\n  window_end: \"08:00\"\n", nil, nil, "metrics.window_end"},
		{"bad clock", "", nil, []string{"--metrics.window_start=8am"}, "metrics.window_start"},
		{"unknown yaml key", "kafka:\n  brokerz: [a:1]\n", nil, nil, "brokerz"},
		{"bad broker", "", nil, []string{"--brokers=nohost"}, "kafka.brokers"},
		{"both broker kinds", "", nil, []string{"--brokers=a:1", "--embedded-kafka=127.0.0.1:0"}, "kafka.embedded"},
		{"partitions", "", []string{"CSPULSE_KAFKA_PARTITIONS=0"}, nil, "kafka.partitions"},
		{"not a number", "", []string{"CSPULSE_KAFKA_PARTITIONS=four"}, nil, "kafka.partitions"},
		{"database", "", nil, []string{"--database=my-db"}, "clickhouse.database"},
		{"duplicate topic", "topics:\n  alerts: cs.messages\n", nil, nil, "topics."},
		{"sasl without user", "kafka:\n  sasl:\n    mechanism: plain\n", nil, nil, "kafka.sasl.user"},
		{"log level", "", nil, []string{"--log.level=loud"}, "log.level"},
		{"gc percent", "", []string{"CSPULSE_RUN_GC_PERCENT=10"}, nil, "run.gc_percent"},
		{"fetch bytes", "", nil, []string{"--kafka.fetch_max_partition_bytes=100"}, "kafka.fetch_max_partition_bytes"},
		{"retention", "", []string{"CSPULSE_RETENTION_CS_SESSIONS=-1"}, nil, "retention.cs_sessions"},
		{"cluster", "", nil, []string{"--clickhouse.cluster=two-shards"}, "clickhouse.cluster"},
		{"replicas without a cluster", "", nil, []string{"--clickhouse.replicated"}, "clickhouse.replicated"},
		{"instance id chars", "", []string{"CSPULSE_KAFKA_INSTANCE_ID=pod 0"}, nil, "kafka.instance_id"},
		{"instance id length", "", nil, []string{"--kafka.instance_id=" + strings.Repeat("x", 250)}, "kafka.instance_id"},
		{"checkpoint timeout below retries", "", nil, []string{"--run.checkpoint_timeout=1m", "--clickhouse.retry_max_elapsed=2m"}, "run.checkpoint_timeout"},
		{"ready age below flush", "", nil, []string{"--run.ready_max_checkpoint_age=2s", "--run.flush_interval=5s"}, "run.ready_max_checkpoint_age"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadWith(t, tc.yaml, tc.env, tc.args...)
			if err == nil {
				t.Fatalf("no error, want one naming %s", tc.wantKey)
			}
			if !strings.Contains(err.Error(), tc.wantKey) {
				t.Errorf("error %q does not name %s", err, tc.wantKey)
			}
		})
	}
}

// TestUnknownEnvIsAWarning: a misspelt variable is named in a warning; the
// project's script variables (make demo's CSPULSE_CH_NATIVE_PORT) are not.
func TestUnknownEnvIsAWarning(t *testing.T) {
	l, err := loadWith(t, "", []string{"CSPULSE_KAFKA_BROKRES=a:1", "CSPULSE_CH_NATIVE_PORT=19100", "CSPULSE_BIN=/x"})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Warnings) != 1 || !strings.Contains(l.Warnings[0], "CSPULSE_KAFKA_BROKRES") {
		t.Errorf("warnings = %v, want one naming the misspelt variable", l.Warnings)
	}
}

func TestEffectiveYAMLRoundTrips(t *testing.T) {
	l, err := loadWith(t, "", nil, "--kafka.group=g1", "--time.session_timeout=45m")
	if err != nil {
		t.Fatal(err)
	}
	out, err := l.YAML()
	if err != nil {
		t.Fatal(err)
	}
	again, err := loadWith(t, string(out), nil)
	if err != nil {
		t.Fatalf("reload of printed config: %v\n%s", err, out)
	}
	if again.Config.Kafka.Group != "g1" || again.Config.Time.SessionTimeout != 45*time.Minute {
		t.Errorf("printed config does not reproduce the effective one: %+v", again.Config)
	}
}

func TestParseClock(t *testing.T) {
	for in, want := range map[string]int{"08:00": 480, "23:00": 1380, "00:00": 0, "24:00": 1440, "09:30": 570} {
		if got, err := ParseClock(in); err != nil || got != want {
			t.Errorf("ParseClock(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"8:00", "24:01", "12:60", "ab:cd", ""} {
		if _, err := ParseClock(in); err == nil {
			t.Errorf("ParseClock(%q) accepted", in)
		}
	}
}

func TestInstanceID(t *testing.T) {
	l, err := loadWith(t, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if l.Config.Kafka.InstanceID != "" {
		t.Errorf("default kafka.instance_id = %q, want empty (dynamic membership)", l.Config.Kafka.InstanceID)
	}
	// The Helm chart sets it from the pod name.
	l, err = loadWith(t, "", []string{"CSPULSE_KAFKA_INSTANCE_ID=cspulse-2"})
	if err != nil {
		t.Fatal(err)
	}
	if l.Config.Kafka.InstanceID != "cspulse-2" {
		t.Errorf("kafka.instance_id = %q, want cspulse-2 from CSPULSE_KAFKA_INSTANCE_ID", l.Config.Kafka.InstanceID)
	}
}

func TestRetentionKeys(t *testing.T) {
	l, err := loadWith(t, "retention:\n  cs_agent_hourly: 24\n", []string{"CSPULSE_RETENTION_CS_SESSIONS=3"})
	if err != nil {
		t.Fatal(err)
	}
	m := l.Config.Retention.Months()
	want := map[string]int{"cs_agent_hourly": 24, "cs_shop_hourly": 0, "cs_inquiry_daily": 0, "cs_robot_hourly": 0, "cs_sessions": 3,
		"cs_alerts": 0, "cs_agent_rankings": 0, "cs_exclusive_daily": 0}
	if len(m) != len(want) {
		t.Fatalf("Months() = %v, want %v", m, want)
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("retention.%s = %d, want %d", k, m[k], v)
		}
	}
}
