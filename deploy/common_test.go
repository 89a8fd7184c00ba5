// Package deploy_test checks the deployment files against the code they
// deploy: the Dockerfile, deploy/compose/compose.yaml and the Helm chart
// deploy/helm/cspulse. None of them can run here (no container runtime,
// no cluster), so the tests read them, render the chart, and compare
// images, ports, commands, environment variables and the configuration
// they produce with the real binary and config package.
package deploy_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/cspulse/cspulse/config"
)

// repoPath is a path from the repository's top directory.
func repoPath(parts ...string) string {
	return filepath.Join(append([]string{".."}, parts...)...)
}

// configKeys maps every leaf key of config/defaults.yaml (kafka.brokers,
// time.shop_zones, ...) to itself, and envKeys maps each key's
// environment variable to the key.
func configKeys(t *testing.T) (keys map[string]bool, envKeys map[string]string) {
	t.Helper()
	var raw map[string]any
	if err := yaml.Unmarshal(config.DefaultsYAML, &raw); err != nil {
		t.Fatalf("config/defaults.yaml: %v", err)
	}
	keys = map[string]bool{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
				walk(prefix+k+".", sub)
				continue
			}
			keys[prefix+k] = true
		}
	}
	walk("", raw)
	envKeys = map[string]string{}
	for k := range keys {
		envKeys[config.EnvName(k)] = k
	}
	return keys, envKeys
}

// leafKeys lists the leaf keys of a configuration document, as dotted keys.
// Maps under a key whose default is a map (time.shop_zones) are one leaf.
func leafKeys(doc map[string]any, known map[string]bool) []string {
	var out []string
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			key := prefix + k
			if sub, ok := v.(map[string]any); ok && !known[key] {
				walk(key+".", sub)
				continue
			}
			out = append(out, key)
		}
	}
	walk("", doc)
	sort.Strings(out)
	return out
}

var bin struct {
	once sync.Once
	dir  string
	path string
	err  error
	out  []byte
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bin.dir != "" {
		_ = os.RemoveAll(bin.dir)
	}
	os.Exit(code)
}

// cspulseBin is the cspulse binary: $CSPULSE_BIN (make test builds it), or
// one built once for this test run.
func cspulseBin(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CSPULSE_BIN"); p != "" {
		return p
	}
	bin.once.Do(func() {
		dir, err := os.MkdirTemp("", "cspulse-deploy-test")
		if err != nil {
			bin.err = err
			return
		}
		bin.dir = dir
		bin.path = filepath.Join(dir, "cspulse")
		cmd := exec.Command("go", "build", "-o", bin.path, "./cmd/cspulse")
		cmd.Dir = ".."
		bin.out, bin.err = cmd.CombinedOutput()
	})
	if bin.err != nil {
		t.Fatalf("build cspulse: %v\n%s", bin.err, bin.out)
	}
	return bin.path
}

// checkCommandLine runs the real binary with args and --help: cobra parses
// every flag first, so an unknown subcommand or flag fails.
func checkCommandLine(t *testing.T, what string, args []string) {
	t.Helper()
	cmd := exec.Command(cspulseBin(t), append(append([]string{}, args...), "--help")...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Errorf("%s: cspulse %s: %v\n%s", what, strings.Join(args, " "), err, out.String())
		return
	}
	if len(args) > 0 && !strings.Contains(out.String(), "cspulse "+args[0]) {
		t.Errorf("%s: %q is not a cspulse subcommand:\n%s", what, args[0], out.String())
	}
}

// dockerfile is the parsed top-level Dockerfile: its instructions, line
// continuations joined, comments dropped.
type instruction struct {
	op, args string
}

func readDockerfile(t *testing.T) []instruction {
	t.Helper()
	src, err := os.ReadFile(repoPath("Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var out []instruction
	var cur strings.Builder
	for _, line := range strings.Split(string(src), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		op, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{strings.ToUpper(op), strings.Join(strings.Fields(args), " ")})
		cur.Reset()
	}
	return out
}

// dockerfileUID is the numeric user of the image's final stage.
var userRE = regexp.MustCompile(`^(\d+)(?::(\d+))?$`)
