package metrics

// State checkpoints (SPEC §5, DESIGN "Checkpoints"). At each checkpoint the
// task asks its operators for the state entries that changed since the last
// checkpoint and writes them, keyed, to its partition of a compacted
// changelog topic, together with the input offsets they reflect. On
// restore it reads that partition to its end (last write per key wins) and
// hands every live entry back to a fresh operator before any event.
//
// Keys are unique within one task (one partition number) and start with a
// short prefix naming the operator and the kind of entry ("s/" sessions,
// "c/" cells, ...), so that operators never collide and a changelog can be
// inspected with kcat.

// StateSink receives changed entries. It copies key and value: the caller
// may reuse both after the call.
type StateSink interface {
	Put(key, value []byte)
	Delete(key []byte)
}

// A checkpoint is one call, Engine.Checkpoint: it writes the changed rows,
// takes the alerts and saves the changed state in the one order that keeps
// them consistent (no row is pending when the state is saved, so a restore
// never loses one). A restore hands every live entry to Engine.Load, then
// calls Engine.LoadDone.
