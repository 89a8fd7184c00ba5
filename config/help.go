package config

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// KeyDoc is what `--help` tells about a key: its comment in defaults.yaml,
// its type and its default.
type KeyDoc struct {
	Doc     string // the key's comment, one line
	Type    string // duration, int, bool, string, list, map
	Default string
}

// KeyDocs documents every key from defaults.yaml's comments (the comment
// right above a key, else the nearest one above it in its section).
func KeyDocs() (map[string]KeyDoc, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(DefaultsYAML, &root); err != nil {
		return nil, fmt.Errorf("parse embedded defaults: %w", err)
	}
	types := map[string]reflect.Type{}
	leafTypes("", reflect.TypeOf(Config{}), types)
	out := map[string]KeyDoc{}
	if len(root.Content) == 1 {
		walkDocs("", root.Content[0], types, out)
	}
	return out, nil
}

func walkDocs(prefix string, m *yaml.Node, types map[string]reflect.Type, out map[string]KeyDoc) {
	if m.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		key := prefix + k.Value
		if v.Kind == yaml.MappingNode && len(v.Content) > 0 {
			walkDocs(key+".", v, types, out)
			continue
		}
		d := KeyDoc{Doc: commentText(k.HeadComment), Type: typeName(types[key]), Default: defaultText(v)}
		if types[key] == nil && v.Kind == yaml.SequenceNode {
			d.Type = "list" // an entry of a map of lists (report.schemes.NAME)
		}
		if d.Doc == "" {
			d.Doc = commentText(v.LineComment)
		}
		out[key] = d
	}
}

// commentText joins a YAML comment block into one line.
func commentText(c string) string {
	var parts []string
	for _, line := range strings.Split(c, "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "#"))
		if line != "" {
			parts = append(parts, line)
		}
	}
	// Backquotes would become pflag's type name; runs of spaces go.
	return strings.ReplaceAll(strings.Join(strings.Fields(strings.Join(parts, " ")), " "), "`", "'")
}

func defaultText(v *yaml.Node) string {
	switch v.Kind {
	case yaml.SequenceNode:
		var items []string
		for _, it := range v.Content {
			items = append(items, it.Value)
		}
		return strings.Join(items, ",")
	case yaml.MappingNode:
		var items []string
		for i := 0; i+1 < len(v.Content); i += 2 {
			items = append(items, v.Content[i].Value+"="+v.Content[i+1].Value)
		}
		return strings.Join(items, ",")
	}
	return v.Value
}

func typeName(t reflect.Type) string {
	if t == nil {
		return "string"
	}
	if t == reflect.TypeOf(time.Duration(0)) {
		return "duration"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "int"
	case reflect.Bool:
		return "bool"
	case reflect.Slice:
		return "list"
	case reflect.Map:
		return "map"
	}
	return "string"
}
