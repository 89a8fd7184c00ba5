package metrics

import (
	"bytes"
	"cmp"
	"errors"
	"slices"

	"github.com/cspulse/cspulse/eventtime"
)

// The rankings' state entries (snapshot.go describes the contract):
//
//	rk/ str(shop) varint(day)              a day: uvarint n, n × (byte shop
//	                                       ranking, str group, str agent,
//	                                       varint sessions, pairs, pairsOK,
//	                                       ratings, satisfied, byte ranked)
//	rkb/ str(shop) varint(day) str(buyer)  a buyer's receptions that day:
//	                                       uvarint n, n × (byte shop ranking,
//	                                       str group, str agent, varint count)
//
// Received buyers are not saved: LoadDone counts them from the buyers.
const (
	keyRankDay   = "rk/"
	keyRankBuyer = "rkb/"
)

func (r *rankings) saveChanged(out StateSink) {
	r.changed.save(out, func(rd *rankDay) []byte { return r.dayKey(rd.shopDay) }, r.dayValue)
	r.buyers.save(out, func(b *rankBuyer) []byte { return r.buyerKey(b.day.shopDay, b.buyer) }, r.buyerValue)
}

// trackAll lists everything for an engine's first save. Unconditionally:
// before tracking began, a change set the flags without listing.
func (r *rankings) trackAll() {
	for _, rd := range r.days {
		r.changed.add(rd)
		for _, b := range rd.buyers {
			r.buyers.add(b)
		}
	}
}

// dayKey is a day's key.
func (r *rankings) dayKey(k shopDay) []byte {
	w := writer{B: []byte(keyRankDay)}
	w.Str(r.e.shopIDs.name(k.shop))
	w.Int(int64(k.day))
	return w.B
}

// buyerKey is the key of a buyer's receptions of a day (the buyer id of a
// session whose `started` never came is "").
func (r *rankings) buyerKey(k shopDay, buyer string) []byte {
	w := writer{B: []byte(keyRankBuyer)}
	w.Str(r.e.shopIDs.name(k.shop))
	w.Int(int64(k.day))
	w.Str(buyer)
	return w.B
}

// sortedKeys orders ranking keys by names, so that the same state gives
// the same bytes.
func (r *rankings) sortedKeys(keys []rankKey) []rankKey {
	slices.SortFunc(keys, func(x, y rankKey) int {
		if x.shop != y.shop {
			return int(boolByte(y.shop)) - int(boolByte(x.shop))
		}
		if c := cmp.Compare(r.e.names.name(x.group), r.e.names.name(y.group)); c != 0 {
			return c
		}
		return cmp.Compare(r.e.names.name(x.agent), r.e.names.name(y.agent))
	})
	return keys
}

func (r *rankings) writeKey(w *writer, k rankKey) {
	w.Byte(boolByte(k.shop))
	w.Str(r.e.names.name(k.group))
	w.Str(r.e.names.name(k.agent))
}

func (r *rankings) dayValue(rd *rankDay) []byte {
	w := writer{B: []byte{stateVersion}}
	keys := make([]rankKey, 0, len(rd.agents))
	for k := range rd.agents {
		keys = append(keys, k)
	}
	w.Uint(uint64(len(keys)))
	for _, k := range r.sortedKeys(keys) {
		f := rd.agents[k]
		r.writeKey(&w, k)
		for _, v := range [...]int64{f.sessions, f.pairs, f.pairsOK, f.ratings, f.satisfy} {
			w.Int(v)
		}
		w.Bool(f.ranked)
	}
	return w.B
}

func (r *rankings) buyerValue(b *rankBuyer) []byte {
	w := writer{B: []byte{stateVersion}}
	keys := make([]rankKey, 0, len(b.counts))
	for _, c := range b.counts {
		keys = append(keys, c.key)
	}
	w.Uint(uint64(len(keys)))
	for _, k := range r.sortedKeys(keys) {
		r.writeKey(&w, k)
		n, _ := b.count(k)
		w.Int(n)
	}
	return w.B
}

// load takes one of the rankings' entries; false when key is not theirs.
func (r *rankings) load(key, value []byte) (bool, error) {
	var buyer bool
	switch {
	case bytes.HasPrefix(key, []byte(keyRankBuyer)):
		key, buyer = key[len(keyRankBuyer):], true
	case bytes.HasPrefix(key, []byte(keyRankDay)):
		key = key[len(keyRankDay):]
	default:
		return false, nil
	}
	e := r.e
	kr := e.ckpt.dec.start(key)
	shop, _ := e.shop(kr.Bytes())
	day := eventtime.Date(kr.Int())
	name := ""
	if buyer {
		name = string(kr.Bytes())
	}
	if err := kr.Done(); err != nil {
		return true, err
	}
	rd := r.day(shop, day)
	rd.saved = true
	vr := e.ckpt.dec.start(value)
	readVersion(vr)
	n := vr.Count()
	if buyer {
		if rd.buyers[name] != nil {
			return true, errors.New("loaded twice")
		}
		b := &rankBuyer{day: rd, buyer: name, counts: make([]buyerCount, 0, n), entryState: entryState{saved: true}}
		for range n {
			k := r.readKey(vr)
			b.counts = append(b.counts, buyerCount{k, vr.Int()})
		}
		rd.buyers[name] = b
		return true, vr.Done()
	}
	for range n {
		f := rd.figures(r.readKey(vr))
		f.sessions, f.pairs, f.pairsOK, f.ratings, f.satisfy = vr.Int(), vr.Int(), vr.Int(), vr.Int(), vr.Int()
		f.ranked = vr.Bool()
	}
	return true, vr.Done()
}

func (r *rankings) readKey(rr *reader) rankKey {
	shop := rr.Byte() == 1
	group := r.e.names.id(rr.Bytes())
	agent := r.e.names.id(rr.Bytes())
	return rankKey{shop: shop, group: group, agent: agent}
}

// loadDone counts each day's received buyers from its buyers.
func (r *rankings) loadDone() error {
	for _, rd := range r.days {
		for _, b := range rd.buyers {
			for _, c := range b.counts {
				if c.n > 0 {
					rd.figures(c.key).buyers++
				}
			}
		}
	}
	return nil
}
