package pipeline

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/plugin/kprom"
)

// Register exposes the runner's counters on reg, the ClickHouse writer's
// insert counts when it keeps them, and the Kafka consumer's client
// metrics (franz-go's kprom, cspulse_kafka_*) once Run connects.
func (r *Runner) Register(reg prometheus.Registerer) error {
	if w, ok := r.writer.(interface{ InsertCounts() (int64, int64) }); ok {
		r.stats.insertCounts = w.InsertCounts
	}
	r.kafkaMetrics = kprom.NewMetrics("cspulse", kprom.Subsystem("kafka"), kprom.Registerer(reg))
	return r.stats.register(reg, r.cfg.Topics.Inputs())
}
