// Package schemas defines the input contract of cspulse (SPEC §1): the six
// event topics (cs.outreach optional), their typed form, and the strict
// decoder that turns a Kafka record into an Event or into a dead-letter
// reason.
//
// # Decoding rules
//
// Decoder is a hand-written single-pass scanner specialised for the flat
// objects of the five topics; it was chosen by benchmark against
// encoding/json, goccy/go-json, valyala/fastjson and buger/jsonparser (see
// docs/performance.md, "Decoding"). On the steady path it allocates nothing.
//
// The decisions where SPEC §1 is silent:
//
//   - Unknown fields are allowed and ignored, so that producers can add
//     fields before cspulse knows them (forward compatibility). A field that
//     the topic does not define — also one that another topic defines, like
//     agent_id on cs.sessions — is unknown. Its value must still be valid
//     JSON: the record as a whole has to be one well-formed JSON object.
//   - Duplicate keys: the last occurrence wins, as in encoding/json and
//     JavaScript. Earlier occurrences are only checked for JSON syntax.
//   - An optional field given as null is treated as absent. A required field
//     that is null, or a required string that is empty, is missing. An empty
//     optional string is treated as absent too (its Event field stays nil),
//     because every optional string of the contract is an identifier or a
//     label for which "" carries no meaning (SPEC: group_id "empty when
//     absent").
//   - Integers (ts, score, amount) must be written as JSON integers: 5.0 or
//     5e0 is wrong_type, even though JSON Schema's "integer" would accept
//     them. An integer that does not fit in int64 is out of range
//     (ts_out_of_range for ts).
//   - Strings must be valid UTF-8; JSON escapes, including surrogate pairs,
//     are decoded. A lone surrogate escape becomes U+FFFD, as in
//     encoding/json. Key names are matched after unescaping and case
//     sensitively (unlike encoding/json's struct matching).
//   - When a record breaks several rules, the reported one is deterministic
//     and independent of key order: not_json first, then the fields in the
//     order of the topic's table (common fields first), and the key check
//     last, so that key_mismatch means "a valid event, wrongly keyed".
//
// The JSON Schema files under jsonschema/ (draft 2020-12, see JSONSchema)
// state the same contract for producers; a test keeps them and the
// decoder's tables in step.
package schemas
