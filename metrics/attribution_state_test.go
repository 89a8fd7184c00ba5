package metrics

import (
	"cmp"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// snapshotOperators encodes everything the attribution and robot
// operators hold, as their first SaveChanged would (snapshot_test.go's
// fullSnapshot adds it to the engine's).
func snapshotOperators(e *Engine, out StateSink) {
	a := e.attr
	for _, b := range a.buyers {
		out.Put(a.entityKey(keyBuyer, b.key), a.encodeBuyer(b))
	}
	for _, o := range a.orders {
		out.Put(a.entityKey(keyOrder, o.key), a.encodeOrder(o))
	}
	for _, c := range a.cells {
		out.Put(a.cellKey(c.key), encodeValues(&a.ck.val, c.v[:]))
	}
	if m := a.metaNow(); m != newAttribution(&e.shared, e, e.lim.lateness, &Attribution{Rule: RuleOrderFirst, ValidDays: 1, PayWindow: time.Hour}).metaNow() {
		out.Put([]byte(keyAttrMeta), a.encodeMeta(m))
	}
	r := e.robots
	for _, c := range r.cells {
		out.Put(r.cellKey(c.key), encodeValues(&r.ck.val, []int64{c.calls, c.connected}))
	}
	snapshotExclusive(e.excl, out) // exclusive_state_test.go
	if al := e.alerts; al != nil {
		var enc encoder
		for _, fc := range e.fig.cells {
			out.Put(figKey(e, &enc, fc.key), enc.values(fc.v[:]))
		}
		for _, s := range al.shops {
			if s != nil {
				out.Put(al.shopKey(s), al.shopValue(s))
			}
		}
		w := writer{B: []byte{stateVersion}}
		w.Int(al.minTS)
		w.Int(al.maxTS)
		out.Put([]byte(keyAlertMeta), w.B)
	}
	if rk := e.ranks; rk != nil {
		for _, rd := range rk.days {
			out.Put(rk.dayKey(rd.shopDay), rk.dayValue(rd))
			for _, b := range rd.buyers {
				out.Put(rk.buyerKey(rd.shopDay, b.buyer), rk.buyerValue(b))
			}
		}
	}
}

// TestAttributionCheckpoints cuts the attribution scenarios, under every
// rule, after every step, in file order and shuffled (checkRestores,
// snapshot_test.go: a restored engine emits the same rows and listener
// calls as the original, and its changelog ends empty). It also checks
// that the cuts did meet the operators' state: buyers, held and unpaid
// orders, inquiry-day and robot cells, and the horizon.
func TestAttributionCheckpoints(t *testing.T) {
	seen := map[string]bool{}
	for _, name := range []string{"rules_differ", "validity_days", "late_inquiry", "robot_intents", "sales_sum_to_shop_total", "validity_dst"} {
		for _, sc := range scenarioVariants(t, filepath.Join("testdata", "scenarios", name)) {
			t.Run(sc.name, func(t *testing.T) {
				every := make([]int, len(sc.steps)+1)
				for i := range every {
					every[i] = i
				}
				checkRestores(t, sc, sc.steps, true, every)
				shuffled := slices.Clone(sc.steps)
				rand.New(rand.NewPCG(9, 9)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
				checkRestores(t, sc, shuffled, false, every)
				d, log := newDriver(t, sc, sc.steps, true), changelog{}
				for i := range len(sc.steps) {
					d.run(i)
					d.e.saveChanged(log)
					for k := range log {
						seen[k[:min(len(k), 2)]] = true
					}
					if st := d.e.AttributionStats(); st.HeldHours > 0 && st.UnpaidOrders > 0 {
						seen["held and unpaid"] = true
					}
				}
			})
		}
	}
	for _, kind := range []string{"b/", "o/", "iq", "at", "rb", "held and unpaid"} {
		if !seen[kind] {
			t.Errorf("no cut held %q", kind)
		}
	}
}

// TestAttributionStateCovered lists every field of the operators' state
// as saved (attrstate.go), rebuilt by LoadDone, or transient: a new field
// fails here until it is one of them.
func TestAttributionStateCovered(t *testing.T) {
	saved, rebuilt, transient := "saved", "rebuilt", "transient"
	ck := map[string]string{"entryState": transient, "deleted": transient}
	with := func(base map[string]string, more map[string]string) map[string]string {
		out := maps.Clone(base)
		maps.Copy(out, more)
		return out
	}
	for typ, fields := range map[reflect.Type]map[string]string{
		reflect.TypeFor[attribution](): {
			"sh": rebuilt, "core": rebuilt, "lateness": rebuilt, "defRule": rebuilt, "shopRules": rebuilt, "rules": rebuilt, "validDays": rebuilt, "payWindow": rebuilt, // Settings
			"buyers": saved, "orders": saved, "cells": saved,
			"settled": saved, "heldHour": saved, "sweptTo": saved,
			"buyerWakes": rebuilt, "orderWakes": rebuilt, "held": rebuilt, "now": rebuilt,
			"deferring": transient, "heardAt": transient, "deferred": transient, // inside Advance only
			"dirty": transient, "keyBuf": transient, "ck": transient, "stats": transient,
		},
		reflect.TypeFor[buyer](): with(ck, map[string]string{
			"key": saved, "inqs": saved, "cells": saved,
			"shop": rebuilt, "zone": rebuilt, "orders": rebuilt, "slot": rebuilt,
			"inqBuf": transient, "cellBuf": transient,
		}),
		reflect.TypeFor[inquiry]():   {"at": saved, "agent": saved, "group": saved, "n": saved, "until": rebuilt, "day": rebuilt},
		reflect.TypeFor[buyerCell](): {"agent": saved, "day": saved, "inquiries": saved, "ordered": saved, "paid": saved, "amount": saved, "until": rebuilt},
		reflect.TypeFor[order](): with(ck, map[string]string{
			"key": saved, "created": saved, "paid": saved, "orderRef": saved, "payRef": saved,
			"orderSet": saved, "paySet": saved, "sale": saved, "part": saved,
			"shop": rebuilt, "slot": rebuilt, "heldSlot": rebuilt,
		}),
		reflect.TypeFor[orderEvent](): {"ts": saved, "amount": saved, "hash": saved, "buyer": saved},
		reflect.TypeFor[inqRef]():     {"at": saved, "agent": saved, "group": saved, "ok": saved, "until": rebuilt, "day": rebuilt},
		reflect.TypeFor[sale]():       {"ts": saved, "amount": saved, "agent": saved, "group": saved, "on": saved},
		reflect.TypeFor[part]():       {"amount": saved, "buyer": saved, "agent": saved, "day": saved, "paid": saved},
		reflect.TypeFor[inqCell]():    {"key": saved, "v": saved, "until": rebuilt, "cellStatus": transient},
		reflect.TypeFor[robots]():     {"sh": rebuilt, "cells": saved, "dirty": transient, "sweptTo": transient, "ck": transient, "stats": transient},
		reflect.TypeFor[robotCell]():  {"key": saved, "calls": saved, "connected": saved, "cellStatus": transient},
	} {
		have := map[string]bool{}
		for f := range typ.Fields() {
			have[f.Name] = true
			if _, ok := fields[f.Name]; !ok {
				t.Errorf("%s.%s: new state? save it in attrstate.go or rebuild it in LoadDone, then list it here", typ.Name(), f.Name)
			}
		}
		for name := range fields {
			if !have[name] {
				t.Errorf("%s.%s is listed here but gone", typ.Name(), name)
			}
		}
	}
}

// TestWakeHeap checks the heap against a sorted list under random
// scheduling, rescheduling and removal. Times are drawn from a small
// range so that many entities are due at the same time.
func TestWakeHeap(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	var h wakeHeap[*order]
	orders := make([]*order, 200)
	at := map[*order]int64{}
	for i := range orders {
		orders[i] = &order{key: fmt.Sprintf("o%03d", i)}
	}
	for range 5000 {
		o := orders[rng.IntN(len(orders))]
		switch r := rng.IntN(10); {
		case r < 6:
			t := rng.Int64N(100)
			h.set(o, t)
			at[o] = t
		case r < 8:
			h.remove(o)
			delete(at, o)
		case len(at) > 0:
			want := slices.SortedFunc(maps.Keys(at), func(x, y *order) int {
				return cmp.Or(cmp.Compare(at[x], at[y]), cmp.Compare(wakeTie(x.key), wakeTie(y.key)), strings.Compare(x.key, y.key))
			})[0]
			if got := h.pop(); got != want {
				t.Fatalf("pop %s at %d, want %s at %d", got.key, at[got], want.key, at[want])
			}
			delete(at, want)
		}
		if len(h.items) != len(at) {
			t.Fatalf("%d items for %d scheduled", len(h.items), len(at))
		}
	}
}
