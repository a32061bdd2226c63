package stackconfig

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
)

// Flat keys: `pulumi new` template prompts and `pulumi config set` without --path store a nested
// setting as one top-level key, `inferstack:endpoint.instanceType`. Parse accepts those for every
// leaf field of the schema and applies them over the section's object, so both spellings work.

// flatLeaf is one leaf of the schema reachable by a flat key.
type flatLeaf struct {
	section string   // "endpoint"
	path    []string // ["autoscaling", "maxCapacity"]
	text    bool     // a string field: the raw value is the string itself, not JSON
}

func (l flatLeaf) key() string {
	return Namespace + ":" + l.section + "." + strings.Join(l.path, ".")
}

// object renders the raw value as the nested JSON object that sets only this leaf.
func (l flatLeaf) object(raw string) string {
	value := raw
	if l.text {
		b, _ := json.Marshal(raw) // marshalling a string cannot fail
		value = string(b)
	}
	var b strings.Builder
	for _, p := range l.path {
		b.WriteString(`{"` + p + `":`)
	}
	b.WriteString(value)
	b.WriteString(strings.Repeat("}", len(l.path)))
	return b.String()
}

// flatLeaves lists every flat key of the schema, sorted by key.
var flatLeaves = func() []flatLeaf {
	var out []flatLeaf
	t := reflect.TypeOf(Config{})
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := jsonName(f)
		if name == "" {
			continue
		}
		collectLeaves(f.Type, name, nil, &out)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out
}()

func collectLeaves(t reflect.Type, section string, path []string, out *[]flatLeaf) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		// Maps (model.environment) have no fixed leaves: set them as an object.
		if t.Kind() != reflect.Map {
			*out = append(*out, flatLeaf{section: section, path: path, text: t.Kind() == reflect.String})
		}
		return
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if name := jsonName(f); name != "" {
			collectLeaves(f.Type, section, append(append([]string(nil), path...), name), out)
		}
	}
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// isFlatKey reports whether key is a known flat key.
func isFlatKey(key string) bool {
	i := sort.Search(len(flatLeaves), func(i int) bool { return flatLeaves[i].key() >= key })
	return i < len(flatLeaves) && flatLeaves[i].key() == key
}
