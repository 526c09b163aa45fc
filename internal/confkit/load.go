package confkit

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// SourceKind says which layer of configuration a value came from.
type SourceKind string

// The layers, from lowest to highest precedence.
const (
	FromDefault SourceKind = "default"
	FromFile    SourceKind = "file"
	FromEnv     SourceKind = "env"
	// FromDerived marks a value computed from other values (e.g. a driver
	// inferred from the keys that are set).
	FromDerived SourceKind = "derived"
)

// Source says where one effective value came from.
type Source struct {
	Kind SourceKind
	// Detail is the file name and line, the environment variable, or why a
	// derived value is what it is.
	Detail string
}

// String renders the source for people, e.g. "env SOCIALPREDICT_DATABASE_PORT".
func (s Source) String() string {
	if s.Detail == "" {
		return string(s.Kind)
	}
	return string(s.Kind) + " " + s.Detail
}

// Sources maps key paths to the source of their effective value.
type Sources map[string]Source

// IsSet reports whether the key's value came from the file or the environment.
func (s Sources) IsSet(path string) bool {
	k := s[path].Kind
	return k == FromFile || k == FromEnv
}

// Alias maps an extra environment variable onto a key, e.g. DATABASE_URL onto
// database.url. Aliases have lower precedence than the prefixed variables.
type Alias struct {
	Env string
	Key string
}

// Loader fills a configuration struct from YAML and the environment.
type Loader struct {
	// EnvPrefix starts the name of every overriding environment variable.
	EnvPrefix string
	// Aliases are extra environment variables, applied before the prefixed ones.
	Aliases []Alias
	// LookupEnv reads the environment; os.LookupEnv when nil.
	LookupEnv func(string) (string, bool)
}

// Load fills the struct dst points to, which should already hold the
// defaults, from data (the YAML text of file; nil or empty for none) and then
// from the environment. Empty environment variables are ignored.
//
// It returns the source of every key. The error, if any, matches ErrInvalid
// and lists every problem with its key path: YAML syntax, unknown keys, values
// of the wrong type and unset ${VAR} references.
func (l Loader) Load(dst any, file string, data []byte) (Sources, error) {
	root := reflect.ValueOf(dst).Elem()
	keys := Keys(dst, l.EnvPrefix)
	sources := make(Sources, len(keys))
	for _, k := range keys {
		sources[k.Path] = Source{Kind: FromDefault}
	}
	lookup := l.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	var errs Errors
	if len(data) > 0 {
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			errs.Add("", fmt.Sprintf("%s: %v", file, err))
			return sources, errs
		}
		d := decoder{file: file, lookup: lookup, sources: sources, errs: &errs}
		if len(doc.Content) > 0 {
			d.mapping(doc.Content[0], root, "")
		}
	}
	byPath := make(map[string]Key, len(keys))
	for _, k := range keys {
		byPath[k.Path] = k
	}
	for _, a := range l.Aliases {
		if k, ok := byPath[a.Key]; ok {
			l.applyEnv(root, k, a.Env, lookup, sources, &errs)
		}
	}
	for _, k := range keys {
		l.applyEnv(root, k, k.Env, lookup, sources, &errs)
	}
	return sources, errs.Err()
}

func (l Loader) applyEnv(root reflect.Value, k Key, env string, lookup func(string) (string, bool), sources Sources, errs *Errors) {
	v, ok := lookup(env)
	if !ok || v == "" {
		return
	}
	if err := setScalar(k.field(root), v); err != nil {
		errs.Add(k.Path, fmt.Sprintf("%v (from environment variable %s)", err, env))
		return
	}
	sources[k.Path] = Source{Kind: FromEnv, Detail: env}
}

// decoder walks a YAML node tree alongside a struct.
type decoder struct {
	file    string
	lookup  func(string) (string, bool)
	sources Sources
	errs    *Errors
}

func (d decoder) mapping(n *yaml.Node, v reflect.Value, prefix string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errs.Add(orRoot(prefix), fmt.Sprintf("expected a mapping of keys (line %d)", n.Line))
		return
	}
	t := v.Type()
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		if name := yamlName(t.Field(i)); name != "" {
			names = append(names, name)
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		path := joinPath(prefix, kn.Value)
		fi := fieldIndex(t, kn.Value)
		if fi < 0 {
			d.errs.Add(path, fmt.Sprintf("unknown key (line %d)%s", kn.Line, suggest(kn.Value, names)))
			continue
		}
		fv := v.Field(fi)
		if fv.Kind() == reflect.Struct && fv.Type() != durationType {
			d.mapping(vn, fv, path)
			continue
		}
		d.scalar(vn, fv, path)
	}
}

func (d decoder) scalar(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.errs.Add(path, fmt.Sprintf("expected a single value (line %d)", n.Line))
		return
	}
	if isNull(n) && v.Kind() != reflect.String {
		d.errs.Add(path, fmt.Sprintf("missing value (line %d)", n.Line))
		return
	}
	s := n.Value
	if isNull(n) {
		s = ""
	}
	s, missing, malformed := Expand(s, d.lookup)
	switch {
	case malformed != "":
		d.errs.Add(path, fmt.Sprintf("malformed variable reference %q (line %d)", malformed, n.Line))
		return
	case len(missing) > 0:
		for _, name := range missing {
			d.errs.Add(path, fmt.Sprintf("environment variable %s is not set (line %d; write ${%s:-default} to give a default)", name, n.Line, name))
		}
		return
	}
	if err := setScalar(v, s); err != nil {
		d.errs.Add(path, fmt.Sprintf("%v (line %d)", err, n.Line))
		return
	}
	d.sources[path] = Source{Kind: FromFile, Detail: fmt.Sprintf("%s:%d", d.file, n.Line)}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func fieldIndex(t reflect.Type, name string) int {
	for i := range t.NumField() {
		if yamlName(t.Field(i)) == name {
			return i
		}
	}
	return -1
}

func joinPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func orRoot(path string) string {
	if path == "" {
		return "(top level)"
	}
	return path
}

// suggest returns " (did you mean X?)" for the known name closest to name,
// or "" when none is close, and lists the known names otherwise.
func suggest(name string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if d := distance(strings.ToLower(name), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	sorted := slices.Sorted(slices.Values(known))
	return "; known keys here: " + strings.Join(sorted, ", ")
}

// distance is the Levenshtein edit distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
