package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
	"gopkg.in/yaml.v3"

	"github.com/cspulse/cspulse/config"
	"github.com/cspulse/cspulse/generator"
	"github.com/cspulse/cspulse/pipeline"
)

type genFlags struct {
	gen      generator.Config
	start    string
	outDir   string
	zonesOut string
	rate     float64
}

func newGenCmd() *cobra.Command {
	f := genFlags{gen: generator.DefaultConfig()}
	cmd := &cobra.Command{
		Use:   "gen",
		Short: "Generate realistic, seeded customer-service traffic to Kafka or to files",
		Example: "  cspulse gen --brokers 127.0.0.1:19092 --shops 20 --days 1\n" +
			"  cspulse gen --out-dir /tmp/day --shops 2 --sessions-per-shop-day 50",
	}
	fs := cmd.Flags()
	fs.Int64Var(&f.gen.Seed, "seed", f.gen.Seed, "random seed; the same flags give the same records")
	fs.IntVar(&f.gen.Shops, "shops", f.gen.Shops, "number of shops")
	fs.IntVar(&f.gen.AgentsPerShop, "agents", f.gen.AgentsPerShop, "agents per shop")
	fs.IntVar(&f.gen.Days, "days", f.gen.Days, "local days per shop")
	fs.StringVar(&f.start, "start", f.gen.Start.Format("2006-01-02"), "first local day, YYYY-MM-DD")
	fs.IntVar(&f.gen.SessionsPerShopDay, "sessions-per-shop-day", f.gen.SessionsPerShopDay, "average sessions per shop and day")
	fs.DurationVar(&f.gen.Disorder, "disorder", f.gen.Disorder, "max displacement from event-time order (< 10s)")
	fs.Float64Var(&f.gen.DuplicateRate, "duplicates", f.gen.DuplicateRate, "fraction of events delivered twice")
	fs.Float64Var(&f.gen.PoisonRate, "poison", f.gen.PoisonRate, "malformed records per valid record")
	fs.IntVar(&f.gen.SlipEvery, "slip-every", f.gen.SlipEvery, "shop-0003 and every N-th after it reply slowly 10:00-12:00 local on the first day, for alerts; 0 = none")
	fs.Float64Var(&f.rate, "rate", 0, "records per second; 0 = as fast as possible")
	fs.StringVar(&f.outDir, "out-dir", "", "write JSON lines per topic into this directory instead of Kafka")
	fs.StringVar(&f.zonesOut, "zones-out", "", "write the shops' time zones as a cspulse config file here")
	load := configFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		start, err := time.Parse("2006-01-02", f.start)
		if err != nil {
			return fmt.Errorf("--start %q: want YYYY-MM-DD", f.start)
		}
		f.gen.Start = start
		if err := f.gen.Validate(); err != nil {
			return err
		}
		if f.zonesOut != "" {
			if err := writeZones(f.zonesOut, f.gen.ShopZones()); err != nil {
				return err
			}
		}
		if f.outDir != "" {
			return genToFiles(cmd.Context(), f)
		}
		l, err := load()
		if err != nil {
			return err
		}
		return genToKafka(cmd.Context(), f, &l.Config)
	}
	return cmd
}

// writeZones writes time.shop_zones as a config file that `run --config` reads.
func writeZones(path string, zones map[string]string) error {
	out, err := yaml.Marshal(map[string]any{"time": map[string]any{"shop_zones": zones}})
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		return fmt.Errorf("--zones-out: %w", err)
	}
	return nil
}

func genToFiles(ctx context.Context, f genFlags) error {
	emit, closeFiles, err := generator.WriteFiles(f.outDir)
	if err != nil {
		return err
	}
	stats, err := generator.Generate(ctx, f.gen, paced(f.rate, emit))
	if cerr := closeFiles(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "generated %d records into %s\n", stats.Records, f.outDir)
	return nil
}

func genToKafka(ctx context.Context, f genFlags, cfg *config.Config) error {
	if err := cfg.RequireKafka(); err != nil {
		return err
	}
	brokers := cfg.Kafka.Brokers
	if len(brokers) == 0 {
		brokers = []string{cfg.Kafka.Embedded}
	}
	opts, err := pipeline.ClientOptions(cfg.Kafka, brokers)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg.Log)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()
	// Records go where kafka.partitioner says a shop's records are.
	partitioner, err := pipeline.ParsePartitioner(cfg.Kafka.Partitioner)
	if err != nil {
		return err
	}
	opts = append(opts, kgo.ProducerLinger(10*time.Millisecond), kgo.MaxBufferedRecords(1<<20),
		kgo.WithLogger(pipeline.KafkaLogger(log)), partitioner.ProducerOption())
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	if _, err := pipeline.EnsureTopics(ctx, cl, cfg.Topics, cfg.Kafka.Partitions); err != nil {
		return err
	}
	p := newProducer(cl, topicMap(cfg.Topics))
	stats, err := generator.Generate(ctx, f.gen, paced(f.rate, p.emit))
	if err != nil {
		return err
	}
	if err := p.flush(ctx); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "produced %d records to %v (%d duplicates, %d poison)\n", stats.Records, brokers, stats.Duplicates, stats.Poison)
	return nil
}

// topicMap maps the generator's default topic names to the configured
// ones; cs.outreach maps to "" when topics.outreach is off.
func topicMap(t config.Topics) map[string]string {
	d := config.Defaults().Topics
	return map[string]string{
		d.Sessions: t.Sessions, d.Transfers: t.Transfers, d.Messages: t.Messages,
		d.Evaluations: t.Evaluations, d.Orders: t.Orders, d.Outreach: t.Outreach,
	}
}

// producer copies each generated record (the generator reuses its buffers)
// and produces it asynchronously, keeping the first error.
type producer struct {
	cl     *kgo.Client
	topics map[string]string
	errc   chan error
}

func newProducer(cl *kgo.Client, topics map[string]string) *producer {
	return &producer{cl: cl, topics: topics, errc: make(chan error, 1)}
}

func (p *producer) emit(r *generator.Record) error {
	select {
	case err := <-p.errc:
		return err
	default:
	}
	topic := p.topics[r.Topic]
	if topic == "" {
		return nil // an optional topic that is off (topics.outreach "")
	}
	buf := make([]byte, len(r.Key)+len(r.Value))
	n := copy(buf, r.Key)
	copy(buf[n:], r.Value)
	rec := &kgo.Record{Topic: topic, Key: buf[:n:n], Value: buf[n:]}
	p.cl.Produce(context.Background(), rec, p.done)
	return nil
}

func (p *producer) done(_ *kgo.Record, err error) {
	if err != nil {
		select {
		case p.errc <- fmt.Errorf("produce: %w", err):
		default:
		}
	}
}

func (p *producer) flush(ctx context.Context) error {
	if err := p.cl.Flush(ctx); err != nil {
		return fmt.Errorf("flush producer: %w", err)
	}
	select {
	case err := <-p.errc:
		return err
	default:
		return nil
	}
}

// paced limits emit to rate records per second (0 = unlimited), sleeping
// every 1000 records rather than per record.
func paced(rate float64, emit func(*generator.Record) error) func(*generator.Record) error {
	if rate <= 0 {
		return emit
	}
	start, n := time.Now(), 0
	return func(r *generator.Record) error {
		n++
		if n%1000 == 0 {
			due := start.Add(time.Duration(float64(n) / rate * float64(time.Second)))
			time.Sleep(time.Until(due))
		}
		return emit(r)
	}
}
