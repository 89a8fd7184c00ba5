package metrics

// family is an operator on top of the session core: attribution, robots,
// alerts, rankings and exclusive customers. The core routes their events
// and tells them of closed sessions (SessionListener) and of figure changes
// (figureListener); the checkpoint treats them all alike through this
// interface, in the order of Engine.families. Each owns the changelog keys
// of its own prefixes.
type family interface {
	// flush appends the family's rows changed since the last flush.
	flush(version uint64, out RowSink)
	// saveChanged writes the entries changed since the last save; a flush
	// comes right before it.
	saveChanged(out StateSink)
	// load takes back one entry; false when key is not the family's.
	load(key, value []byte) (owned bool, err error)
	// loadDone ends a restore, after the core's own state is loaded.
	loadDone() error
}

// saveFamilies saves every family's changes.
func (e *Engine) saveFamilies(out StateSink) {
	for _, f := range e.families {
		f.saveChanged(out)
	}
}

// loadFamily hands key to the family that owns it; false when none does.
func (e *Engine) loadFamily(key, value []byte) (bool, error) {
	for _, f := range e.families {
		if owned, err := f.load(key, value); owned {
			return true, err
		}
	}
	return false, nil
}

// loadFamiliesDone ends the families' restore; call it after the core's
// own state (its finality bound) is loaded.
func (e *Engine) loadFamiliesDone() error {
	for _, f := range e.families {
		if err := f.loadDone(); err != nil {
			return err
		}
	}
	return nil
}
