// Command cspulse computes customer-service metrics from Kafka event
// streams into ClickHouse. Subcommands: run, broker, gen, report, export,
// config, retention, serve.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/cspulse/cspulse/config"
	"github.com/cspulse/cspulse/report"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "cspulse:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "cspulse",
		Short:         "Customer-service metrics from Kafka event streams into ClickHouse",
		Version:       buildVersion(),
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
	}
	root.SetVersionTemplate("cspulse {{.Version}} (" + runtime.Version() + ")\n")
	root.AddCommand(newRunCmd(), newBrokerCmd(), newGenCmd(), newReportCmd(), newExportCmd(), newConfigCmd(), newBenchConsumeCmd(),
		newRetentionCmd(), newServeCmd())
	for _, c := range root.Commands() {
		c.Args = cobra.NoArgs // a stray word is a mistake, not something to ignore
	}
	return root
}

// version is set at build time: go build -ldflags "-X main.version=v1.2.3"
// (make build does). Empty: buildVersion asks the Go build info.
var version string

// buildVersion is the -ldflags version, else the module version or VCS
// revision Go recorded in the binary, else "devel".
func buildVersion() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return "devel"
	}
	return "devel-" + rev + dirty
}

// configFlags adds --config and one flag per config key to cmd, and returns
// a loader that merges defaults, file, environment and flags.
func configFlags(cmd *cobra.Command) func() (*config.Loaded, error) {
	var path string
	cmd.Flags().StringVarP(&path, "config", "c", "", "YAML config file (see: cspulse config --defaults)")
	if err := config.RegisterFlags(cmd.Flags()); err != nil {
		panic(err) // the embedded defaults are broken: a build error, not a user error
	}
	return func() (*config.Loaded, error) {
		return config.Load(path, nil, cmd.Flags())
	}
}

// withReportKeys is load that also checks report.* and export.*, which
// the report package owns (config does not import it): for the commands
// that build reports and exports, and for `cspulse config`, which shows
// the whole configuration.
func withReportKeys(load func() (*config.Loaded, error)) func() (*config.Loaded, error) {
	return func() (*config.Loaded, error) {
		l, err := load()
		if err != nil {
			return nil, err
		}
		if err := report.CheckSchemes(l.Config.Report.Overview, l.Config.Report.Schemes); err != nil {
			return nil, err
		}
		if err := report.CheckExportDays(l.Config.Export.DefaultDays); err != nil {
			return nil, err
		}
		return l, nil
	}
}

// newLogger builds the zap logger that log.level and log.format describe.
// Console logs are coloured only on a terminal; JSON logs carry ISO-8601
// timestamps.
func newLogger(c config.Log) (*zap.Logger, error) {
	zc := zap.NewProductionConfig()
	zc.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	zc.EncoderConfig.TimeKey = "time"
	if c.Format == "console" {
		zc = zap.NewDevelopmentConfig()
		zc.EncoderConfig.EncodeLevel = zapcore.CapitalLevelEncoder
		if isTerminal(os.Stderr) && isTerminal(os.Stdout) {
			zc.EncoderConfig.EncodeLevel = zapcore.CapitalColorLevelEncoder
		}
		zc.DisableStacktrace = true
	}
	lvl, err := zapcore.ParseLevel(c.Level)
	if err != nil {
		return nil, fmt.Errorf("config key log.level: %w", err)
	}
	zc.Level = zap.NewAtomicLevelAt(lvl)
	zc.OutputPaths = []string{"stderr"}
	return zc.Build()
}

// isTerminal is true when f is a character device (a terminal), not a
// file or pipe.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
