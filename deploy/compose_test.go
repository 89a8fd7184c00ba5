package deploy_test

import (
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/cspulse/cspulse/config"
)

type composeFile struct {
	Name     string                    `yaml:"name"`
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image string `yaml:"image"`
	Build *struct {
		Context    string            `yaml:"context"`
		Dockerfile string            `yaml:"dockerfile"`
		Args       map[string]string `yaml:"args"`
	} `yaml:"build"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Ports       []string          `yaml:"ports"`
	NetworkMode string            `yaml:"network_mode"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Volumes  []string `yaml:"volumes"`
	Profiles []string `yaml:"profiles"`
}

func readCompose(t *testing.T) composeFile {
	t.Helper()
	src, err := os.ReadFile("compose/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(src, &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return c
}

// hostPort reads a port mapping "[ip:]host:container" as the host
// address and the container port.
func hostPort(t *testing.T, mapping string) (host string, container int) {
	t.Helper()
	i := strings.LastIndex(mapping, ":")
	if i < 0 {
		t.Fatalf("port %q: want host:container", mapping)
	}
	container, err := strconv.Atoi(mapping[i+1:])
	if err != nil {
		t.Fatalf("port %q: %v", mapping, err)
	}
	return mapping[:i], container
}

var imageTagRE = regexp.MustCompile(`^([a-z0-9./-]+):([A-Za-z0-9._-]+)$`)

func TestComposeFile(t *testing.T) {
	c := readCompose(t)
	_, envKeys := configKeys(t)
	for _, want := range []string{"clickhouse", "broker", "gen", "cspulse", "report"} {
		if _, ok := c.Services[want]; !ok {
			t.Fatalf("compose.yaml has no service %q", want)
		}
	}

	// ClickHouse: a pinned 24+ release (the DDL runs on 18.16 and 24+).
	ch := c.Services["clickhouse"]
	m := imageTagRE.FindStringSubmatch(ch.Image)
	if m == nil || m[1] != "clickhouse/clickhouse-server" || m[2] == "latest" {
		t.Errorf("clickhouse image %q: want clickhouse/clickhouse-server:<pinned version>", ch.Image)
	} else if major, _ := strconv.Atoi(strings.Split(m[2], ".")[0]); major < 24 {
		t.Errorf("clickhouse image %q: want 24 or later", ch.Image)
	}
	chPorts := map[int]bool{}
	for _, p := range ch.Ports {
		host, port := hostPort(t, p)
		if !strings.HasPrefix(host, "127.0.0.1:") {
			t.Errorf("clickhouse port %q is published beyond the host's loopback", p)
		}
		chPorts[port] = true
	}
	if !chPorts[9000] {
		t.Errorf("clickhouse publishes %v, want the native port 9000", ch.Ports)
	}

	// The broker and where its clients find it.
	broker := c.Services["broker"]
	listen := ""
	for i, a := range broker.Command {
		if a == "--listen" && i+1 < len(broker.Command) {
			listen = broker.Command[i+1]
		}
	}
	if len(broker.Command) == 0 || broker.Command[0] != "broker" || listen == "" {
		t.Fatalf("broker command %v: want cspulse broker --listen host:port", broker.Command)
	}
	published := map[int]bool{}
	for _, p := range broker.Ports {
		host, port := hostPort(t, p)
		if !strings.HasPrefix(host, "127.0.0.1:") {
			t.Errorf("broker port %q is published beyond the host's loopback", p)
		}
		published[port] = true
	}

	for name, s := range c.Services {
		if name == "clickhouse" {
			continue
		}
		// The cspulse image, built from the top-level Dockerfile.
		if s.Image != "cspulse:dev" || s.Build == nil || s.Build.Context != "../.." || s.Build.Dockerfile != "Dockerfile" {
			t.Errorf("service %s: image %q build %+v; want cspulse:dev built from ../../Dockerfile", name, s.Image, s.Build)
		} else if _, err := os.Stat(repoPath(s.Build.Dockerfile)); err != nil {
			t.Errorf("service %s: %v", name, err)
		}
		checkCommandLine(t, "compose service "+name, s.Command)

		for dep := range s.DependsOn {
			if _, ok := c.Services[dep]; !ok {
				t.Errorf("service %s depends on unknown service %s", name, dep)
			}
		}
		for _, v := range s.Volumes {
			vol, _, _ := strings.Cut(v, ":")
			if _, ok := c.Volumes[vol]; !ok {
				t.Errorf("service %s mounts undeclared volume %s", name, vol)
			}
		}

		// Every CSPULSE_ variable names a key, and the configuration
		// the service gets is valid.
		env := []string{}
		for k, v := range s.Environment {
			if strings.HasPrefix(k, config.EnvPrefix) {
				if _, ok := envKeys[k]; !ok {
					t.Errorf("service %s: %s names no config key", name, k)
				}
			}
			env = append(env, k+"="+v)
		}
		if name == "broker" {
			continue
		}
		l, err := config.Load("", env, nil)
		if err != nil {
			t.Errorf("service %s: configuration from its environment: %v", name, err)
			continue
		}
		if len(l.Warnings) > 0 {
			t.Errorf("service %s: %v", name, l.Warnings)
		}
		cfg := l.Config
		if name != "report" {
			if !slices.Equal(cfg.Kafka.Brokers, []string{listen}) {
				t.Errorf("service %s: kafka.brokers %v, want the broker's --listen %s", name, cfg.Kafka.Brokers, listen)
			}
			// The broker advertises the address it listens on: its
			// clients must share its network namespace.
			if host, _, _ := net.SplitHostPort(listen); host == "127.0.0.1" && s.NetworkMode != "service:broker" {
				t.Errorf("service %s: network_mode %q, want service:broker to reach %s", name, s.NetworkMode, listen)
			}
		}
		if name == "cspulse" || name == "report" {
			host, port, _ := net.SplitHostPort(cfg.ClickHouse.Addr[0])
			if _, ok := c.Services[host]; !ok || port != "9000" {
				t.Errorf("service %s: clickhouse.addr %v, want clickhouse:9000", name, cfg.ClickHouse.Addr)
			}
			if cfg.ClickHouse.User != ch.Environment["CLICKHOUSE_USER"] || cfg.ClickHouse.Password.Reveal() != ch.Environment["CLICKHOUSE_PASSWORD"] {
				t.Errorf("service %s: clickhouse user/password differ from the clickhouse service's", name)
			}
			if cfg.ClickHouse.Database != ch.Environment["CLICKHOUSE_DB"] {
				t.Errorf("service %s: clickhouse.database %s, the server creates %s", name, cfg.ClickHouse.Database, ch.Environment["CLICKHOUSE_DB"])
			}
		}
		if name == "cspulse" {
			host, port, _ := net.SplitHostPort(cfg.Run.HTTPListen)
			p, _ := strconv.Atoi(port)
			if host != "0.0.0.0" || !published[p] {
				t.Errorf("cspulse: run.http_listen %s, want 0.0.0.0 and its port published (on the broker, whose network it shares: %v)", cfg.Run.HTTPListen, broker.Ports)
			}
			if cfg.Kafka.InstanceID == "" {
				t.Errorf("cspulse: no kafka.instance_id; the demo shows static membership")
			}
		}
	}
}

func TestDockerfile(t *testing.T) {
	ins := readDockerfile(t)
	var froms []string
	var final []instruction // instructions of the last stage
	args := map[string]string{}
	for _, in := range ins {
		switch in.op {
		case "FROM":
			froms = append(froms, in.args)
			final = nil
		case "ARG":
			k, v, _ := strings.Cut(in.args, "=")
			if len(froms) == 0 {
				args[k] = v
			}
		}
		final = append(final, in)
	}
	if len(froms) < 2 {
		t.Fatalf("FROM %v: want a build stage and a runtime stage", froms)
	}

	// The build stage's Go is the one go.mod asks for.
	gomod, err := os.ReadFile(repoPath("go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(gomod)
	build := strings.ReplaceAll(froms[0], "${GO_VERSION}", args["GO_VERSION"])
	if goVersion == nil || !strings.HasPrefix(build, "golang:"+string(goVersion[1])) {
		t.Errorf("build stage FROM %s: want golang:%s (go.mod)", build, goVersion[1])
	}

	var goBuild string
	for _, in := range ins {
		if in.op == "RUN" && strings.Contains(in.args, "go build") {
			goBuild = in.args
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-X main.version=${VERSION}", "./cmd/cspulse", "-trimpath"} {
		if !strings.Contains(goBuild, want) {
			t.Errorf("go build %q lacks %s", goBuild, want)
		}
	}

	runtime := froms[len(froms)-1]
	if !strings.HasPrefix(runtime, "gcr.io/distroless/static") && !strings.HasPrefix(runtime, "alpine:") {
		t.Errorf("runtime stage FROM %s: want distroless/static or alpine", runtime)
	}
	var user, entrypoint string
	copied := map[string]bool{}
	exposed := map[string]bool{}
	for _, in := range final {
		switch in.op {
		case "USER":
			user = in.args
		case "ENTRYPOINT":
			entrypoint = in.args
		case "COPY":
			f := strings.Fields(in.args)
			copied[f[len(f)-1]] = true
		case "EXPOSE":
			exposed[in.args] = true
		}
	}
	if m := userRE.FindStringSubmatch(user); m == nil || m[1] == "0" {
		t.Errorf("USER %q: want a numeric non-root uid (Kubernetes' runAsNonRoot checks it)", user)
	}
	if entrypoint != `["/usr/local/bin/cspulse"]` || !copied["/usr/local/bin/cspulse"] {
		t.Errorf("ENTRYPOINT %s: want the copied /usr/local/bin/cspulse", entrypoint)
	}
	if !exposed["9464"] {
		t.Errorf("EXPOSE %v: want 9464, run.http_listen's port", exposed)
	}
	_, defPort, _ := net.SplitHostPort(config.Defaults().Run.HTTPListen)
	if defPort != "9464" {
		t.Errorf("run.http_listen default port %s: the Dockerfile, compose and chart use 9464", defPort)
	}

	ignore, err := os.ReadFile(repoPath(".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{".git", ".local", "bin"} {
		if !slices.Contains(strings.Fields(string(ignore)), want) {
			t.Errorf(".dockerignore does not exclude %s", want)
		}
	}
}
