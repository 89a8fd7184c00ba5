package metrics

import (
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/cspulse/cspulse/schemas"
)

// snapshotExclusive encodes the exclusive operator's whole state, for
// fullSnapshot (snapshot_test.go): what the changelog must hold.
func snapshotExclusive(x *exclusive, out StateSink) {
	for _, b := range x.buyers {
		out.Put(x.hashKey(keyXBuyer, b.key), x.encodeBuyer(b))
	}
	for _, c := range x.cells {
		out.Put(x.cellKey(c.key), x.encodeCols(c.v[:]))
	}
	for _, s := range x.stocks {
		out.Put(x.stockKey(s.key), x.encodeStock(s))
	}
	for k, r := range x.rels {
		out.Put(x.hashKey(keyXRel, k), x.encodeRel(r))
	}
	for k, d := range x.deposits {
		out.Put(x.hashKey(keyXDeposit, k), x.encodeDeposit(d))
	}
	if x.seen != math.MinInt64 {
		w := x.valueWriter()
		w.Int(x.seen)
		out.Put([]byte(keyXMeta), x.done(w))
	}
}

// TestExclusiveCheckpoints cuts the exclusive-customer scenario after
// every step, in file order and disordered (checkRestores: a restored
// engine emits the same rows as the original), and checks that the cuts
// met every kind of its state.
func TestExclusiveCheckpoints(t *testing.T) {
	sc := loadScenario(t, filepath.Join("testdata", "scenarios", "exclusive_customers"))
	every := make([]int, len(sc.steps)+1)
	for i := range every {
		every[i] = i
	}
	checkRestores(t, sc, sc.steps, true, every)
	seen := map[string]bool{}
	d := newDriver(t, sc, sc.steps, true)
	for i := range len(sc.steps) {
		d.run(i)
		log := changelog{}
		snapshotExclusive(d.e.excl, log)
		for k := range log {
			seen[k[:3]] = true
		}
	}
	for _, p := range []string{keyXRel, keyXBuyer, keyXCell, keyXStock, keyXMeta} {
		if !seen[p] {
			t.Errorf("no cut held a %q entry", p)
		}
	}
}

// TestExclusiveStateCovered lists every field of the operator's state as
// saved (exclusive_state.go), rebuilt by LoadDone, or transient.
func TestExclusiveStateCovered(t *testing.T) {
	saved, rebuilt, transient := "saved", "rebuilt", "transient"
	for typ, fields := range map[reflect.Type]map[string]string{
		reflect.TypeFor[exclusive](): {
			"sh": rebuilt, "logs": rebuilt, "rels": saved, "buyers": saved, "cells": saved, "stocks": saved, "deposits": saved,
			"seen": saved, "wake": rebuilt, "dirty": transient, "due": transient, "refreshes": transient,
			"scratch": transient, "keyBuf": transient, "ck": transient,
			"finalBucket": rebuilt, // the fold's guard: the next Advance folds again, a no-op
		},
		reflect.TypeFor[xbuyer](): {
			"key": saved, "shop": saved, "rels": saved, "marks": saved, "sessions": saved,
			"contrib": rebuilt, "queued": transient, "entryState": transient, "deleted": transient,
		},
		reflect.TypeFor[stock](): {
			"key": saved, "base": saved, "baseDay": saved, "lastDay": saved, "deltas": saved,
			"entryState": transient, "deleted": transient,
		},
		reflect.TypeFor[relation](): {"agent": saved, "accepted": saved},
		reflect.TypeFor[relEvent](): {"ts": saved, "hash": saved, "agent": saved, "kind": saved},
		reflect.TypeFor[mark]():     {"ts": saved, "hash": saved, "ref": saved, "amount": saved, "agent": saved, "kind": saved},
		reflect.TypeFor[xcell]():    {"key": saved, "v": saved, "cellStatus": transient},
	} {
		have := map[string]bool{}
		for f := range typ.Fields() {
			have[f.Name] = true
			if _, ok := fields[f.Name]; !ok {
				t.Errorf("%s.%s: new state? save it in exclusive_state.go or rebuild it in LoadDone, then list it here", typ.Name(), f.Name)
			}
		}
		for name := range fields {
			if !have[name] {
				t.Errorf("%s.%s is listed here but gone", typ.Name(), name)
			}
		}
	}
}

// TestRelationshipBytes measures the heap per folded exclusive
// relationship (SPEC §3.7: bounded, goal ≤ 64 B): n buyers accept an
// agent's invitation and the days become final, so that each is one slot
// of exclusive.rels.
func TestRelationshipBytes(t *testing.T) {
	n := 200_000
	if testing.Short() {
		n = 20_000
	}
	per := relationshipBytes(t, n)
	t.Logf("%.1f bytes per folded relationship (%d relationships)", per, n)
	if per > 64 {
		t.Errorf("%.1f bytes per relationship, goal ≤ 64", per)
	}
}

func relationshipBytes(t testing.TB, n int) float64 {
	t.Helper()
	e := NewEngine(benchSettings(t))
	start := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC).UnixMilli()
	ev := schemas.Event{Topic: schemas.TopicOutreach, Type: schemas.TypeAccepted, ShopID: []byte("shop1"), AgentID: []byte("a1")}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		ev.TS = start + int64(i)
		ev.EventID = fmt.Appendf(ev.EventID[:0], "e%d", i)
		ev.BuyerID = fmt.Appendf(ev.BuyerID[:0], "buyer_%d", i)
		if _, ok := e.Apply(&ev); !ok {
			t.Fatal("late")
		}
	}
	e.Advance(start + 3*24*hourMs) // the acceptances' day is final: folded
	e.flush(1, &nopSink{})
	runtime.GC()
	runtime.ReadMemStats(&after)
	if len(e.excl.rels) != n || len(e.excl.buyers) != 0 {
		t.Fatalf("%d relationships folded, %d buyers left", len(e.excl.rels), len(e.excl.buyers))
	}
	runtime.KeepAlive(e)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

// BenchmarkRelationshipBytes prints the bytes per folded relationship.
func BenchmarkRelationshipBytes(b *testing.B) {
	for range b.N {
		b.ReportMetric(relationshipBytes(b, 100_000), "B/relationship")
	}
}

// TestExclusiveStats: the gauges see the scenario's state, and the
// engine's ApproxBytes includes it.
func TestExclusiveStats(t *testing.T) {
	sc := loadScenario(t, filepath.Join("testdata", "scenarios", "exclusive_customers"))
	d := newDriver(t, sc, sc.steps, true)
	for i := range len(sc.steps) - 8 {
		d.run(i)
	}
	st := d.e.ExclusiveStats()
	if st.Buyers == 0 || st.Facts == 0 || st.Cells+st.Stocks == 0 || st.ApproxBytes <= 0 {
		t.Fatalf("ExclusiveStats = %+v, want buyers, facts and cells", st)
	}
	if d.e.Stats().ApproxBytes < st.ApproxBytes {
		t.Errorf("Stats().ApproxBytes %d does not include the exclusive operator's %d", d.e.Stats().ApproxBytes, st.ApproxBytes)
	}
}
