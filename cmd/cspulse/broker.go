package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cspulse/cspulse/config"
	"github.com/cspulse/cspulse/internal/broker"
)

func newBrokerCmd() *cobra.Command {
	var opts broker.Options
	var topics []string
	cmd := &cobra.Command{
		Use:   "broker",
		Short: "Run the embedded Kafka-protocol broker (franz-go kfake) as a process of its own",
		Long: "Runs a single-node Kafka-protocol broker for local development and tests\n" +
			"that stop the pipeline but not the broker. Any Kafka client (kcat, kgo, ...)\n" +
			"can use it. With --data-dir the log survives restarts.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Topics = topics
			b, err := broker.Start(opts)
			if err != nil {
				return err
			}
			defer b.Close()
			fmt.Printf("broker listening on %s\n", b.Addr())
			<-cmd.Context().Done()
			return nil
		},
	}
	cmd.Flags().StringVar(&opts.Listen, "listen", "127.0.0.1:19092", "host:port to listen on")
	cmd.Flags().StringVar(&opts.DataDir, "data-dir", "", "persist the log in this directory")
	cmd.Flags().IntVar(&opts.Partitions, "partitions", config.Defaults().Kafka.Partitions, "partitions of the topics it creates")
	cmd.Flags().StringSliceVar(&topics, "topics", config.Defaults().Topics.All(), "topics to create at start")
	return cmd
}
