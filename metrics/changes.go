package metrics

// Change tracking for the changelog, one shape for every kind of entry
// (sessions, cells, buyers, orders, relationships' stocks, ranking days,
// alert shops): an entry changed since the last save is listed once; the
// save writes the listed entries and empties the list. Nothing is listed
// until an engine's first save or restore (tracking): the first save of an
// engine that was not restored lists everything it holds (trackAll).

// entryState is an entry's change bookkeeping.
type entryState struct {
	changed bool // since the last save
	saved   bool // the changelog holds the entry
}

func (s *entryState) state() *entryState { return s }

// savable is an entry of a changes list.
type savable interface {
	state() *entryState
	// gone: the entry is to be deleted from the changelog (if it holds it).
	gone() bool
}

// changes lists the entries of one kind changed since the last save.
type changes[T savable] struct{ list []T }

// note marks v changed and, while tracking, lists it once.
func (c *changes[T]) note(tracking bool, v T) {
	if st := v.state(); !st.changed {
		st.changed = true
		if tracking {
			c.list = append(c.list, v)
		}
	}
}

// add lists v whatever its flags: for trackAll, before which changes set
// the flags without listing.
func (c *changes[T]) add(v T) {
	v.state().changed = true
	c.list = append(c.list, v)
}

// save writes the listed entries and empties the list: first a delete of
// each gone entry the changelog holds, then a put of each other one, so
// that a key deleted and used again since the last save (a new entry under
// an old key) ends with its new entry.
func (c *changes[T]) save(out StateSink, key, value func(T) []byte) {
	for _, v := range c.list {
		if st := v.state(); st.saved && v.gone() {
			out.Delete(key(v))
			st.saved = false
		}
	}
	for _, v := range c.list {
		st := v.state()
		if !v.gone() {
			out.Put(key(v), value(v))
			st.saved = true
		}
		st.changed = false
	}
	clear(c.list)
	c.list = c.list[:0]
}
