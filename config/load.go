package config

import (
	_ "embed"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/posflag"
	"github.com/knadh/koanf/providers/rawbytes"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"
)

// DefaultsYAML is the documented default configuration; `cspulse config
// --defaults` prints it.
//
//go:embed defaults.yaml
var DefaultsYAML []byte

// EnvPrefix starts every environment variable that overrides a key.
const EnvPrefix = "CSPULSE_"

// Aliases are short flags for the keys a user types most.
var Aliases = map[string]string{
	"brokers":        "kafka.brokers",
	"embedded-kafka": "kafka.embedded",
	"until-idle":     "run.until_idle",
	"clickhouse":     "clickhouse.addr",
	"database":       "clickhouse.database",
}

// leafKind says how a key's string form (flag or env) becomes a value.
type leafKind int

const (
	leafScalar leafKind = iota
	leafBool
	leafList
	leafMap
)

// leaves returns every configurable key of the defaults with its kind.
func leaves() (map[string]leafKind, error) {
	k := koanf.New(".")
	if err := k.Load(rawbytes.Provider(DefaultsYAML), yaml.Parser()); err != nil {
		return nil, fmt.Errorf("parse embedded defaults: %w", err)
	}
	out := map[string]leafKind{}
	walkLeaves("", k.Raw(), out)
	return out, nil
}

func walkLeaves(prefix string, m map[string]any, out map[string]leafKind) {
	for name, v := range m {
		key := prefix + name
		switch v := v.(type) {
		case map[string]any:
			if len(v) == 0 {
				out[key] = leafMap
			} else {
				walkLeaves(key+".", v, out)
			}
		case []any:
			out[key] = leafList
		case bool:
			out[key] = leafBool
		default:
			out[key] = leafScalar
		}
	}
}

// EnvName is the environment variable that overrides key.
func EnvName(key string) string {
	r := strings.NewReplacer(".", "_", "-", "_")
	return EnvPrefix + strings.ToUpper(r.Replace(key))
}

// RegisterFlags adds a flag per key (and the aliases) to fs, each with
// its type, its default and its comment in defaults.yaml as help.
func RegisterFlags(fs *pflag.FlagSet) error {
	keys, err := leaves()
	if err != nil {
		return err
	}
	docs, err := KeyDocs()
	if err != nil {
		return err
	}
	for _, key := range sortedKeys(keys) {
		d := docs[key]
		usage := strings.TrimSpace(fmt.Sprintf("%s (env %s)", d.Doc, EnvName(key)))
		if keys[key] == leafBool {
			f := fs.VarPF(&textValue{typ: "bool", isBool: true}, key, "", usage)
			f.NoOptDefVal = "true"
			f.DefValue = d.Default
			continue
		}
		f := fs.VarPF(&textValue{typ: d.Type}, key, "", usage)
		f.DefValue = d.Default
		if isSecretKey(key) {
			f.DefValue = ""
		}
	}
	for _, alias := range sortedKeys(Aliases) {
		d := docs[Aliases[alias]]
		f := fs.VarPF(&textValue{typ: d.Type}, alias, "", "same as --"+Aliases[alias])
		f.DefValue = d.Default
	}
	return nil
}

func isSecretKey(key string) bool {
	for _, k := range SecretKeys {
		if k == key {
			return true
		}
	}
	return false
}

// textValue is a flag that keeps the text it was given (typed at decode,
// like an environment variable) and tells --help its type.
type textValue struct {
	s      string
	typ    string
	isBool bool
}

func (v *textValue) String() string { return v.s }
func (v *textValue) Set(s string) error {
	v.s = s
	return nil
}
func (v *textValue) Type() string { return v.typ }

// IsBoolFlag lets a bool key be given as --key alone.
func (v *textValue) IsBoolFlag() bool { return v.isBool }

// Loaded is the effective configuration and where it came from.
type Loaded struct {
	Config   Config
	Warnings []string // e.g. CSPULSE_* variables that name no key
	k        *koanf.Koanf
	// source names where each key's value came from ("file x.yaml",
	// "env CSPULSE_…", "flag --…"); keys left at their default are absent.
	source map[string]string
}

// YAML renders the effective configuration, durations as written, with
// every secret (SecretKeys) shown as <redacted>.
func (l *Loaded) YAML() ([]byte, error) {
	k := l.k.Copy()
	for _, key := range SecretKeys {
		if v := k.String(key); v != "" {
			if err := k.Set(key, redacted); err != nil {
				return nil, err
			}
		}
	}
	return k.Marshal(yaml.Parser())
}

