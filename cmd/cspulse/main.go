// Command cspulse computes customer-service metrics from Kafka event
// streams into ClickHouse. Subcommands: run, broker, gen, report, config.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/cspulse/cspulse/config"
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
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newRunCmd(), newBrokerCmd(), newGenCmd(), newReportCmd(), newConfigCmd(), newBenchConsumeCmd())
	return root
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

// newLogger builds the zap logger that log.level and log.format describe.
func newLogger(c config.Log) (*zap.Logger, error) {
	zc := zap.NewProductionConfig()
	if c.Format == "console" {
		zc = zap.NewDevelopmentConfig()
		zc.EncoderConfig.EncodeLevel = zapcore.CapitalColorLevelEncoder
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
