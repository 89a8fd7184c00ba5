package generator

import (
	"bytes"
	"context"
	"flag"
	"github.com/cspulse/cspulse/schemas"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the sample files in testdata/samples")

// keptRecord is a copy of an emitted record.
type keptRecord struct {
	key, value string
	ts         int64
	poison     bool
}

func TestFilesRoundTrip(t *testing.T) {
	cfg := testConfig(3, 200, 1)
	cfg.DuplicateRate, cfg.PoisonRate = 0.02, 0.05
	dir := t.TempDir()
	write, closeFiles, err := WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]keptRecord{}
	_, err = Generate(context.Background(), cfg, func(r *Record) error {
		want[r.Topic] = append(want[r.Topic], keptRecord{string(r.Key), string(r.Value), r.TS, r.Poison != ""})
		return write(r)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := closeFiles(); err != nil {
		t.Fatal(err)
	}
	got := map[string][]keptRecord{}
	var maxTS int64
	err = ReadFiles(dir, func(r *Record) error {
		if r.TS < maxTS-cfg.Disorder.Milliseconds() {
			t.Fatalf("read back out of order: ts %d after %d", r.TS, maxTS)
		}
		maxTS = max(maxTS, r.TS)
		got[r.Topic] = append(got[r.Topic], keptRecord{key: string(r.Key), value: string(r.Value), ts: r.TS})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(schemas.Topics) {
		t.Fatalf("read %d topics", len(got))
	}
	for topic, recs := range want {
		if len(got[topic]) != len(recs) {
			t.Fatalf("%s: wrote %d records, read %d", topic, len(recs), len(got[topic]))
		}
		for i, w := range recs {
			g := got[topic][i]
			if g.key != w.key || g.value != w.value || (!w.poison && g.ts != w.ts) {
				t.Fatalf("%s record %d:\nwrote %q %s (ts %d)\nread  %q %s (ts %d)", topic, i, w.key, w.value, w.ts, g.key, g.value, g.ts)
			}
		}
	}
}

func TestWriteFilesRejectsNewlines(t *testing.T) {
	write, closeFiles, err := WriteFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer closeFiles()
	if err := write(&Record{Topic: "cs.messages", Key: []byte("k"), Value: []byte("a\nb")}); err == nil {
		t.Fatal("a value with a newline was written")
	}
}

// Sample files: small fixed runs checked into testdata/samples for the
// docs and for other packages' tests. Regenerate with
// `go test ./generator -run TestSamples -update` after a deliberate change
// of the traffic.
var samples = map[string]func() Config{
	".": func() Config {
		cfg := DefaultConfig()
		cfg.Seed, cfg.Shops, cfg.AgentsPerShop, cfg.Days, cfg.SessionsPerShopDay = 1, 2, 4, 1, 60
		return cfg
	},
	"dirty": func() Config {
		cfg := DefaultConfig()
		cfg.Seed, cfg.Shops, cfg.AgentsPerShop, cfg.Days, cfg.SessionsPerShopDay = 1, 2, 4, 1, 20
		cfg.DuplicateRate, cfg.PoisonRate = 0.03, 0.03
		return cfg
	},
}

func TestSamples(t *testing.T) {
	root := filepath.Join("..", "testdata", "samples")
	for sub, config := range samples {
		dir := filepath.Join(root, sub)
		fresh := t.TempDir()
		write, closeFiles, err := WriteFiles(fresh)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Generate(context.Background(), config(), write); err != nil {
			t.Fatal(err)
		}
		if err := closeFiles(); err != nil {
			t.Fatal(err)
		}
		names, _ := filepath.Glob(filepath.Join(fresh, "*"+fileSuffix))
		if *update {
			old, _ := filepath.Glob(filepath.Join(dir, "*"+fileSuffix))
			for _, f := range old {
				os.Remove(f)
			}
		}
		for _, name := range names {
			base := filepath.Base(name)
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, base), data, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			stored, err := os.ReadFile(filepath.Join(dir, base))
			if err != nil {
				t.Fatalf("%v (regenerate with -update)", err)
			}
			if !bytes.Equal(stored, data) {
				t.Errorf("%s/%s differs from what the generator makes now (regenerate with -update if the change is meant)", sub, base)
			}
		}
		if stored, _ := filepath.Glob(filepath.Join(dir, "*"+fileSuffix)); len(stored) != len(names) {
			t.Errorf("%s: %d stored files, the generator makes %d", sub, len(stored), len(names))
		}
	}
}

// The clean sample reads back as valid records in time order.
func TestSampleIsValid(t *testing.T) {
	var maxTS int64
	n := 0
	topics := map[string]int{}
	err := ReadFiles(filepath.Join("..", "testdata", "samples"), func(r *Record) error {
		if _, err := checkSpec(r); err != nil {
			t.Fatalf("%v\n%s", err, r.Value)
		}
		if r.TS < maxTS-(5*time.Second).Milliseconds() {
			t.Fatalf("out of order: %d after %d", r.TS, maxTS)
		}
		maxTS = max(maxTS, r.TS)
		topics[r.Topic]++
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(topics))
	for k := range topics {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if n < 500 || len(keys) != len(schemas.Topics) {
		t.Fatalf("sample has %d records in topics %v", n, keys)
	}
}