// Defaults is the configuration of defaults.yaml alone, not validated (it
// names no brokers).
func Defaults() Config {
	l := &Loaded{k: koanf.New(".")}
	if err := l.k.Load(rawbytes.Provider(DefaultsYAML), yaml.Parser()); err != nil {
		panic(fmt.Sprintf("embedded defaults: %v", err))
	}
	if err := l.decode(); err != nil {
		panic(fmt.Sprintf("embedded defaults: %v", err))
	}
	return l.Config
}

// Load merges defaults, the YAML file at path (if not empty), environment
// variables from environ (os.Environ() when nil) and the changed flags of fs
// (may be nil), then decodes and validates the result.
func Load(path string, environ []string, fs *pflag.FlagSet) (*Loaded, error) {
	keys, err := leaves()
	if err != nil {
		return nil, err
	}
	if environ == nil {
		environ = os.Environ()
	}
	l := &Loaded{k: koanf.New("."), source: map[string]string{}}
	if err := l.k.Load(rawbytes.Provider(DefaultsYAML), yaml.Parser()); err != nil {
		return nil, fmt.Errorf("load defaults: %w", err)
	}
	if path != "" {
		fk := koanf.New(".")
		if err := fk.Load(file.Provider(path), yaml.Parser()); err != nil {
			return nil, fmt.Errorf("load config file %s: %w", path, err)
		}
		for _, key := range fk.Keys() {
			l.source[key] = "file " + path
		}
		if err := l.k.Merge(fk); err != nil {
			return nil, fmt.Errorf("load config file %s: %w", path, err)
		}
	}
	if err := l.loadEnv(keys, environ); err != nil {
		return nil, err
	}
	if fs != nil {
		if err := l.loadFlags(keys, fs); err != nil {
			return nil, err
		}
	}
	if err := l.checkScalars(); err != nil {
		return nil, err
	}
	if err := l.decode(); err != nil {
		return nil, err
	}
	if err := l.Config.readSecretFiles(); err != nil {
		return nil, err
	}
	if err := l.Config.Validate(); err != nil {
		return nil, err
	}
	return l, nil
}

// readSecretFiles fills each password from its *_file key.
func (c *Config) readSecretFiles() error {
	for _, s := range []struct {
		key  string
		file string
		dst  *Secret
	}{
		{"kafka.sasl.password", c.Kafka.SASL.PasswordFile, &c.Kafka.SASL.Password},
		{"clickhouse.password", c.ClickHouse.PasswordFile, &c.ClickHouse.Password},
	} {
		if s.file == "" {
			continue
		}
		if *s.dst != "" {
			return bad(s.key+"_file", "set together with %s: choose one", s.key)
		}
		b, err := os.ReadFile(s.file)
		if err != nil {
			return bad(s.key+"_file", "%v", err)
		}
		*s.dst = Secret(strings.TrimRight(string(b), "\r\n"))
	}
	return nil
}

// scriptVariables are the environment variables of the project's own
// scripts and tests (scripts/clickhouse.sh, scripts/demo.sh,
// the test harness): they share the prefix but are no
// config keys, and a user who sets them for make demo should not be warned.
var scriptVariables = []string{"CSPULSE_CH_", "CSPULSE_DEMO_", "CSPULSE_FAULT_", "CSPULSE_BIN", "CSPULSE_NO_CLICKHOUSE"}

