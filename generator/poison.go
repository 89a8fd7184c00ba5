package generator

import (
	"bytes"

	"github.com/cspulse/cspulse/schemas"
)

// poisonKinds are the malformed records of SPEC §1's bad input, each with
// the dead-letter reason it is made to trigger.
var poisonKinds = [...]schemas.Reason{
	schemas.ReasonNotJSON,
	schemas.ReasonMissingField,
	schemas.ReasonUnknownEnum, // out_of_range for evaluations (score 9)
	schemas.ReasonTSOutOfRange,
	schemas.ReasonWrongType,
	schemas.ReasonKeyMismatch,
}

// emitPoison emits one malformed record made from a copy of a valid event.
// It gets an event_id of its own ("shop-0001-x…"), so that a pipeline that
// wrongly accepted it could not hide a valid event, and the ts of the event
// it was made from, so that it keeps the disorder bound.
func (g *generator) emitPoison(sh *shop, valid *event) error {
	ev := *valid
	sh.nextPoisonID++
	ev.id, ev.flags = sh.nextPoisonID, flagPoisonID
	v := appendEvent(g.poisonBuf[:0], sh, &ev)
	key := sh.key
	reason := poisonKinds[g.poison.intn(len(poisonKinds))]
	switch reason {
	case schemas.ReasonNotJSON:
		v = g.breakJSON(v)
	case schemas.ReasonMissingField:
		v = removeField(v, [...]string{`"event_id":`, `"shop_id":`, `"ts":`}[g.poison.intn(3)])
	case schemas.ReasonUnknownEnum:
		v, reason = breakEnum(v, ev.kind)
	case schemas.ReasonTSOutOfRange:
		v = editTS(v, "", "000") // microseconds where ms are due: year ~58000
	case schemas.ReasonWrongType:
		v = editTS(v, `"`, `"`) // ts as a string
	case schemas.ReasonKeyMismatch:
		key = g.wrongKey(sh)
	}
	g.poisonBuf = v
	topic := ev.kind.topic()
	g.rec = Record{Topic: topicNames[topic], Kind: topic, Key: key, Value: v, TS: ev.ts, Poison: reason}
	if err := g.emit(&g.rec); err != nil {
		return err
	}
	g.count(topic, ev.ts)
	g.stats.Poison++
	g.stats.PoisonByReason[reason]++
	return nil
}

// breakJSON cuts the object in half or wraps it in an array: both are not
// a JSON object. Neither adds a newline, so files stay one record a line.
func (g *generator) breakJSON(v []byte) []byte {
	if g.poison.chance(0.5) {
		return v[:len(v)/2]
	}
	v = append(v, ']')
	copy(v[1:], v[:len(v)-1])
	v[0] = '['
	return v
}

// removeField drops a leading field (event_id, shop_id or ts: they come
// first and never contain `,"`) together with its comma.
func removeField(v []byte, field string) []byte {
	start := bytes.Index(v, []byte(field))
	end := start + bytes.Index(v[start:], []byte(`,"`))
	return append(v[:start], v[end+1:]...)
}

// breakEnum replaces an enum value by one outside the contract; an
// evaluation has no enum and gets a score out of 1..5 instead.
func breakEnum(v []byte, k kind) ([]byte, schemas.Reason) {
	switch k {
	case kindMessage:
		return replaceString(v, `"sender":"`, "customer"), schemas.ReasonUnknownEnum
	case kindEvaluation:
		i := bytes.Index(v, []byte(`"score":`)) + len(`"score":`)
		v[i] = '9'
		return v, schemas.ReasonOutOfRange
	case kindStarted, kindEnded:
		return replaceString(v, `"type":"`, "closed"), schemas.ReasonUnknownEnum
	case kindOrderCreated, kindOrderPaid:
		return replaceString(v, `"type":"`, "refunded"), schemas.ReasonUnknownEnum
	default:
		return replaceString(v, `"type":"`, "transferred"), schemas.ReasonUnknownEnum
	}
}

// replaceString replaces the string value that follows prefix.
func replaceString(v []byte, prefix, value string) []byte {
	start := bytes.Index(v, []byte(prefix)) + len(prefix)
	end := start + bytes.IndexByte(v[start:], '"')
	out := append([]byte(nil), v[:start]...)
	out = append(out, value...)
	return append(out, v[end:]...)
}

// editTS wraps the digits of ts in before and after.
func editTS(v []byte, before, after string) []byte {
	start := bytes.Index(v, []byte(`"ts":`)) + len(`"ts":`)
	end := start + bytes.IndexByte(v[start:], ',')
	out := append([]byte(nil), v[:start]...)
	out = append(out, before...)
	out = append(out, v[start:end]...)
	out = append(out, after...)
	return append(out, v[end:]...)
}

// wrongKey is the key of a producer that keyed the record by something
// else: another shop's id.
func (g *generator) wrongKey(sh *shop) []byte {
	if len(g.shops) == 1 {
		return []byte("shop-0000")
	}
	return g.shops[(int(sh.index)+1)%len(g.shops)].key
}
