package metrics

import (
	"time"

	"github.com/cspulse/cspulse/eventtime"
)

// DefaultSettings are the engine settings of config/defaults.yaml (the
// only place defaults live), written out for the tests of this package,
// which must not import config; TestDefaultSettingsAreTheConfigs keeps
// the two equal.
func DefaultSettings(zones *eventtime.ZoneSet) Settings {
	return Settings{
		Zones:             zones,
		AllowedLateness:   time.Hour,
		SessionTimeout:    30 * time.Minute,
		RatingWindow:      24 * time.Hour,
		WindowStartMin:    8 * 60,
		WindowEndMin:      23 * 60,
		ReplyWithin:       3 * time.Minute,
		SatisfiedMinScore: 4,
		Attribution: Attribution{
			Rule:      RuleOrderFirst,
			ValidDays: 2,
			PayWindow: 72 * time.Hour,
		},
	}
}
