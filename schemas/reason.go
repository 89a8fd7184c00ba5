package schemas

import "fmt"

// Reason is the machine-readable cause of a dead letter. Its string form is
// what lands in the `cspulse.reason` header of cs.deadletter and in the
// dead-letter counter's label, so the values are part of the contract.
type Reason string

const (
	ReasonNotJSON      Reason = "not_json"        // not a JSON object, or not UTF-8
	ReasonMissingField Reason = "missing_field"   // a required field is absent or null
	ReasonWrongType    Reason = "wrong_type"      // a field has the wrong JSON type
	ReasonUnknownEnum  Reason = "unknown_enum"    // type/origin/sender outside the contract
	ReasonOutOfRange   Reason = "out_of_range"    // score outside 1..5, negative amount, ...
	ReasonTSOutOfRange Reason = "ts_out_of_range" // ts outside the accepted epoch range
	ReasonKeyMismatch  Reason = "key_mismatch"    // record key is not the event's shop_id
	ReasonUnknownTopic Reason = "unknown_topic"   // consumed from a topic cspulse does not map
	ReasonLate         Reason = "late"            // behind watermark − allowed_lateness, state gone
	// ReasonTSInFuture: ts more than time.max_future ahead of the wall
	// clock at read time (SPEC §2); checked by the pipeline, not the decoder.
	ReasonTSInFuture Reason = "ts_in_future"
	// ReasonWrongPartition: the record is not on the partition its key maps
	// to under kafka.partitioner (SPEC §2); checked by the pipeline.
	ReasonWrongPartition Reason = "wrong_partition"
)

// Reasons lists every reason, so that metrics can pre-register their labels.
var Reasons = []Reason{
	ReasonNotJSON, ReasonMissingField, ReasonWrongType, ReasonUnknownEnum,
	ReasonOutOfRange, ReasonTSOutOfRange, ReasonKeyMismatch, ReasonUnknownTopic, ReasonLate,
	ReasonTSInFuture, ReasonWrongPartition,
}

// DecodeError says why a record was rejected and which field caused it.
type DecodeError struct {
	Reason Reason
	Field  string // JSON field name, empty when the record as a whole is bad
	Detail string // human-readable, for logs and the dead-letter detail header
}

func (e *DecodeError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: %s", e.Reason, e.Detail)
	}
	return fmt.Sprintf("%s: field %q: %s", e.Reason, e.Field, e.Detail)
}
