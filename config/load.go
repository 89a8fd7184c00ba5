package config

import (
	_ "embed"
	"fmt"
	"os"
	"sort"
	"strings"

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

// RegisterFlags adds a flag per key (and the aliases) to fs.
func RegisterFlags(fs *pflag.FlagSet) error {
	keys, err := leaves()
	if err != nil {
		return err
	}
	for _, key := range sortedKeys(keys) {
		usage := fmt.Sprintf("config key %s (env %s)", key, EnvName(key))
		if keys[key] == leafBool {
			fs.Bool(key, false, usage)
		} else {
			fs.String(key, "", usage)
		}
	}
	for _, alias := range sortedKeys(Aliases) {
		fs.String(alias, "", "same as --"+Aliases[alias])
	}
	return nil
}

// Loaded is the effective configuration and where it came from.
type Loaded struct {
	Config   Config
	Warnings []string // e.g. CSPULSE_* variables that name no key
	k        *koanf.Koanf
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
	l := &Loaded{k: koanf.New(".")}
	if err := l.k.Load(rawbytes.Provider(DefaultsYAML), yaml.Parser()); err != nil {
		return nil, fmt.Errorf("load defaults: %w", err)
	}
	if path != "" {
		if err := l.k.Load(file.Provider(path), yaml.Parser()); err != nil {
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
			if !ok {
				l.Warnings = append(l.Warnings, fmt.Sprintf("environment variable %s names no config key; ignored", name))
				return "", nil
			}
			v, err := parseValue(keys[key], value)
			if err != nil && convErr == nil {
				convErr = bad(key, "from %s: %v", name, err)
			}
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
