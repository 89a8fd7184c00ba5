package schemas

import (
	"embed"
)

//go:embed jsonschema/*.schema.json
var schemaFS embed.FS

// JSONSchema returns the JSON Schema (draft 2020-12) of a topic's records,
// for producers and for documentation; nil for an invalid topic. The schema
// states the same rules as the decoder, with one difference JSON Schema
// cannot express: it accepts 5.0 where an integer is required, the decoder
// does not. The caller owns the returned slice.
func JSONSchema(t Topic) []byte {
	if !validTopic(t) {
		return nil
	}
	b, err := schemaFS.ReadFile(schemaPath(t))
	if err != nil {
		panic("schemas: embedded schema missing: " + err.Error()) // caught by the tests
	}
	return b // ReadFile returns a fresh copy
}

func schemaPath(t Topic) string {
	return "jsonschema/" + DefaultTopicNames[t] + ".schema.json"
}
