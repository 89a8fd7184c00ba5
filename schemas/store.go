package schemas

// The fast path: each value of a known field is checked and stored into
// the Event the moment it is lexed. A store function records the raw value
// in vals (for the error path), then sets the field's good bit when the
// value is valid and stored, its bad bit when it breaks a rule, neither
// when it is null. A later duplicate key simply overwrites all of that.

// jsonKind is the JSON type of a value as the lexer saw it.
type jsonKind uint8

const (
	jsonNull jsonKind = iota
	jsonString
	jsonNumber
	jsonTrue
	jsonFalse
	jsonObject
	jsonArray
)

var jsonKindNames = [...]string{"null", "string", "number", "true", "false", "object", "array"}

// rawVal is what the lexer found for one known field, kept for the error
// path (validate.go): its JSON kind, the string, or the integer.
type rawVal struct {
	kind     jsonKind
	numFlags uint8
	off, end uint32 // string position in scratch, while it may still move
	num      int64
	str      []byte
}

// fastRule is a field's rule as the store functions need it, indexed by
// field for direct lookup.
type fastRule struct {
	kind     ruleKind
	required bool // always required (not conditionally)
	enum     []enumValue
	min, max int64
}

// condMask says: when enum field `field` has code `code`, the fields in
// mask are required too.
type condMask struct {
	field fieldID
	code  uint8
	mask  uint32
}

var (
	fastRules    [len(topicRules)][numFields]fastRule
	requiredMask [len(topicRules)]uint32
	conditions   [len(topicRules)][]condMask
)

func init() {
	for t, rules := range topicRules {
		for _, r := range rules {
			fastRules[t][r.id] = fastRule{kind: r.kind, required: r.required, enum: r.enum, min: r.min, max: r.max}
			if r.required {
				requiredMask[t] |= 1 << r.id
			}
			if r.when != nil {
				addCondition(t, r)
			}
		}
	}
}

func addCondition(t int, r fieldRule) {
	for _, w := range r.when {
		addCondMask(t, w, r.id)
	}
}

func addCondMask(t int, w condition, id fieldID) {
	code := enumCode(fastRules[t][w.field].enum, w.value)
	for i, c := range conditions[t] {
		if c.field == w.field && c.code == code {
			conditions[t][i].mask |= 1 << id
			return
		}
	}
	conditions[t] = append(conditions[t], condMask{w.field, code, 1 << id})
}

func enumCode(vals []enumValue, name string) uint8 {
	for _, v := range vals {
		if v.name == name {
			return v.code
		}
	}
	panic("schemas: condition on unknown enum value " + name)
}

// field starts a new value of field id: the bits of an earlier duplicate
// are dropped, so the last occurrence wins.
func (d *Decoder) field(id fieldID) *rawVal {
	bit := uint32(1) << id
	d.present |= bit
	d.good &^= bit
	d.bad &^= bit
	d.inScr &^= bit
	return &d.vals[id]
}

func (d *Decoder) mark(id fieldID, good bool) {
	if good {
		d.good |= 1 << id
	} else {
		d.bad |= 1 << id
	}
}

// storePlain is storeString for a non-empty string field whose value needs
// no unescaping: the hot path, small enough to be inlined.
func (d *Decoder) storePlain(id fieldID, s []byte) {
	bit := uint32(1) << id
	d.present, d.good, d.bad, d.inScr = d.present|bit, d.good|bit, d.bad&^bit, d.inScr&^bit
	v := &d.vals[id]
	v.kind, v.str = jsonString, s
	*d.ev.viewPtr(id) = s
}

// storeString stores a string value s (already unescaped).
func (d *Decoder) storeString(id fieldID, v *rawVal, s []byte) {
	v.kind, v.str = jsonString, s
	r := &d.rules[id]
	switch r.kind {
	case kindString:
		if len(s) == 0 {
			// Absent; a required field stays not-good and so is missing.
			*d.ev.view(id) = nil
			return
		}
		*d.ev.view(id) = s
		d.good |= 1 << id
	case kindEnum:
		for _, e := range r.enum {
			if string(s) == e.name {
				d.ev.setCode(id, e.code)
				d.good |= 1 << id
				return
			}
		}
		d.ev.setCode(id, 0)
		d.bad |= 1 << id
	case kindSkip:
		d.good |= 1 << id
	default:
		d.bad |= 1 << id
	}
}

// storeNumber stores a number; only an integer in range is valid.
func (d *Decoder) storeNumber(id fieldID, v *rawVal, num int64, flags uint8) {
	v.kind, v.num, v.numFlags = jsonNumber, num, flags
	r := &d.rules[id]
	if r.kind != kindInt || flags != 0 {
		d.bad |= 1 << id
		return
	}
	switch {
	case id == fTS:
		d.ev.TS = num
		d.mark(id, num >= d.minTS && num < d.maxTS)
	case num < r.min || num > r.max:
		d.bad |= 1 << id
	case id == fScore:
		d.ev.Score = int8(num)
		d.good |= 1 << id
	default:
		d.ev.Amount = num
		d.good |= 1 << id
	}
}

// storeKind stores a value that is not a string or number: true, false,
// null, or a container.
func (d *Decoder) storeKind(id fieldID, v *rawVal, kind jsonKind) {
	v.kind = kind
	r := &d.rules[id]
	switch {
	case kind == jsonNull:
		d.clear(id, r.kind) // absent; required fields stay not-good
	case r.kind == kindBool && (kind == jsonTrue || kind == jsonFalse):
		d.ev.IsAd = kind == jsonTrue // is_ad is the only boolean
		d.good |= 1 << id
	default:
		d.bad |= 1 << id
	}
}

// clear resets field id of the Event, for a null that follows a value.
func (d *Decoder) clear(id fieldID, kind ruleKind) {
	switch kind {
	case kindString:
		*d.ev.view(id) = nil
	case kindEnum:
		d.ev.setCode(id, 0)
	case kindBool:
		d.ev.IsAd = false
	case kindInt:
		d.ev.setInt(id, 0)
	}
}
