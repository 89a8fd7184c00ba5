package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// TestSecretsNeverPrinted: the effective configuration as `cspulse config`
// prints it, and the Config formatted any way, show no password.
func TestSecretsNeverPrinted(t *testing.T) {
	env := []string{"CSPULSE_KAFKA_SASL_PASSWORD=kafka-s3cret", "CSPULSE_KAFKA_SASL_MECHANISM=plain", "CSPULSE_KAFKA_SASL_USER=u"}
	l, err := loadWith(t, "", env, "--clickhouse.password=ch-s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if l.Config.Kafka.SASL.Password.Reveal() != "kafka-s3cret" || l.Config.ClickHouse.Password.Reveal() != "ch-s3cret" {
		t.Fatalf("passwords not loaded: %q %q", l.Config.Kafka.SASL.Password.Reveal(), l.Config.ClickHouse.Password.Reveal())
	}
	out, err := l.YAML()
	if err != nil {
		t.Fatal(err)
	}
	printed := map[string]string{
		"YAML": string(out),
		"%v":   fmt.Sprintf("%v", l.Config),
		"%+v":  fmt.Sprintf("%+v", l.Config),
		"%#v":  fmt.Sprintf("%#v", l.Config),
		"%s":   fmt.Sprintf("%s", l.Config.ClickHouse.Password),
	}
	for how, s := range printed {
		if strings.Contains(s, "s3cret") {
			t.Errorf("%s shows a password:\n%s", how, s)
		}
	}
	if strings.Count(string(out), "<redacted>") != 2 {
		t.Errorf("YAML should show both passwords as <redacted>:\n%s", out)
	}
	// An unset password stays visibly unset.
	l, err = loadWith(t, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := l.YAML(); strings.Contains(string(out), "<redacted>") {
		t.Errorf("empty passwords shown as <redacted>:\n%s", out)
	}
}

// TestPasswordFiles: *_file keys are read at load; one of the pair only.
func TestPasswordFiles(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pw")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := loadWith(t, "", []string{"CSPULSE_CLICKHOUSE_PASSWORD_FILE=" + file}, "--kafka.sasl.password_file="+file)
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Config.ClickHouse.Password.Reveal(); got != "from-file" {
		t.Errorf("clickhouse password %q, want from-file", got)
	}
	if got := l.Config.Kafka.SASL.Password.Reveal(); got != "from-file" {
		t.Errorf("kafka password %q, want from-file", got)
	}
	_, err = loadWith(t, "", nil, "--clickhouse.password_file="+file, "--clickhouse.password=x")
	if err == nil || !strings.Contains(err.Error(), "clickhouse.password_file") {
		t.Errorf("both set: %v, want an error naming clickhouse.password_file", err)
	}
	_, err = loadWith(t, "", nil, "--kafka.sasl.password_file="+filepath.Join(dir, "missing"))
	if err == nil || !strings.Contains(err.Error(), "kafka.sasl.password_file") {
		t.Errorf("missing file: %v, want an error naming kafka.sasl.password_file", err)
	}
}

// TestNewKeysValidated: each new key's invalid value is an error naming it.
func TestNewKeysValidated(t *testing.T) {
	for _, tt := range []struct{ flag, key string }{
		{"--kafka.partitioner=random", "kafka.partitioner"},
		{"--time.max_future=0s", "time.max_future"},
		{"--run.startup_timeout=-1s", "run.startup_timeout"},
		{"--clickhouse.tls.cert_file=/x.pem", "clickhouse.tls.cert_file"},
	} {
		if _, err := loadWith(t, "", nil, tt.flag); err == nil || !strings.Contains(err.Error(), "config key "+tt.key) {
			t.Errorf("%s: %v, want an error naming %s", tt.flag, err, tt.key)
		}
	}
	if _, err := (TLS{CAFile: "/nonexistent/ca.pem"}).Build("clickhouse.tls"); err == nil || !strings.Contains(err.Error(), "clickhouse.tls.ca_file") {
		t.Errorf("missing CA: %v, want an error naming clickhouse.tls.ca_file", err)
	}
}

// TestBadScalarsNameKeyValueAndSource: a bad duration or integer is
// reported with its key, its value and where it came from.
func TestBadScalarsNameKeyValueAndSource(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(file, []byte("run:\n  flush_interval: 2 s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fs := func(args ...string) []string { return args }
	for _, tt := range []struct {
		path string
		env  []string
		args []string
		want []string
	}{
		{"", nil, fs("--time.session_timeout=soon"), []string{"time.session_timeout", `"soon"`, "flag --time.session_timeout"}},
		{"", []string{"CSPULSE_KAFKA_PARTITIONS=four"}, nil, []string{"kafka.partitions", `"four"`, "environment variable CSPULSE_KAFKA_PARTITIONS"}},
		{file, nil, nil, []string{"run.flush_interval", `"2 s"`, "file " + file}},
	} {
		var err error
		if tt.path != "" {
			_, err = Load(tt.path, []string{}, nil)
		} else {
			_, err = loadWith(t, "", tt.env, tt.args...)
		}
		for _, w := range tt.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("error %v does not contain %s", err, w)
			}
		}
	}
}

// TestSecretsNeverEncoded: a Config encoded as JSON — by encoding/json,
// or by zap's JSON logs for zap.Any("config", cfg) — shows the passwords
// as <redacted> too, not only fmt and `cspulse config`.
func TestSecretsNeverEncoded(t *testing.T) {
	l, err := loadWith(t, "", []string{"CSPULSE_KAFKA_SASL_PASSWORD=kafka-s3cret", "CSPULSE_KAFKA_SASL_MECHANISM=plain",
		"CSPULSE_KAFKA_SASL_USER=u"}, "--clickhouse.password=ch-s3cret")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(l.Config)
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(&logged), zap.InfoLevel))
	log.Info("effective configuration", zap.Any("config", l.Config), zap.Any("clickhouse", l.Config.ClickHouse))
	for how, s := range map[string]string{"encoding/json": string(b), "zap JSON log": logged.String()} {
		if strings.Contains(s, "s3cret") {
			t.Errorf("%s shows a password:\n%s", how, s)
		}
		if !strings.Contains(s, "redacted") { // encoding/json escapes < and >
			t.Errorf("%s does not show the passwords as <redacted>:\n%s", how, s)
		}
	}
	if b, _ := json.Marshal(Secret("")); string(b) != `""` {
		t.Errorf("an empty secret encodes as %s, want \"\"", b)
	}
}
