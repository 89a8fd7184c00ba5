package pipeline

import (
	"fmt"
	"github.com/cspulse/cspulse/config"
	"github.com/cspulse/cspulse/eventtime"
	"github.com/cspulse/cspulse/metrics"
	"github.com/cspulse/cspulse/sinks"
)

// Engines is what the runner gives each task besides its Kafka plumbing:
// a new metric engine for its partition, and the checks on its input
// records.
type Engines struct {
	New    EngineFactory
	Checks InputChecks
}

// NewEngines builds the metric engine of each task from the config.
// Zones cache their current hour and are not safe for concurrent use, so
// every engine gets its own clone of the zone set. Its tasks check
// time.max_future but not co-partitioning, which needs the input topics'
// partition count: NewEnginesFor does both.
func NewEngines(cfg *config.Config) (Engines, error) {
	return NewEnginesFor(cfg, 0)
}

// NewEnginesFor is NewEngines for input topics of partitions partitions
// (EnsureTopics' answer): its tasks also check that each record is on the
// partition its key maps to under kafka.partitioner (SPEC §2).
func NewEnginesFor(cfg *config.Config, partitions int32) (Engines, error) {
	checks, err := InputChecksFor(cfg, partitions)
	if err != nil {
		return Engines{}, err
	}
	zones, err := eventtime.NewZoneSet(cfg.Time.DefaultZone, cfg.Time.ShopZones)
	if err != nil {
		return Engines{}, err
	}
	settings, err := operatorSettings(cfg)
	if err != nil {
		return Engines{}, err
	}
	return Engines{
		New: func(int32) Engine {
			s := settings
			s.Zones = zones.Clone()
			return metrics.NewEngine(s)
		},
		Checks: checks,
	}, nil
}

func operatorSettings(cfg *config.Config) (metrics.Settings, error) {
	start, err := config.ParseClock(cfg.Metrics.WindowStart)
	if err != nil {
		return metrics.Settings{}, err
	}
	end, err := config.ParseClock(cfg.Metrics.WindowEnd)
	if err != nil {
		return metrics.Settings{}, err
	}
	rules, err := alertRules(cfg.Alerts.Rules)
	if err != nil {
		return metrics.Settings{}, err
	}
	f := cfg.Filters
	return metrics.Settings{
		Alerts:            rules,
		Rankings:          cfg.Rankings.Enabled,
		AllowedLateness:   cfg.Time.AllowedLateness,
		SessionTimeout:    cfg.Time.SessionTimeout,
		RatingWindow:      cfg.Time.RatingWindow,
		WindowStartMin:    start,
		WindowEndMin:      end,
		ReplyWithin:       cfg.Metrics.ReplyWithin,
		SatisfiedMinScore: cfg.Metrics.SatisfiedMinScore,
		Filters: metrics.Filters{
			Adverts: f.Adverts, BuyerIDs: f.BuyerIDs, AgentIDs: f.AgentIDs,
			AgentSingleSentence: f.AgentSingleSentence, Monologue: f.Monologue,
		},
		Attribution: attributionSettings(&cfg.Metrics),
	}, nil
}

// alertRules maps alerts.rules (SPEC §4.2); an invalid rule is an error
// naming it, so the process stops at start.
func alertRules(cfgRules []config.AlertRule) ([]metrics.AlertRule, error) {
	var rules []metrics.AlertRule
	names := map[string]bool{}
	for i, c := range cfgRules {
		r := metrics.AlertRule{
			Name: c.Name, Metric: c.Metric, Scope: c.Scope, WindowDays: c.Days,
			Threshold: c.Threshold, Direction: c.Direction, MinSample: c.MinSample,
		}
		switch c.Window {
		case "rolling":
		case "week":
			r.Week = true
			if c.Days != 0 {
				return nil, fmt.Errorf("alerts.rules[%d] (%s): days %d: only a rolling window has days", i, c.Name, c.Days)
			}
		default:
			return nil, fmt.Errorf("alerts.rules[%d] (%s): window %q: not rolling or week", i, c.Name, c.Window)
		}
		if len(c.Shops) > 0 {
			r.Shops = make(map[string]metrics.AlertOverride, len(c.Shops))
			for shop, o := range c.Shops {
				r.Shops[shop] = metrics.AlertOverride{Off: o.Off, Threshold: o.Threshold, MinSample: o.MinSample}
			}
		}
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("alerts.rules[%d] (%s): %w", i, c.Name, err)
		}
		if names[c.Name] {
			return nil, fmt.Errorf("alerts.rules[%d] (%s): name: another rule has it", i, c.Name)
		}
		names[c.Name] = true
		rules = append(rules, r)
	}
	return rules, nil
}

// attributionSettings maps metrics.attribution_rule,
// metrics.shop_attribution_rules and metrics.inquiry_valid_days (SPEC
// §3.4), which config validation has checked.
func attributionSettings(m *config.Metrics) metrics.Attribution {
	shops := make(map[string]metrics.AttributionRule, len(m.ShopAttributionRules))
	for shop, rule := range m.ShopAttributionRules {
		shops[shop] = metrics.AttributionRule(rule)
	}
	return metrics.Attribution{
		Rule:      metrics.AttributionRule(m.AttributionRule),
		ShopRules: shops,
		ValidDays: m.InquiryValidDays,
		PayWindow: m.OrderPayWindow,
	}
}

// ClickHouseConfig is the ClickHouse writer's configuration from the
// clickhouse.* keys; the password is revealed here, and TLS files are
// read (an error names clickhouse.tls.*).
func ClickHouseConfig(c config.ClickHouse) (sinks.ClickHouseConfig, error) {
	sc := sinks.ClickHouseConfig{
		Addr: c.Addr, Database: c.Database, User: c.User, Password: c.Password.Reveal(),
		DialTimeout: c.DialTimeout, MaxBatchRows: c.BatchRows,
		Retry:   sinks.RetryConfig{MaxElapsed: c.RetryMaxElapsed},
		Cluster: c.Cluster, Replicated: c.Replicated,
	}
	if c.TLS.Enabled {
		tc, err := c.TLS.Build("clickhouse.tls")
		if err != nil {
			return sc, err
		}
		sc.TLS = tc
	}
	return sc, nil
}
