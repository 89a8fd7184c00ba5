package config

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestEveryKeyDocumented: every key has a comment in defaults.yaml, which
// is its --help text, and a type other than a bare string where it is a
// number, duration, list or map.
func TestEveryKeyDocumented(t *testing.T) {
	docs, err := KeyDocs()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := leaves()
	if err != nil {
		t.Fatal(err)
	}
	for key := range keys {
		if docs[key].Doc == "" {
			t.Errorf("%s has no comment in defaults.yaml", key)
		}
	}
	want := map[string]string{"time.session_timeout": "duration", "kafka.partitions": "int", "kafka.brokers": "list",
		"time.shop_zones": "map", "kafka.group": "string"}
	for key, typ := range want {
		if docs[key].Type != typ {
			t.Errorf("%s: type %q, want %q", key, docs[key].Type, typ)
		}
	}
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	if err := RegisterFlags(fs); err != nil {
		t.Fatal(err)
	}
	usage := fs.FlagUsages()
	for _, line := range []string{"--time.session_timeout duration", "(default 30m)", "--kafka.partitions int"} {
		if !strings.Contains(usage, line) {
			t.Errorf("help lacks %q", line)
		}
	}
}
