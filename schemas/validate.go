package schemas

import (
	"bytes"
	"fmt"
)

// validate checks the lexed values against a topic's rules, in table order,
// and stores them in ev. It is the error path: the store functions
// (store.go) have already found the record invalid, and this names the
// first rule it breaks, independent of key order.
func (d *Decoder) validate(rules []fieldRule, ev *Event) *DecodeError {
	for i := range rules {
		if err := d.check(&rules[i], ev); err != nil {
			return err
		}
	}
	return nil
}

// check validates and stores one field.
func (d *Decoder) check(r *fieldRule, ev *Event) *DecodeError {
	v := &d.vals[r.id]
	if d.present&(1<<r.id) == 0 || v.kind == jsonNull {
		if d.isRequired(r) {
			return missing(r, d.present&(1<<r.id) != 0)
		}
		return nil
	}
	switch r.kind {
	case kindString, kindSkip:
		return d.checkString(r, v, ev)
	case kindEnum:
		return checkEnum(r, v, ev)
	case kindInt:
		return d.checkInt(r, v, ev)
	case kindBool:
		if v.kind != jsonTrue && v.kind != jsonFalse {
			return wrongType(r, "a boolean", v.kind)
		}
		ev.IsAd = v.kind == jsonTrue // is_ad is the only boolean
	}
	return nil
}

// isRequired evaluates a rule's requirement for this record. A condition
// refers to an enum field checked earlier, so a raw comparison suffices.
func (d *Decoder) isRequired(r *fieldRule) bool {
	if r.required || r.when == nil {
		return r.required
	}
	for _, w := range r.when {
		c := d.vals[w.field]
		if d.present&(1<<w.field) != 0 && c.kind == jsonString && string(c.str) == w.value {
			return true
		}
	}
	return false
}

func (d *Decoder) checkString(r *fieldRule, v *rawVal, ev *Event) *DecodeError {
	if v.kind != jsonString {
		return wrongType(r, "a string", v.kind)
	}
	if r.kind == kindSkip {
		return nil
	}
	if len(v.str) == 0 {
		if d.isRequired(r) {
			return &DecodeError{Reason: ReasonMissingField, Field: r.id.String(), Detail: "empty string"}
		}
		return nil // empty optional string: treated as absent
	}
	*ev.view(r.id) = v.str
	return nil
}

func checkEnum(r *fieldRule, v *rawVal, ev *Event) *DecodeError {
	if v.kind != jsonString {
		return wrongType(r, "a string", v.kind)
	}
	for _, e := range r.enum {
		if string(v.str) == e.name {
			ev.setCode(r.id, e.code)
			return nil
		}
	}
	return &DecodeError{Reason: ReasonUnknownEnum, Field: r.id.String(),
		Detail: fmt.Sprintf("%q is not one of %s", v.str, enumNames(r.enum))}
}

func (d *Decoder) checkInt(r *fieldRule, v *rawVal, ev *Event) *DecodeError {
	if v.kind != jsonNumber {
		return wrongType(r, "an integer", v.kind)
	}
	if v.numFlags&numFrac != 0 {
		return &DecodeError{Reason: ReasonWrongType, Field: r.id.String(),
			Detail: "must be an integer, without fraction or exponent"}
	}
	if r.id == fTS {
		if v.numFlags&numOverflow != 0 || v.num < d.minTS || v.num >= d.maxTS {
			return &DecodeError{Reason: ReasonTSOutOfRange, Field: "ts",
				Detail: fmt.Sprintf("%s not in [%d, %d) epoch ms", numText(v), d.minTS, d.maxTS)}
		}
		ev.TS = v.num
		return nil
	}
	if v.numFlags&numOverflow != 0 || v.num < r.min || v.num > r.max {
		return &DecodeError{Reason: ReasonOutOfRange, Field: r.id.String(),
			Detail: fmt.Sprintf("%s not in [%d, %d]", numText(v), r.min, r.max)}
	}
	if r.id == fScore {
		ev.Score = int8(v.num)
	} else {
		ev.Amount = v.num
	}
	return nil
}

// numText renders a number for an error detail; overflowed ones have no
// int64 value.
func numText(v *rawVal) string {
	if v.numFlags&numOverflow != 0 {
		return "integer beyond int64"
	}
	return fmt.Sprint(v.num)
}

func missing(r *fieldRule, wasNull bool) *DecodeError {
	detail := "required"
	if r.when != nil {
		detail = fmt.Sprintf("required when %s is %s", r.when[0].field, whenValues(r.when))
	}
	if wasNull {
		detail += ", got null"
	}
	return &DecodeError{Reason: ReasonMissingField, Field: r.id.String(), Detail: detail}
}

func wrongType(r *fieldRule, want string, got jsonKind) *DecodeError {
	return &DecodeError{Reason: ReasonWrongType, Field: r.id.String(),
		Detail: fmt.Sprintf("must be %s, got %s", want, jsonKindNames[got])}
}

func enumNames(vals []enumValue) string {
	var b bytes.Buffer
	for i, v := range vals {
		if i > 0 {
			b.WriteString("|")
		}
		b.WriteString(v.name)
	}
	return b.String()
}

// whenValues renders a rule's alternative values: "paid" or one of "a"|"b".
func whenValues(cs []condition) string {
	if len(cs) == 1 {
		return fmt.Sprintf("%q", cs[0].value)
	}
	var b bytes.Buffer
	b.WriteString("one of ")
	for i, c := range cs {
		if i > 0 {
			b.WriteString("|")
		}
		b.WriteString(c.value)
	}
	return b.String()
}
