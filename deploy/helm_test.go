package deploy_test

// The chart is rendered with Go's text/template and the sprig function
// library — the engine Helm itself uses — plus Helm's own include,
// toYaml and required, instead of importing helm.sh/helm/v3: that module
// pulls in the Kubernetes client libraries (k8s.io/*, hundreds of
// packages) for a test that needs only the template engine. What this
// renderer does not do (Helm's lookup, tpl, .Capabilities, .Files), the
// chart does not use.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"gopkg.in/yaml.v3"

	"github.com/cspulse/cspulse/config"
)

const chartDir = "helm/cspulse"

// renderChart renders every template of the chart with its values.yaml
// overlaid by overrides, as `helm template release chart` does, and
// returns the manifests by template file.
func renderChart(t *testing.T, release string, overrides map[string]any) map[string]string {
	t.Helper()
	var chart map[string]any
	readYAML(t, filepath.Join(chartDir, "Chart.yaml"), &chart)
	var values map[string]any
	readYAML(t, filepath.Join(chartDir, "values.yaml"), &values)
	mergeValues(values, overrides)

	tpl := template.New("chart").Option("missingkey=zero")
	funcs := sprig.TxtFuncMap()
	funcs["toYaml"] = func(v any) string {
		out, err := yaml.Marshal(v)
		if err != nil {
			return ""
		}
		return strings.TrimSuffix(string(out), "\n")
	}
	funcs["include"] = func(name string, data any) (string, error) {
		var buf bytes.Buffer
		err := tpl.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	funcs["required"] = func(msg string, v any) (any, error) {
		if v == nil || v == "" {
			return nil, errors.New(msg)
		}
		return v, nil
	}
	tpl.Funcs(funcs)

	files, err := filepath.Glob(filepath.Join(chartDir, "templates", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("chart templates: %v", err)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tpl.New(filepath.Base(f)).Parse(string(src)); err != nil {
			t.Fatalf("parse %s: %v", f, err)
		}
	}
	top := map[string]any{
		"Values":  values,
		"Release": map[string]any{"Name": release, "Namespace": "default", "Service": "Helm", "IsInstall": true},
		"Chart": map[string]any{"Name": chart["name"], "Version": chart["version"],
			"AppVersion": chart["appVersion"]},
	}
	out := map[string]string{}
	for _, f := range files {
		name := filepath.Base(f)
		if strings.HasPrefix(name, "_") {
			continue
		}
		var buf bytes.Buffer
		if err := tpl.ExecuteTemplate(&buf, name, top); err != nil {
			t.Fatalf("render %s: %v", name, err)
		}
		out[name] = strings.ReplaceAll(buf.String(), "<no value>", "")
	}
	return out
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(src, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// mergeValues overlays src on dst, maps merged key by key (helm --set).
func mergeValues(dst, src map[string]any) {
	for k, v := range src {
		if sv, ok := v.(map[string]any); ok {
			if dv, ok := dst[k].(map[string]any); ok {
				mergeValues(dv, sv)
				continue
			}
		}
		dst[k] = v
	}
}

// manifests parses the rendered YAML documents, by kind.
func manifests(t *testing.T, rendered map[string]string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(rendered)) {
		dec := yaml.NewDecoder(strings.NewReader(rendered[name]))
		for {
			var doc map[string]any
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s renders invalid YAML: %v\n%s", name, err, rendered[name])
			}
			if doc == nil {
				continue
			}
			kind, _ := doc["kind"].(string)
			if kind == "" || doc["apiVersion"] == nil || dig(doc, "metadata", "name") == nil {
				t.Fatalf("%s: a document without apiVersion, kind or metadata.name:\n%s", name, rendered[name])
			}
			if _, dup := out[kind]; dup {
				t.Fatalf("two %s documents", kind)
			}
			out[kind] = doc
		}
	}
	return out
}

// dig walks maps by key and lists by decimal index.
func dig(v any, path ...string) any {
	for _, p := range path {
		switch c := v.(type) {
		case map[string]any:
			v = c[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

func str(v any) string { return fmt.Sprint(v) }

// named finds the element of a list of maps whose "name" is name.
func named(list any, name string) map[string]any {
	l, _ := list.([]any)
	for _, e := range l {
		if m, ok := e.(map[string]any); ok && m["name"] == name {
			return m
		}
	}
	return nil
}

func TestHelmChartDefaults(t *testing.T) {
	m := manifests(t, renderChart(t, "cspulse", nil))
	for _, kind := range []string{"StatefulSet", "ConfigMap", "Service", "PodDisruptionBudget"} {
		if m[kind] == nil {
			t.Fatalf("no %s rendered", kind)
		}
	}
	if m["Secret"] != nil {
		t.Errorf("a Secret rendered without any password set")
	}
	sts, cm, svc := m["StatefulSet"], m["ConfigMap"], m["Service"]
	_, envKeys := configKeys(t)

	if str(dig(sts, "apiVersion")) != "apps/v1" || str(dig(sts, "spec", "replicas")) != "3" {
		t.Errorf("StatefulSet %v replicas %v", dig(sts, "apiVersion"), dig(sts, "spec", "replicas"))
	}
	name := str(dig(sts, "metadata", "name"))
	if str(dig(sts, "spec", "serviceName")) != str(dig(svc, "metadata", "name")) || str(dig(svc, "spec", "clusterIP")) != "None" {
		t.Errorf("serviceName %v: want the headless Service %v", dig(sts, "spec", "serviceName"), dig(svc, "metadata", "name"))
	}
	sel, _ := dig(sts, "spec", "selector", "matchLabels").(map[string]any)
	podLabels, _ := dig(sts, "spec", "template", "metadata", "labels").(map[string]any)
	for k, v := range sel {
		if podLabels[k] != v {
			t.Errorf("selector %s=%v does not match the pod labels %v", k, v, podLabels)
		}
	}
	if !maps.Equal(sel, dig(svc, "spec", "selector").(map[string]any)) ||
		!maps.Equal(sel, dig(m["PodDisruptionBudget"], "spec", "selector", "matchLabels").(map[string]any)) {
		t.Errorf("Service and PodDisruptionBudget select other pods than the StatefulSet")
	}

	pod := dig(sts, "spec", "template", "spec")
	c := dig(pod, "containers", "0").(map[string]any)
	if image := str(c["image"]); image != "cspulse:dev" {
		t.Errorf("image %s: want cspulse:dev (the compose build's tag, the chart's appVersion)", image)
	}
	args, _ := c["args"].([]any)
	if len(args) != 3 || args[0] != "run" || args[1] != "--config" {
		t.Fatalf("args %v: want run --config FILE", args)
	}
	checkCommandLine(t, "chart", []string{"run", "--config", str(args[2])})

	// Static membership from the pod name, and only real keys by env.
	env := dig(c, "env")
	id := named(env, "CSPULSE_KAFKA_INSTANCE_ID")
	if str(dig(id, "valueFrom", "fieldRef", "fieldPath")) != "metadata.name" {
		t.Errorf("CSPULSE_KAFKA_INSTANCE_ID = %v, want the pod's metadata.name", id)
	}
	for _, e := range env.([]any) {
		n := str(dig(e, "name"))
		if _, ok := envKeys[n]; strings.HasPrefix(n, config.EnvPrefix) && !ok {
			t.Errorf("env %s names no config key", n)
		}
	}

	// The configuration: loadable, listening where the probes look.
	cfgText := str(dig(cm, "data", "config.yaml"))
	mount := named(dig(c, "volumeMounts"), "config")
	if str(mount["mountPath"]) != str(args[2]) || str(mount["subPath"]) != "config.yaml" ||
		str(dig(named(dig(pod, "volumes"), "config"), "configMap", "name")) != str(dig(cm, "metadata", "name")) {
		t.Errorf("config mount %v does not put the ConfigMap's config.yaml at %s", mount, args[2])
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(cfgText), 0o644); err != nil {
		t.Fatal(err)
	}
	loaded, err := config.Load(path, []string{"CSPULSE_KAFKA_INSTANCE_ID=" + name + "-0"}, nil)
	if err != nil {
		t.Fatalf("the chart's config.yaml does not load: %v\n%s", err, cfgText)
	}
	cfg := loaded.Config
	if err := cfg.RequireKafka(); err != nil {
		t.Error(err)
	}
	if cfg.Kafka.InstanceID != name+"-0" {
		t.Errorf("kafka.instance_id %q from the pod name", cfg.Kafka.InstanceID)
	}
	host, port, _ := net.SplitHostPort(cfg.Run.HTTPListen)
	if host != "0.0.0.0" {
		t.Errorf("run.http_listen %s: the kubelet and Prometheus cannot reach it", cfg.Run.HTTPListen)
	}
	httpPort := named(dig(c, "ports"), "http")
	if str(httpPort["containerPort"]) != port {
		t.Errorf("containerPort %v, run.http_listen port %s", httpPort["containerPort"], port)
	}
	for probe, path := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz"} {
		if str(dig(c, probe, "httpGet", "path")) != path || str(dig(c, probe, "httpGet", "port")) != "http" {
			t.Errorf("%s %v: want GET %s on port http", probe, c[probe], path)
		}
	}
	ann, _ := dig(sts, "spec", "template", "metadata", "annotations").(map[string]any)
	if ann["prometheus.io/scrape"] != "true" || str(ann["prometheus.io/port"]) != port || ann["prometheus.io/path"] != "/metrics" {
		t.Errorf("pod annotations %v: want Prometheus to scrape :%s/metrics", ann, port)
	}
	if len(str(ann["checksum/config"])) != 64 {
		t.Errorf("checksum/config %v: pods would not roll on a config change", ann["checksum/config"])
	}

	// Non-root, as the image's USER, and room for the final checkpoint.
	uid := ""
	for _, in := range readDockerfile(t) {
		if in.op == "USER" {
			uid = userRE.FindStringSubmatch(in.args)[1]
		}
	}
	if dig(pod, "securityContext", "runAsNonRoot") != true || str(dig(pod, "securityContext", "runAsUser")) != uid {
		t.Errorf("pod securityContext %v: want runAsNonRoot and the image's uid %s", dig(pod, "securityContext"), uid)
	}
	grace, _ := strconv.Atoi(str(dig(pod, "terminationGracePeriodSeconds")))
	if grace <= int(cfg.Run.ShutdownGrace.Seconds()) {
		t.Errorf("terminationGracePeriodSeconds %d ≤ run.shutdown_grace %v: the final checkpoint is cut off", grace, cfg.Run.ShutdownGrace)
	}

	// Memory: requested, limited, and GOMEMLIMIT under the limit.
	req, lim := quantity(t, dig(c, "resources", "requests", "memory")), quantity(t, dig(c, "resources", "limits", "memory"))
	gml := quantity(t, strings.TrimSuffix(str(dig(named(env, "GOMEMLIMIT"), "value")), "B"))
	if req == 0 || lim < req || gml >= lim || gml < lim*7/10 {
		t.Errorf("memory request %d, limit %d, GOMEMLIMIT %d: want request ≤ limit and GOMEMLIMIT 70–100 %% of the limit", req, lim, gml)
	}
	if dig(c, "resources", "requests", "cpu") == nil {
		t.Errorf("no CPU request")
	}
}

// quantity parses a Kubernetes memory quantity (Ki, Mi, Gi, or bytes).
func quantity(t *testing.T, v any) int64 {
	t.Helper()
	s := str(v)
	mult := int64(1)
	for suffix, m := range map[string]int64{"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30} {
		if strings.HasSuffix(s, suffix) {
			s, mult = strings.TrimSuffix(s, suffix), m
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("memory quantity %q: %v", v, err)
	}
	return n * mult
}

func TestHelmChartSecrets(t *testing.T) {
	keys, _ := configKeys(t)
	cases := []struct {
		name      string
		secrets   map[string]any
		created   bool
		wantItems map[string]string // file → key in the Secret
	}{
		{"created", map[string]any{"clickhouse": map[string]any{"password": "s3cret"}, "kafkaSasl": map[string]any{"password": "k"}},
			true, map[string]string{"clickhouse-password": "clickhouse-password", "kafka-sasl-password": "kafka-sasl-password"}},
		{"existing", map[string]any{"existingSecret": "ops-cspulse", "clickhouse": map[string]any{"key": "ch"}},
			false, map[string]string{"clickhouse-password": "ch"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			overrides := map[string]any{"secrets": tc.secrets}
			if tc.wantItems["kafka-sasl-password"] != "" {
				overrides["config"] = map[string]any{"kafka": map[string]any{"sasl": map[string]any{"mechanism": "scram-sha-512", "user": "cspulse"}}}
			}
			m := manifests(t, renderChart(t, "prod", overrides))
			sts := m["StatefulSet"]
			pod := dig(sts, "spec", "template", "spec")
			vol := named(dig(pod, "volumes"), "secrets")
			secretName := str(dig(vol, "secret", "secretName"))
			if tc.created {
				s := m["Secret"]
				if s == nil || str(dig(s, "metadata", "name")) != secretName {
					t.Fatalf("Secret %v, volume names %s", s, secretName)
				}
				if str(dig(s, "data", "clickhouse-password")) != "czNjcmV0" { // base64("s3cret")
					t.Errorf("Secret data %v", dig(s, "data"))
				}
			} else if m["Secret"] != nil || secretName != "ops-cspulse" {
				t.Errorf("existing secret: rendered a Secret (%v) or mounted %s", m["Secret"] != nil, secretName)
			}
			items := map[string]string{}
			for _, it := range dig(vol, "secret", "items").([]any) {
				items[str(dig(it, "path"))] = str(dig(it, "key"))
			}
			if !maps.Equal(items, tc.wantItems) {
				t.Errorf("secret items %v, want %v", items, tc.wantItems)
			}
			c := dig(pod, "containers", "0")
			mount := named(dig(c, "volumeMounts"), "secrets")
			if mount["readOnly"] != true {
				t.Errorf("secrets mount %v: want read-only", mount)
			}
			for _, e := range dig(c, "env").([]any) {
				if strings.Contains(strings.ToUpper(str(dig(e, "name"))), "PASSWORD") {
					t.Errorf("a password in the environment: %v", e)
				}
			}

			cfgText := str(dig(m["ConfigMap"], "data", "config.yaml"))
			if strings.Contains(cfgText, "s3cret") {
				t.Errorf("the password is in the ConfigMap")
			}
			var doc map[string]any
			if err := yaml.Unmarshal([]byte(cfgText), &doc); err != nil {
				t.Fatal(err)
			}
			files := map[string]string{"clickhouse.password_file": "clickhouse-password", "kafka.sasl.password_file": "kafka-sasl-password"}
			for key, file := range files {
				got := dig(doc, strings.Split(key, ".")...)
				want := ""
				if tc.wantItems[file] != "" {
					want = str(mount["mountPath"]) + "/" + file
				}
				if got == nil && want != "" || got != nil && str(got) != want {
					t.Errorf("%s = %v, want %q", key, got, want)
				}
			}
			for _, k := range leafKeys(doc, keys) {
				if !keys[k] {
					t.Errorf("config.yaml sets %s, which is no config key", k)
				}
			}
			// The secrets are read at load: stand in for the mounted volume.
			dir := t.TempDir()
			for _, file := range files {
				if err := os.WriteFile(filepath.Join(dir, file), []byte("s3cret\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cfgText = strings.ReplaceAll(cfgText, str(mount["mountPath"])+"/", dir+"/")
			path := filepath.Join(dir, "config.yaml")
			if err := os.WriteFile(path, []byte(cfgText), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(path, []string{}, nil)
			if err != nil {
				t.Fatalf("config.yaml with secrets does not load: %v", err)
			}
			if tc.wantItems["clickhouse-password"] != "" && cfg.Config.ClickHouse.Password.Reveal() != "s3cret" {
				t.Errorf("clickhouse password from the mounted file = %q, want s3cret", cfg.Config.ClickHouse.Password.Reveal())
			}
		})
	}
}

func TestHelmChartRetentionCronJob(t *testing.T) {
	if m := manifests(t, renderChart(t, "cspulse", nil)); m["CronJob"] != nil {
		t.Errorf("a retention CronJob rendered with retention.enabled false")
	}
	m := manifests(t, renderChart(t, "cspulse", map[string]any{
		"retention": map[string]any{"enabled": true},
		"config":    map[string]any{"retention": map[string]any{"cs_sessions": 3}},
		"secrets":   map[string]any{"clickhouse": map[string]any{"password": "x"}},
	}))
	cj := m["CronJob"]
	if cj == nil {
		t.Fatal("no CronJob with retention.enabled")
	}
	if f := strings.Fields(str(dig(cj, "spec", "schedule"))); len(f) != 5 {
		t.Errorf("schedule %v: want five cron fields", dig(cj, "spec", "schedule"))
	}
	pod := dig(cj, "spec", "jobTemplate", "spec", "template", "spec")
	c := dig(pod, "containers", "0")
	var args []string
	for _, a := range dig(c, "args").([]any) {
		args = append(args, str(a))
	}
	if len(args) == 0 || args[0] != "retention" {
		t.Fatalf("CronJob args %v: want cspulse retention", args)
	}
	checkCommandLine(t, "retention CronJob", args)
	sts := dig(m["StatefulSet"], "spec", "template", "spec")
	if !reflect.DeepEqual(dig(pod, "volumes"), dig(sts, "volumes")) ||
		!reflect.DeepEqual(dig(c, "volumeMounts"), dig(sts, "containers", "0", "volumeMounts")) {
		t.Errorf("the CronJob mounts other configuration or secrets than the StatefulSet:\n%v\n%v", dig(pod, "volumes"), dig(sts, "volumes"))
	}
	if dig(pod, "securityContext", "runAsNonRoot") != true || str(dig(pod, "restartPolicy")) != "Never" {
		t.Errorf("CronJob pod: securityContext %v, restartPolicy %v", dig(pod, "securityContext"), dig(pod, "restartPolicy"))
	}
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(str(dig(m["ConfigMap"], "data", "config.yaml"))), &doc); err != nil {
		t.Fatal(err)
	}
	if str(dig(doc, "retention", "cs_sessions")) != "3" {
		t.Errorf("config.yaml retention %v: want cs_sessions 3 from values.config", dig(doc, "retention"))
	}
}