func scriptVariable(name string) bool {
	for _, p := range scriptVariables {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

func (l *Loaded) loadEnv(keys map[string]leafKind, environ []string) error {
	byEnv := map[string]string{}
	for key := range keys {
		byEnv[EnvName(key)] = key
	}
	var convErr error
	p := env.Provider(".", env.Opt{
		Prefix:      EnvPrefix,
		EnvironFunc: func() []string { return environ },
		TransformFunc: func(name, value string) (string, any) {
			key, ok := byEnv[name]
			if !ok && scriptVariable(name) {
				return "", nil
			}
			if !ok {
				l.Warnings = append(l.Warnings, fmt.Sprintf("environment variable %s names no config key; ignored", name))
				return "", nil
			}
			v, err := parseValue(keys[key], value)
			if err != nil && convErr == nil {
				convErr = bad(key, "from %s: %v", name, err)
			}
			l.source[key] = "environment variable " + name
			return key, v
		},
	})
	if err := l.k.Load(p, nil); err != nil {
		return fmt.Errorf("load environment: %w", err)
	}
	return convErr
}

func (l *Loaded) loadFlags(keys map[string]leafKind, fs *pflag.FlagSet) error {
	var convErr error
	p := posflag.ProviderWithFlag(fs, ".", nil, func(f *pflag.Flag) (string, any) {
		key := f.Name
		if alias, ok := Aliases[key]; ok {
			key = alias
		}
		kind, ok := keys[key]
		if !ok || !f.Changed {
			return "", nil
		}
		v, err := parseValue(kind, f.Value.String())
		if err != nil && convErr == nil {
			convErr = bad(key, "from --%s: %v", f.Name, err)
		}
		l.source[key] = "flag --" + f.Name
		return key, v
	})
	if err := l.k.Load(p, nil); err != nil {
		return fmt.Errorf("load flags: %w", err)
	}
	return convErr
}

// parseValue turns the string form of a flag or env variable into the shape
// its key has in YAML; scalars stay strings and are typed by decode.
func parseValue(kind leafKind, s string) (any, error) {
	switch kind {
	case leafList:
		return splitList(s), nil
	case leafMap:
		m := map[string]any{}
		for _, kv := range splitList(s) {
			k, v, ok := strings.Cut(kv.(string), "=")
			if !ok || k == "" {
				return nil, fmt.Errorf("%q: want key=value[,key=value]", s)
			}
			m[k] = v
		}
		return m, nil
	}
	return s, nil
}

func splitList(s string) []any {
	out := []any{}
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func (l *Loaded) decode() error {
	dc := &mapstructure.DecoderConfig{
		DecodeHook:       mapstructure.StringToTimeDurationHookFunc(),
		WeaklyTypedInput: true,
		ErrorUnused:      true,
		TagName:          "koanf",
		Result:           &l.Config,
	}
	err := l.k.UnmarshalWithConf("", &l.Config, koanf.UnmarshalConf{DecoderConfig: dc})
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkScalars checks the durations, integers and booleans of the merged
// configuration before decoding, so that a bad one is reported with its
// key, its value and where it came from.
func (l *Loaded) checkScalars() error {
	if v, ok := l.k.Get("clickhouse.tls").(bool); ok {
		return bad("clickhouse.tls", "%v (from %s): clickhouse.tls is a group now, as kafka.tls: write clickhouse.tls.enabled: %v",
			v, l.sourceOf("clickhouse.tls"), v)
	}
	types := map[string]reflect.Type{}
	leafTypes("", reflect.TypeOf(Config{}), types)
	for _, key := range sortedKeys(types) {
		raw := l.k.Get(key)
		s, ok := raw.(string)
		if !ok {
			if raw == nil || types[key] != durationType || fmt.Sprint(raw) == "0" {
				continue
			}
			// YAML gave a number: 2 would silently be 2ns.
			return l.badValue(key, raw, "a number without a unit, not a duration", "e.g. 2s, 500ms, 1h30m")
		}
		switch t := types[key]; {
		case t == durationType:
			if _, err := time.ParseDuration(s); err != nil {
				return l.badValue(key, s, "not a duration", "e.g. 2s, 500ms, 1h30m")
			}
		case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
			if _, err := strconv.ParseInt(s, 10, 64); err != nil {
				return l.badValue(key, s, "not an integer", "")
			}
		case t.Kind() == reflect.Bool:
			if _, err := strconv.ParseBool(s); err != nil {
				return l.badValue(key, s, "not a boolean", "true or false")
			}
		}
	}
	return nil
}

var durationType = reflect.TypeOf(time.Duration(0))

func (l *Loaded) sourceOf(key string) string {
	if src := l.source[key]; src != "" {
		return src
	}
	return "defaults"
}

func (l *Loaded) badValue(key string, value any, what, hint string) error {
	msg := fmt.Sprintf("%#v (from %s) is %s", value, l.sourceOf(key), what)
	if hint != "" {
		msg += ": " + hint
	}
	return bad(key, "%s", msg)
}

// leafTypes maps each key of t (a config struct) to its Go type.
func leafTypes(prefix string, t reflect.Type, out map[string]reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("koanf")
		if tag == "" {
			continue
		}
		if f.Type.Kind() == reflect.Struct && f.Type != durationType {
			leafTypes(prefix+tag+".", f.Type, out)
			continue
		}
		out[prefix+tag] = f.Type
	}
}
