package operators

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

// Checkpointer is an operator whose state survives restarts.
type Checkpointer interface {
	// SaveChanged writes every entry changed since the last SaveChanged:
	// a Put for a new or changed entry, a Delete for one that is gone.
	SaveChanged(out StateSink)
	// Load takes back one live entry. Entries come in any order, each key
	// once, before any Apply; a key the operator does not know is an error.
	Load(key, value []byte) error
	// LoadDone ends a restore: the operator rebuilds what it derives
	// (indexes, timers) and is then exactly as it was when the entries were
	// saved.
	LoadDone() error
}
