package generator

import (
	"errors"
	"testing"

	"github.com/cspulse/cspulse/schemas"
)

// The pipeline's own decoder accepts every generated record and rejects
// every poison record with the reason it was made for.
func TestRecordsPassTheSchemasDecoder(t *testing.T) {
	cfg := testConfig(4, 800, 2)
	cfg.DuplicateRate, cfg.PoisonRate = 0.01, 0.02
	dec := schemas.NewDecoder()
	var ev schemas.Event
	rejected := map[schemas.Reason]int64{}
	st := generate(t, cfg, func(r *Record) {
		err := dec.Decode(r.Kind, r.Key, r.Value, &ev)
		if r.Poison == "" {
			if err != nil {
				t.Fatalf("decoder rejects a valid record: %v\n%s", err, r.Value)
			}
			if ev.TS != r.TS || string(ev.ShopID) != string(r.Key) {
				t.Fatalf("decoded ts %d shop %q, record says %d %q", ev.TS, ev.ShopID, r.TS, r.Key)
			}
			return
		}
		var de *schemas.DecodeError
		if !errors.As(err, &de) {
			t.Fatalf("poison %s: decoder says %v\n%s", r.Poison, err, r.Value)
		}
		if de.Reason != r.Poison {
			t.Fatalf("poison made for %s rejected as %s (%v)\n%s", r.Poison, de.Reason, de, r.Value)
		}
		rejected[de.Reason]++
	})
	for reason, n := range st.PoisonByReason {
		if rejected[reason] != n {
			t.Errorf("%s: %d made, %d rejected", reason, n, rejected[reason])
		}
	}
}
