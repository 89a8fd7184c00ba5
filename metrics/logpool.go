package metrics

// logPool recycles session log arrays by size class. Logs are the bulk of
// the state and every session grows one and drops it at compaction; with
// the arrays recycled, a steady stream of sessions appends to its logs
// without allocating. Entries hold no pointers, so idle arrays cost the
// garbage collector nothing to keep.
//
// The classes grow by about a quarter (not append's doubling), so that a
// typical 20-message session holds a 24-entry array (384 bytes), not a
// 32-entry one. Idle arrays are kept up to maxIdleBytes per engine (the
// logs of some 5 000 typical sessions, more than an Advance compacts at
// once in practice); logs longer than the largest class are allocated and
// dropped normally.
type logPool struct {
	free      [len(logClasses)][][]entry
	idle      int    // bytes in free
	allocated uint64 // arrays made because none was free
}

var logClasses = [...]int{8, 16, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256}

const maxIdleBytes = 4 << 20

// grow returns xs with room for one more entry.
func (p *logPool) grow(xs []entry) []entry {
	if len(xs) < cap(xs) {
		return xs
	}
	grown := p.get(len(xs) + 1)
	grown = append(grown, xs...)
	p.put(xs)
	return grown
}

// get returns an empty array with capacity at least n.
func (p *logPool) get(n int) []entry {
	c := classOf(n)
	if c >= 0 && len(p.free[c]) > 0 {
		free := p.free[c]
		xs := free[len(free)-1]
		free[len(free)-1] = nil
		p.free[c] = free[:len(free)-1]
		p.idle -= cap(xs) * entryBytes
		return xs
	}
	p.allocated++
	if c < 0 {
		return make([]entry, 0, n+n/4)
	}
	return make([]entry, 0, logClasses[c])
}

// put takes back an array no longer used.
func (p *logPool) put(xs []entry) {
	c := classOf(cap(xs))
	if c < 0 || logClasses[c] != cap(xs) {
		return // not one of ours
	}
	if p.idle+cap(xs)*entryBytes > maxIdleBytes {
		return
	}
	p.free[c] = append(p.free[c], xs[:0])
	p.idle += cap(xs) * entryBytes
}

// classOf returns the smallest class holding n entries, -1 if none does.
func classOf(n int) int {
	for c, size := range logClasses {
		if n <= size {
			return c
		}
	}
	return -1
}

const entryBytes = 16

// idleBytes is the memory the pool holds, for Stats.
func (p *logPool) idleBytes() int64 { return int64(p.idle) }
