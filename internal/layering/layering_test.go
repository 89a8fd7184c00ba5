package layering

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/cspulse/cspulse"

// rules: for each package, the packages (and the trees below them) it
// must not depend on, directly or through anything it imports; tests
// excluded.
var rules = []struct {
	pkg       string
	forbidden []string
	why       string
}{
	{
		pkg: module + "/metrics",
		forbidden: []string{module + "/pipeline", module + "/sinks", module + "/config", module + "/report",
			module + "/web", "github.com/twmb/franz-go", "github.com/ClickHouse"},
		why: "the metric core is pure event-time logic: no Kafka, no ClickHouse, no configuration",
	},
	{
		pkg:       module + "/config",
		forbidden: []string{module + "/report", module + "/web", module + "/sinks", module + "/pipeline"},
		why:       "the configuration sits below what it configures: the report checks its own keys (report.CheckSchemes)",
	},
	{pkg: module + "/eventtime", forbidden: []string{module}, why: "the event-time machinery sits below everything"},
	{pkg: module + "/tables", forbidden: []string{module}, why: "the table definitions are a leaf the core and the sinks share"},
	{pkg: module + "/metrics/statecodec", forbidden: []string{module}, why: "the changelog values' codec is a leaf the core's families share"},
	{
		pkg:       module + "/sinks",
		forbidden: []string{module + "/pipeline", module + "/config", "github.com/twmb/franz-go"},
		why:       "the sinks write ClickHouse; Kafka is the runtime's",
	},
	{
		pkg:       module + "/schemas",
		forbidden: []string{module + "/pipeline", module + "/sinks", module + "/config", "github.com/twmb/franz-go", "github.com/ClickHouse"},
		why:       "decoding knows events, not their transport or their store",
	},
}

func TestDependenciesFlowOneWay(t *testing.T) {
	for _, r := range rules {
		for _, dep := range violations(t, r.pkg, r.forbidden) {
			t.Errorf("%s depends on %s: %s", r.pkg, dep, r.why)
		}
	}
}

// TestViolationsAreFound: the checker sees a dependency that exists (the
// ClickHouse writer uses the ClickHouse driver), so a green layering test
// means something.
func TestViolationsAreFound(t *testing.T) {
	if v := violations(t, module+"/sinks", []string{"github.com/ClickHouse"}); len(v) == 0 {
		t.Error("sinks shows no dependency on the ClickHouse driver")
	}
}

// violations lists the dependencies of pkg inside the forbidden trees.
func violations(t *testing.T, pkg string, forbidden []string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	var found []string
	for _, dep := range strings.Fields(string(out)) {
		if dep == pkg {
			continue
		}
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, f+"/") {
				found = append(found, dep)
				break
			}
		}
	}
	return found
}
