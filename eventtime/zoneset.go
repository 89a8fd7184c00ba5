package eventtime

import (
	"fmt"
	"sort"
)

// ZoneSet resolves keys (for example tenant ids) to their Zone, falling
// back to a default zone for keys it does not list. Keys that name the
// same zone share one *Zone, and so one cache.
//
// A ZoneSet, like its Zones, is not safe for concurrent use: build it once,
// then Clone it for each goroutine.
type ZoneSet struct {
	def   *Zone
	byKey map[string]*Zone
}

// NewZoneSet loads defaultZone and the zone of every key in zoneByKey
// (key → IANA name). It fails on the first bad name in key order, naming
// the key and the zone.
func NewZoneSet(defaultZone string, zoneByKey map[string]string) (*ZoneSet, error) {
	loc, err := loadLocation(defaultZone)
	if err != nil {
		return nil, fmt.Errorf("eventtime: default zone %q: %w", defaultZone, err)
	}
	def := NewZone(loc)
	byName := map[string]*Zone{defaultZone: def}
	s := &ZoneSet{def: def, byKey: make(map[string]*Zone, len(zoneByKey))}
	for _, key := range sortedKeys(zoneByKey) {
		name := zoneByKey[key]
		z, ok := byName[name]
		if !ok {
			loc, err := loadLocation(name)
			if err != nil {
				return nil, fmt.Errorf("eventtime: zone %q of key %q: %w", name, key, err)
			}
			z = NewZone(loc)
			byName[name] = z
		}
		s.byKey[key] = z
	}
	return s, nil
}

// sortedKeys makes NewZoneSet report the same error for the same input.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Clone returns a ZoneSet with the same zones and fresh caches, for
// another goroutine. The locations are shared; they are immutable.
func (s *ZoneSet) Clone() *ZoneSet {
	fresh := map[*Zone]*Zone{s.def: NewZone(s.def.loc)}
	c := &ZoneSet{def: fresh[s.def], byKey: make(map[string]*Zone, len(s.byKey))}
	for key, z := range s.byKey {
		if fresh[z] == nil {
			fresh[z] = NewZone(z.loc)
		}
		c.byKey[key] = fresh[z]
	}
	return c
}

// Default returns the zone of keys that are not listed.
func (s *ZoneSet) Default() *Zone { return s.def }

// Lookup returns key's zone. It does not allocate: the compiler turns
// m[string(key)] into a lookup without a copy.
func (s *ZoneSet) Lookup(key []byte) *Zone {
	if z, ok := s.byKey[string(key)]; ok {
		return z
	}
	return s.def
}

// LookupString returns key's zone.
func (s *ZoneSet) LookupString(key string) *Zone {
	if z, ok := s.byKey[key]; ok {
		return z
	}
	return s.def
}
