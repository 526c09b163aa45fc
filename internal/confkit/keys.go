package confkit

import (
	"reflect"
	"strings"
	"time"
)

var durationType = reflect.TypeFor[time.Duration]()

// Key describes one leaf configuration key of a struct, as found from its tags.
type Key struct {
	// Path is the dotted key path, e.g. "database.connection_pool.max_open_conns".
	Path string
	// Env is the environment variable that overrides the key.
	Env string
	// Doc is the key's documentation (the `doc` tag).
	Doc string
	// Secret is "" for ordinary keys, "true" for a value shown masked, and
	// "url" for a URL whose password is shown masked (the `secret` tag).
	Secret string
	// Type names the value's type for people: string, integer, boolean,
	// number or duration.
	Type string

	index []int
}

// Keys lists the leaf keys of the struct that v is or points to, in field
// order. Nested structs become dotted paths; a field without a `yaml` tag
// name, or tagged `yaml:"-"`, is not a key. Env names are envPrefix followed
// by the upper-cased path with dots replaced by underscores.
func Keys(v any, envPrefix string) []Key {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var keys []Key
	collectKeys(t, "", nil, envPrefix, &keys)
	return keys
}

func collectKeys(t reflect.Type, prefix string, index []int, envPrefix string, keys *[]Key) {
	for i := range t.NumField() {
		f := t.Field(i)
		name := yamlName(f)
		if name == "" {
			continue
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		idx := append(append([]int(nil), index...), i)
		if f.Type.Kind() == reflect.Struct && f.Type != durationType {
			collectKeys(f.Type, path, idx, envPrefix, keys)
			continue
		}
		*keys = append(*keys, Key{
			Path:   path,
			Env:    envPrefix + strings.ToUpper(strings.ReplaceAll(path, ".", "_")),
			Doc:    f.Tag.Get("doc"),
			Secret: f.Tag.Get("secret"),
			Type:   typeName(f.Type),
			index:  idx,
		})
	}
}

// yamlName returns the key name of a struct field, or "" when it is not a key.
func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

func typeName(t reflect.Type) string {
	if t == durationType {
		return "duration"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice:
		return "list of strings"
	default:
		return "string"
	}
}

// field returns the value of key k inside the struct root points to.
func (k Key) field(root reflect.Value) reflect.Value {
	return root.FieldByIndex(k.index)
}
