package report

import (
	"fmt"
	"sort"
	"strings"
)

// The report's keys of the configuration (report.*, export.*) are checked
// here, where the metrics are defined, rather than in package config,
// which does not import the report: the commands that use them (report,
// export, config) call CheckSchemes and CheckExportDays at start. Errors
// name the key as the config package's do.

// CheckSchemes checks report.overview and report.schemes: each scheme a
// word other than overview, listing metrics, each once.
func CheckSchemes(overview []string, schemes map[string][]string) error {
	if err := CheckNames(overview); err != nil {
		return keyError("report.overview", "%v", err)
	}
	names := make([]string, 0, len(schemes))
	for name := range schemes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if name == "" || name == "overview" || strings.ContainsAny(name, " ,=") {
			return keyError("report.schemes."+name, "%q: a scheme name must be a word other than overview", name)
		}
		if err := CheckNames(schemes[name]); err != nil {
			return keyError("report.schemes."+name, "%v", err)
		}
	}
	return nil
}

// CheckExportDays checks export.default_days: 1..MaxExportDays.
func CheckExportDays(days int) error {
	if days < 1 || days > MaxExportDays {
		return keyError("export.default_days", "%d: must be 1..%d (an export covers at most %d days)", days, MaxExportDays, MaxExportDays)
	}
	return nil
}

func keyError(key, format string, args ...any) error {
	return fmt.Errorf("config key %s: %s", key, fmt.Sprintf(format, args...))
}
