package confkit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
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
	// FromDefault is the built-in default.
	FromDefault SourceKind = "default"
	// FromFile is the configuration file.
	FromFile SourceKind = "file"
	// FromEnv is an environment variable.
	FromEnv SourceKind = "env"
	// FromDerived marks a value computed from other values (e.g. a driver
	// inferred from the keys that are set).
	FromDerived SourceKind = "derived"
)

// Source says where one effective value came from.
type Source struct {
	// Kind is the layer.
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
	// Env is the variable's name.
	Env string
	// Key is the dotted key path it sets.
	Key string
}

// Loader fills a configuration struct from YAML and the environment.
type Loader struct {
	// EnvPrefix starts the name of every overriding environment variable.
	EnvPrefix string
	// Aliases are extra environment variables, applied before the prefixed ones.
	Aliases []Alias
	// Environ is the environment as "KEY=value" strings; os.Environ() when nil.
	Environ []string
}

// Load fills the struct dst points to, which should already hold the
// defaults, from data (the YAML text of file; nil or empty for none) and then
// from the environment. Empty environment variables are ignored.
//
// It returns the source of every key. Data larger than MaxFileSize is
// refused whole (no sources; the error matches ErrFileTooLarge and
// ErrInvalid). Otherwise the error, if any, matches ErrInvalid and lists
// every problem with its key path: YAML syntax, duplicate or
// unknown keys, values of the wrong type, unset ${VAR} references, and
// variables that start with EnvPrefix and a section name (such as
// SOCIALPREDICT_DATABASE_) but name no key.
func (l Loader) Load(dst any, file string, data []byte) (Sources, error) {
	if len(data) > MaxFileSize {
		return nil, tooLarge(file)
	}
	root := reflect.ValueOf(dst).Elem()
	keys := Keys(dst, l.EnvPrefix)
	sources := make(Sources, len(keys))
	for _, k := range keys {
		sources[k.Path] = Source{Kind: FromDefault}
	}
	environ := l.Environ
	if environ == nil {
		environ = os.Environ()
	}
	env := EnvMap(environ)
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	var errs Errors
	if len(bytes.TrimSpace(data)) > 0 {
		doc, err := parseDocument(data)
		if err != nil {
			errs.Add("", fmt.Sprintf("%s: %v", file, err))
			return sources, errs
		}
		d := decoder{file: file, lookup: lookup, sources: sources, errs: &errs}
		d.mapping(doc, root, "")
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
	l.unknownEnv(keys, env, &errs)
	return sources, errs.Err()
}

// EnvMap turns "KEY=value" strings into a map; later entries win.
func EnvMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// parseDocument parses exactly one YAML document and returns its root node
// (nil for an empty document, or one of only comments).
func parseDocument(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err == io.EOF {
		return nil, nil // only comments
	} else if err != nil {
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		return nil, errors.New("more than one YAML document (---); put the whole configuration in one")
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// unknownEnv reports variables that look like overrides (EnvPrefix followed
// by a section name and "_") but match no key: a typo there must not pass
// silently.
func (l Loader) unknownEnv(keys []Key, env map[string]string, errs *Errors) {
	known := map[string]bool{}
	sections := map[string]bool{}
	var names []string
	for _, k := range keys {
		known[k.Env] = true
		names = append(names, k.Env)
		section, _, _ := strings.Cut(k.Path, ".")
		sections[l.EnvPrefix+strings.ToUpper(section)+"_"] = true
	}
	var unknown []string
	for name := range env {
		if known[name] || !strings.HasPrefix(name, l.EnvPrefix) {
			continue
		}
		for section := range sections {
			if strings.HasPrefix(name, section) {
				unknown = append(unknown, name)
				break
			}
		}
	}
	slices.Sort(unknown)
	for _, name := range unknown {
		errs.Add(name, "environment variable names no configuration key"+suggest(name, names))
	}
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
	n = resolveAlias(n)
	if n == nil || isNull(n) {
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
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		path := joinPath(prefix, kn.Value)
		if kn.Value == "<<" {
			d.errs.Add(path, fmt.Sprintf("YAML merge keys are not supported (line %d); write the keys out", kn.Line))
			continue
		}
		if line, dup := seen[kn.Value]; dup {
			d.errs.Add(path, fmt.Sprintf("duplicate key (lines %d and %d)", line, kn.Line))
			continue
		}
		seen[kn.Value] = kn.Line
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
		if fv.Kind() == reflect.Slice {
			d.list(vn, fv, path)
			continue
		}
		d.scalar(vn, fv, path)
	}
}

func (d decoder) scalar(n *yaml.Node, v reflect.Value, path string) {
	n = resolveAlias(n)
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
	s, ok := d.expand(n, s, path)
	if !ok {
		return
	}
	if err := setScalar(v, s); err != nil {
		d.errs.Add(path, fmt.Sprintf("%v (line %d)", err, n.Line))
		return
	}
	d.sources[path] = Source{Kind: FromFile, Detail: fmt.Sprintf("%s:%d", d.file, n.Line)}
}

// expand expands the ${VAR} references of s, the text of node n, and
// reports problems at path; ok is false when there were any.
func (d decoder) expand(n *yaml.Node, s, path string) (string, bool) {
	s, missing, malformed := Expand(s, d.lookup)
	switch {
	case malformed != "":
		// The text is not quoted: the value may be a secret.
		d.errs.Add(path, fmt.Sprintf("malformed variable reference at character %d of the value (an unclosed ${ or a name that is not letters, digits and _; line %d)",
			strings.Index(s, malformed)+1, n.Line))
		return "", false
	case len(missing) > 0:
		for _, name := range missing {
			d.errs.Add(path, fmt.Sprintf("environment variable %s is not set (line %d; write ${%s:-default} to give a default)", name, n.Line, name))
		}
		return "", false
	}
	return s, true
}

// list decodes a list of strings: a YAML sequence of single values, each
// expanded like a scalar, or one value holding a comma-separated list (as
// the environment variable does).
func (d decoder) list(n *yaml.Node, v reflect.Value, path string) {
	n = resolveAlias(n)
	if n.Kind != yaml.SequenceNode {
		d.scalar(n, v, path)
		return
	}
	items := make([]string, 0, len(n.Content))
	for _, item := range n.Content {
		item = resolveAlias(item)
		if item.Kind != yaml.ScalarNode || isNull(item) {
			d.errs.Add(path, fmt.Sprintf("expected a list of single values (line %d)", item.Line))
			return
		}
		s, ok := d.expand(item, item.Value, path)
		if !ok {
			return
		}
		if s = strings.TrimSpace(s); s != "" {
			items = append(items, s)
		}
	}
	v.Set(reflect.ValueOf(items))
	d.sources[path] = Source{Kind: FromFile, Detail: fmt.Sprintf("%s:%d", d.file, n.Line)}
}

// resolveAlias follows YAML aliases (*name) to the node they name.
func resolveAlias(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
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
		if d := distance(strings.ToLower(name), strings.ToLower(k)); d < bestDist {
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
