package schemas

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"testing"
)

// The subset of JSON Schema that our files use.
type jsonSchema struct {
	Schema     string                `json:"$schema"`
	ID         string                `json:"$id"`
	Type       any                   `json:"type"`
	Properties map[string]schemaProp `json:"properties"`
	Required   []string              `json:"required"`
	AllOf      []struct {
		If struct {
			Properties map[string]struct {
				Const string `json:"const"`
			} `json:"properties"`
			Required []string `json:"required"`
		} `json:"if"`
		Then struct {
			Required   []string              `json:"required"`
			Properties map[string]schemaProp `json:"properties"`
		} `json:"then"`
	} `json:"allOf"`
}

type schemaProp struct {
	Type             any          `json:"type"` // string or []string
	Enum             []*string    `json:"enum"` // nil entry: null
	MinLength        *int         `json:"minLength"`
	Minimum          *json.Number `json:"minimum"`
	Maximum          *json.Number `json:"maximum"`
	ExclusiveMaximum *json.Number `json:"exclusiveMaximum"`
}

func loadSchema(t *testing.T, topic Topic) jsonSchema {
	t.Helper()
	raw := JSONSchema(topic)
	if raw == nil {
		t.Fatalf("no schema for %s", topic)
	}
	dec := json.NewDecoder(bytes.NewReader(raw)) // title, description: ignored
	dec.UseNumber()                              // amount's maximum does not fit a float64
	var s jsonSchema
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("%s: %v", topic, err)
	}
	return s
}

// TestJSONSchemaMatchesDecoder checks each schema file against the
// decoder's topic table: properties, required sets, enums, conditional
// requirements, integer ranges and string types.
func TestJSONSchemaMatchesDecoder(t *testing.T) {
	for _, topic := range Topics {
		t.Run(topic.String(), func(t *testing.T) {
			s := loadSchema(t, topic)
			if s.Schema != "https://json-schema.org/draft/2020-12/schema" || s.Type != "object" {
				t.Errorf("$schema %q, type %v", s.Schema, s.Type)
			}
			rules := topicRules[topic]
			var names, required []string
			conds := map[condition][]string{}
			for _, r := range rules {
				names = append(names, r.id.String())
				if r.required {
					required = append(required, r.id.String())
				}
				for _, w := range r.when {
					conds[w] = append(conds[w], r.id.String())
				}
				checkProp(t, r, s.Properties[r.id.String()])
			}
			if got := sortedKeys(s.Properties); !reflect.DeepEqual(got, sorted(names)) {
				t.Errorf("properties %v, decoder fields %v", got, sorted(names))
			}
			if !reflect.DeepEqual(sorted(s.Required), sorted(required)) {
				t.Errorf("required %v, decoder %v", s.Required, required)
			}
			checkConditions(t, s, conds, rules)
		})
	}
}

func checkProp(t *testing.T, r fieldRule, p schemaProp) {
	t.Helper()
	name := r.id.String()
	wantType := map[ruleKind]string{kindString: "string", kindSkip: "string", kindEnum: "string",
		kindInt: "integer", kindBool: "boolean"}[r.kind]
	if r.required {
		if p.Type != wantType {
			t.Errorf("%s: type %v, want %q (null not allowed)", name, p.Type, wantType)
		}
	} else if !reflect.DeepEqual(p.Type, []any{wantType, "null"}) {
		t.Errorf("%s: type %v, want [%q, null] (optional: null is absent)", name, p.Type, wantType)
	}
	if r.required && r.kind == kindString && (p.MinLength == nil || *p.MinLength != 1) {
		t.Errorf("%s: required string without minLength 1", name)
	}
	if r.kind == kindEnum {
		var got []string
		for _, e := range p.Enum {
			if e != nil {
				got = append(got, *e)
			}
		}
		if want := enumList(r.enum); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: enum %v, decoder %v", name, got, want)
		}
		if hasNull := slices.Contains(p.Enum, nil); hasNull == r.required {
			t.Errorf("%s: null in enum = %v, want %v", name, hasNull, !r.required)
		}
	}
	if r.kind == kindInt {
		checkIntRange(t, r, p)
	}
}

func checkIntRange(t *testing.T, r fieldRule, p schemaProp) {
	t.Helper()
	num := func(n *json.Number) string {
		if n == nil {
			return "none"
		}
		return n.String()
	}
	if r.id == fTS {
		if num(p.Minimum) != strconv.FormatInt(DefaultMinTS, 10) || num(p.ExclusiveMaximum) != strconv.FormatInt(DefaultMaxTS, 10) {
			t.Errorf("ts: range [%s, %s), decoder default [%d, %d)", num(p.Minimum), num(p.ExclusiveMaximum), DefaultMinTS, DefaultMaxTS)
		}
		return
	}
	if num(p.Minimum) != strconv.FormatInt(r.min, 10) || num(p.Maximum) != strconv.FormatInt(r.max, 10) {
		t.Errorf("%s: range [%s, %s], decoder [%d, %d]", r.id, num(p.Minimum), num(p.Maximum), r.min, r.max)
	}
}

// checkConditions matches allOf if/then blocks with the rules' conditions;
// a then-block must re-state the field as non-null (and non-empty).
func checkConditions(t *testing.T, s jsonSchema, want map[condition][]string, rules []fieldRule) {
	t.Helper()
	got := map[condition][]string{}
	for _, c := range s.AllOf {
		if len(c.If.Properties) != 1 || len(c.If.Required) != 1 {
			t.Fatalf("unexpected if: %+v", c.If)
		}
		for f, v := range c.If.Properties {
			id, ok := lookupField([]byte(f))
			if !ok || c.If.Required[0] != f {
				t.Fatalf("if on %q", f)
			}
			got[condition{id, v.Const}] = c.Then.Required
		}
		for _, f := range c.Then.Required {
			p := c.Then.Properties[f]
			if p.Type != "string" && p.Type != "integer" {
				t.Errorf("then.%s: type %v, must exclude null", f, p.Type)
			}
			if p.Type == "string" && p.MinLength == nil && p.Enum == nil {
				t.Errorf("then.%s: no minLength", f)
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("conditions %v, decoder %v", got, want)
	}
}

func enumList(vals []enumValue) (out []string) {
	for _, v := range vals {
		out = append(out, v.name)
	}
	return out
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

func sortedKeys[V any](m map[string]V) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	return sorted(k)
}

func TestJSONSchemaInvalidTopic(t *testing.T) {
	if JSONSchema(TopicInvalid) != nil || JSONSchema(Topic(42)) != nil {
		t.Error("schema for an invalid topic")
	}
	a, b := JSONSchema(TopicSessions), JSONSchema(TopicSessions)
	a[0] = 'X'
	if b[0] == 'X' {
		t.Error("JSONSchema returns shared memory")
	}
}
