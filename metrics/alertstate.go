package metrics

import (
	"bytes"
	"cmp"
	"errors"
	"slices"
	"strings"
)

// The alerts' state entries (snapshot.go describes the contract):
//
//	fa/ str(shop) str(group) str(agent) hour   a figure copy: uvarint n, n × varint
//	al/ str(shop)                              a shop: varint next, evaluatedTo,
//	                                           floor; uvarint n, n × (str rule,
//	                                           byte scope kind, str scope id)
//	                                           of the scopes in breach
//	al.meta                                    varint minTS, maxTS
//
// The running sums are not saved: LoadDone adds them up again from the
// copies, over each shop's windows ending at its last evaluated hour. A
// breach of a rule no longer configured is dropped at load.
const (
	keyFigure    = "fa/"
	keyAlertShop = "al/"
	keyAlertMeta = "al.meta"
)

func (a *alerts) saveChanged(out StateSink) {
	e := a.e
	ck := &e.ckpt
	f := e.fig
	f.changed.save(out,
		func(fc *figCell) []byte { return figKey(e, &ck.enc, fc.key) },
		func(fc *figCell) []byte { return ck.enc.values(figCols(&fc.v)) })
	a.changed.save(out, a.shopKey, a.shopValue)
	if a.metaChg {
		w := writer{B: []byte{stateVersion}}
		w.Int(a.minTS)
		w.Int(a.maxTS)
		out.Put([]byte(keyAlertMeta), w.B)
		a.metaChg = false
	}
}

// trackAll lists all of the alerts' state for an engine's first save.
func (a *alerts) trackAll() {
	for _, fc := range a.e.fig.cells {
		a.e.fig.changed.add(fc)
	}
	for _, s := range a.shops {
		if s != nil {
			a.changed.add(s)
		}
	}
	a.metaChg = true
}

func figKey(e *Engine, enc *encoder, k agentKey) []byte { return enc.agentKeyAs(keyFigure, e, k) }

func (a *alerts) shopKey(s *alertShop) []byte {
	w := writer{B: []byte(keyAlertShop)}
	w.Str(a.e.shopIDs.name(s.shop))
	return w.B
}

func (a *alerts) shopValue(s *alertShop) []byte {
	w := writer{B: []byte{stateVersion}}
	w.Int(s.next)
	w.Int(s.evaluatedTo)
	w.Int(s.floor)
	type saved struct {
		rule int
		kind uint8
		id   string
	}
	var list []saved // sorted: the same state gives the same bytes
	for bk := range s.breach {
		list = append(list, saved{bk.rule, bk.scope.kind, a.scopeName(s.shop, bk.scope)})
	}
	slices.SortFunc(list, func(x, y saved) int {
		if x.rule != y.rule || x.kind != y.kind {
			return cmp.Or(cmp.Compare(x.rule, y.rule), cmp.Compare(x.kind, y.kind))
		}
		return strings.Compare(x.id, y.id)
	})
	w.Uint(uint64(len(list)))
	for _, b := range list {
		w.Str(a.rules[b.rule].Name)
		w.Byte(b.kind)
		w.Str(b.id)
	}
	return w.B
}

// load takes one of the alerts' entries; false when key is not theirs.
func (a *alerts) load(key, value []byte) (bool, error) {
	e := a.e
	switch {
	case bytes.HasPrefix(key, []byte(keyFigure)):
		k, err := e.ckpt.dec.agentKey(e, key[len(keyFigure):])
		if err != nil {
			return true, err
		}
		if e.fig.cells[k] != nil {
			return true, errors.New("loaded twice")
		}
		fc := e.fig.add(k)
		fc.saved = true
		return true, e.ckpt.dec.values(value, figCols(&fc.v))
	case bytes.HasPrefix(key, []byte(keyAlertShop)):
		return true, a.loadShop(key[len(keyAlertShop):], value)
	case string(key) == keyAlertMeta:
		r := e.ckpt.dec.start(value)
		readVersion(r)
		a.minTS, a.maxTS = r.Int(), r.Int()
		return true, r.Done()
	}
	return false, nil
}

func (a *alerts) loadShop(key, value []byte) error {
	e := a.e
	r := e.ckpt.dec.start(key)
	shop, _ := e.shop(r.Bytes())
	if err := r.Done(); err != nil {
		return err
	}
	s := a.shopState(shop)
	s.changed, s.saved = false, true
	r = e.ckpt.dec.start(value)
	readVersion(r)
	s.next, s.evaluatedTo, s.floor = r.Int(), r.Int(), r.Int()
	n := r.Count()
	for range n {
		rule := string(r.Bytes())
		kind := r.Byte()
		id := r.Bytes()
		ri := a.ruleIndex(rule, kind)
		if ri < 0 {
			continue // the rule is gone or changed its scope
		}
		sk := scopeKey{kind: kind}
		if kind != scopeShopKind {
			sk.id = e.names.id(id)
		}
		s.breach[breachKey{ri, sk}] = true
	}
	return r.Done()
}

func (a *alerts) ruleIndex(name string, kind uint8) int {
	for i := range a.rules {
		if a.rules[i].Name == name && a.rules[i].scope == kind {
			return i
		}
	}
	return -1
}

// loadDone adds the running sums up again from the copies.
func (a *alerts) loadDone() error {
	for _, s := range a.shops {
		if s == nil || s.evaluatedTo == 0 {
			continue
		}
		z := a.e.shopZones[s.shop]
		for wi, w := range a.windows {
			a.addHours(s, wi, w.start(z, s.evaluatedTo), s.evaluatedTo, 1)
		}
	}
	return nil
}
