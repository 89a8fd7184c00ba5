package metrics

// interner maps small identifiers of bounded cardinality (shops, agents,
// groups, channels, robot tasks) to dense uint32 ids, so that cell keys are
// small comparable structs and the hot path compares integers. Id 0 is the
// empty string: "absent" costs nothing and needs no branch.
//
// Names are never forgotten: an engine holds as many as the partition has
// seen. That is bounded by the shops' staff and configuration, not by
// traffic; session, buyer and event ids are deliberately not interned.
type interner struct {
	ids   map[string]uint32
	names []string
	bytes int // total length of names, for Stats
}

func newInterner() *interner {
	return &interner{ids: map[string]uint32{"": 0}, names: []string{""}}
}

// id returns b's id, adding it on first sight. The lookup converts b
// without copying; only a new name allocates.
func (in *interner) id(b []byte) uint32 {
	if len(b) == 0 {
		return 0
	}
	if id, ok := in.ids[string(b)]; ok {
		return id
	}
	return in.add(string(b))
}

// idString is id for a string.
func (in *interner) idString(s string) uint32 {
	if id, ok := in.ids[s]; ok {
		return id
	}
	return in.add(s)
}

func (in *interner) add(s string) uint32 {
	id := uint32(len(in.names))
	in.ids[s] = id
	in.names = append(in.names, s)
	in.bytes += len(s)
	return id
}

// name returns the string of id.
func (in *interner) name(id uint32) string { return in.names[id] }

// approxBytes estimates the interner's memory.
func (in *interner) approxBytes() int64 {
	const perName = 16 + 16 + 8 + 8 // slice string header, map key header, value, slot slack
	return int64(len(in.names))*perName + int64(in.bytes)
}
