package eventtime

import (
	"strings"
	"testing"
)

func TestZoneSet(t *testing.T) {
	s, err := NewZoneSet("Asia/Shanghai", map[string]string{
		"shop-ny":  "America/New_York",
		"shop-ny2": "America/New_York",
		"shop-in":  "Asia/Kolkata",
		"shop-cn":  "Asia/Shanghai",
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ key, zone string }{
		{"shop-ny", "America/New_York"},
		{"shop-in", "Asia/Kolkata"},
		{"unknown", "Asia/Shanghai"},
		{"", "Asia/Shanghai"},
	}
	for _, tt := range tests {
		if got := s.Lookup([]byte(tt.key)).Location().String(); got != tt.zone {
			t.Errorf("Lookup(%q) = %s, want %s", tt.key, got, tt.zone)
		}
		if got := s.LookupString(tt.key).Location().String(); got != tt.zone {
			t.Errorf("LookupString(%q) = %s, want %s", tt.key, got, tt.zone)
		}
	}
	if s.LookupString("shop-ny") != s.LookupString("shop-ny2") {
		t.Error("keys of one zone do not share its *Zone")
	}
	if s.LookupString("shop-cn") != s.Default() {
		t.Error("a key naming the default zone does not share the default *Zone")
	}

	c := s.Clone()
	if c.LookupString("shop-ny") == s.LookupString("shop-ny") || c.Default() == s.Default() {
		t.Error("Clone shares caches with the original")
	}
	if c.LookupString("shop-ny") != c.LookupString("shop-ny2") || c.LookupString("shop-cn") != c.Default() {
		t.Error("Clone does not share zones between keys")
	}
	if c.LookupString("shop-in").Location() != s.LookupString("shop-in").Location() {
		t.Error("Clone reloaded a location")
	}
}

func TestZoneSetErrors(t *testing.T) {
	tests := []struct {
		name     string
		def      string
		zones    map[string]string
		contains []string
	}{
		{"bad key zone", "Asia/Shanghai", map[string]string{"ok": "UTC", "shop-7": "Asia/Shangai"},
			[]string{`"shop-7"`, `"Asia/Shangai"`}},
		{"bad default", "Nowhere/Town", nil, []string{"default", `"Nowhere/Town"`}},
		{"machine zone", "UTC", map[string]string{"shop-1": "Local"}, []string{`"shop-1"`, `"Local"`}},
		{"empty zone name", "UTC", map[string]string{"shop-2": ""}, []string{`"shop-2"`, "empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewZoneSet(tt.def, tt.zones)
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tt.contains {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %s", err, want)
				}
			}
		})
	}
}

func TestZoneSetLookupDoesNotAllocate(t *testing.T) {
	s, err := NewZoneSet("UTC", map[string]string{"shop-1": "Asia/Kolkata"})
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("shop-1")
	if n := testing.AllocsPerRun(100, func() { s.Lookup(key) }); n != 0 {
		t.Errorf("Lookup allocates %v times", n)
	}
}

func BenchmarkZoneSetLookup(b *testing.B) {
	zones := map[string]string{}
	for _, k := range []string{"shop-1", "shop-2", "shop-3", "shop-4"} {
		zones[k] = "Asia/Kolkata"
	}
	s, err := NewZoneSet("Asia/Shanghai", zones)
	if err != nil {
		b.Fatal(err)
	}
	keys := [][]byte{[]byte("shop-1"), []byte("shop-9"), []byte("shop-3")}
	b.ReportAllocs()
	for i := range b.N {
		s.Lookup(keys[i%3])
	}
}
