package metrics

import (
	"bytes"
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
	w := writer{b: []byte(keyRankDay)}
	w.str(r.e.shopIDs.name(k.shop))
	w.int(int64(k.day))
	return w.b
}

// buyerKey is the key of a buyer's receptions of a day (the buyer id of a
// session whose `started` never came is "").
func (r *rankings) buyerKey(k shopDay, buyer string) []byte {
	w := writer{b: []byte(keyRankBuyer)}
	w.str(r.e.shopIDs.name(k.shop))
	w.int(int64(k.day))
	w.str(buyer)
	return w.b
}

// sortedKeys orders ranking keys by names, so that the same state gives
// the same bytes.
func (r *rankings) sortedKeys(keys []rankKey) []rankKey {
	slices.SortFunc(keys, func(x, y rankKey) int {
		if x.shop != y.shop {
			return int(boolByte(y.shop)) - int(boolByte(x.shop))
		}
		if c := cmpString(r.e.names.name(x.group), r.e.names.name(y.group)); c != 0 {
			return c
		}
		return cmpString(r.e.names.name(x.agent), r.e.names.name(y.agent))
	})
	return keys
}

func (r *rankings) writeKey(w *writer, k rankKey) {
	w.byte(boolByte(k.shop))
	w.str(r.e.names.name(k.group))
	w.str(r.e.names.name(k.agent))
}

func (r *rankings) dayValue(rd *rankDay) []byte {
	w := writer{b: []byte{stateVersion}}
	keys := make([]rankKey, 0, len(rd.agents))
	for k := range rd.agents {
		keys = append(keys, k)
	}
	w.uint(uint64(len(keys)))
	for _, k := range r.sortedKeys(keys) {
		f := rd.agents[k]
		r.writeKey(&w, k)
		for _, v := range [...]int64{f.sessions, f.pairs, f.pairsOK, f.ratings, f.satisfy} {
			w.int(v)
		}
		w.bool(f.ranked)
	}
	return w.b
}

func (r *rankings) buyerValue(b *rankBuyer) []byte {
	w := writer{b: []byte{stateVersion}}
	keys := make([]rankKey, 0, len(b.counts))
	for _, c := range b.counts {
		keys = append(keys, c.key)
	}
	w.uint(uint64(len(keys)))
	for _, k := range r.sortedKeys(keys) {
		r.writeKey(&w, k)
		n, _ := b.count(k)
		w.int(n)
	}
	return w.b
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
	shop, _ := e.shop(kr.bytes())
	day := eventtime.Date(kr.int())
	name := ""
	if buyer {
		name = string(kr.bytes())
	}
	if err := kr.done(); err != nil {
		return true, err
	}
	rd := r.day(shop, day)
	rd.saved = true
	vr := e.ckpt.dec.start(value)
	vr.version()
	n := vr.count()
	if buyer {
		if rd.buyers[name] != nil {
			return true, errors.New("loaded twice")
		}
		b := &rankBuyer{day: rd, buyer: name, counts: make([]buyerCount, 0, n), entryState: entryState{saved: true}}
		for range n {
			k := r.readKey(vr)
			b.counts = append(b.counts, buyerCount{k, vr.int()})
		}
		rd.buyers[name] = b
		return true, vr.done()
	}
	for range n {
		f := rd.figures(r.readKey(vr))
		f.sessions, f.pairs, f.pairsOK, f.ratings, f.satisfy = vr.int(), vr.int(), vr.int(), vr.int(), vr.int()
		f.ranked = vr.bool()
	}
	return true, vr.done()
}

func (r *rankings) readKey(rr *reader) rankKey {
	shop := rr.byte() == 1
	group := r.e.names.id(rr.bytes())
	agent := r.e.names.id(rr.bytes())
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
