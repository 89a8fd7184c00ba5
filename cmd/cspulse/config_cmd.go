package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/cspulse/cspulse/config"
)

func newConfigCmd() *cobra.Command {
	var defaults bool
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Print the effective configuration (defaults < file < CSPULSE_* env < flags)",
	}
	cmd.Flags().BoolVar(&defaults, "defaults", false, "print the documented defaults instead")
	load := withReportKeys(configFlags(cmd))
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if defaults {
			_, err := os.Stdout.Write(config.DefaultsYAML)
			return err
		}
		l, err := load()
		if err != nil {
			return err
		}
		for _, w := range l.Warnings {
			fmt.Fprintln(os.Stderr, "warning:", w)
		}
		out, err := l.YAML()
		if err != nil {
			return err
		}
		_, err = os.Stdout.Write(out)
		return err
	}
	return cmd
}
