package stackconfig

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// Unknown keys and fields: a typo (`inferstack:endpont`, `endpoint.instanceCont`, an object's
// `maxCapacty`) would otherwise keep the preset without a word, so each one is a problem that
// names the closest known spelling.

// sections are the object keys of the schema, by section name ("endpoint").
var sections = func() map[string]reflect.Type {
	out := map[string]reflect.Type{}
	t := reflect.TypeOf(Config{})
	for i := 0; i < t.NumField(); i++ {
		if name := jsonName(t.Field(i)); name != "" {
			out[name] = t.Field(i).Type
		}
	}
	return out
}()

// topLevelKeys are the `inferstack:` keys that are neither sections nor flat keys.
var topLevelKeys = []string{KeyEnvironment, KeyTeam}

// unknownKeys reports every `inferstack:` key of values that the schema does not know, sorted by
// key. showValue says whether a key's value may be printed (secrets are not).
func unknownKeys(values map[string]string, showValue func(key string) bool) Problems {
	var keys []string
	for k := range values {
		if strings.HasPrefix(k, Namespace+":") && !isKnownKey(k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var problems Problems
	for _, k := range keys {
		value := "a value"
		if showValue(k) {
			value = abbreviate(values[k])
		}
		problems = append(problems, Problem{Key: k, Value: value, Allowed: unknownKeyAllowed(k)})
	}
	return problems
}

func isKnownKey(key string) bool {
	if _, ok := sections[strings.TrimPrefix(key, Namespace+":")]; ok {
		return true
	}
	for _, k := range topLevelKeys {
		if key == k {
			return true
		}
	}
	return isFlatKey(key)
}

// knownKeys lists every key a stack may set: the top-level keys, the sections and their flat keys.
func knownKeys() []string {
	out := append([]string(nil), topLevelKeys...)
	for name := range sections {
		out = append(out, Namespace+":"+name)
	}
	for _, l := range flatLeaves {
		out = append(out, l.key())
	}
	sort.Strings(out)
	return out
}

func unknownKeyAllowed(key string) string {
	name := strings.TrimPrefix(key, Namespace+":")
	if section, path, ok := strings.Cut(name, "."); ok {
		if field, ok := mapFieldPrefix(section, strings.Split(path, ".")); ok {
			return fmt.Sprintf("%s is a map: set it as an object (pulumi config set --path '%s:%s.%s.NAME' VALUE, or in the stack file)",
				field, Namespace, section, field)
		}
	}
	var known []string
	for _, k := range knownKeys() {
		known = append(known, strings.TrimPrefix(k, Namespace+":"))
	}
	if s := suggest(name, known); s != "" {
		return fmt.Sprintf("a known key: did you mean %s:%s? (docs/configuration.md lists every key)", Namespace, s)
	}
	return "one of the keys environment, team, model, image, endpoint, proxy, api, monitoring, " +
		"or a field of one of them (docs/configuration.md lists every key)"
}

// mapFieldPrefix reports whether path starts with a map field of the section (model.environment):
// its entries have no fixed names, so they have no flat keys.
func mapFieldPrefix(section string, path []string) (string, bool) {
	t, ok := sections[section]
	if !ok {
		return "", false
	}
	for i, p := range path {
		f, ok := fieldByJSONName(t, p)
		if !ok {
			return "", false
		}
		t = f
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() == reflect.Map {
			return strings.Join(path[:i+1], "."), i+1 < len(path)
		}
	}
	return "", false
}

// unknownFields walks a section's JSON against its Go type and reports every object field the
// type does not have, with its full key (`inferstack:endpoint.autoscaling.maxCapacty`). Values of
// the wrong JSON type are left to the decoder, which reports them.
func unknownFields(key, raw string, t reflect.Type) Problems {
	var v any
	if json.Unmarshal([]byte(raw), &v) != nil {
		return nil
	}
	var problems Problems
	walkUnknown(key, v, t, &problems)
	return problems
}

func walkUnknown(key string, v any, t reflect.Type, problems *Problems) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	obj, ok := v.(map[string]any)
	if !ok || t.Kind() != reflect.Struct {
		return
	}
	names := make([]string, 0, len(obj))
	for name := range obj {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		ft, ok := fieldByJSONName(t, name)
		if !ok {
			known := fieldNames(t)
			allowed := "a field of " + key + ": one of " + strings.Join(known, ", ")
			if s := suggest(name, known); s != "" {
				allowed = fmt.Sprintf("a field of %s: did you mean %s? (fields: %s)", key, s, strings.Join(known, ", "))
			}
			b, _ := json.Marshal(obj[name]) // it came from JSON: it marshals back
			*problems = append(*problems, Problem{Key: key + "." + name, Value: abbreviate(string(b)), Allowed: allowed})
			continue
		}
		walkUnknown(key+"."+name, obj[name], ft, problems)
	}
}

// fieldByJSONName finds the field that encoding/json would decode name into: an exact match of
// the JSON name or, as encoding/json does, a case-insensitive one.
func fieldByJSONName(t reflect.Type, name string) (reflect.Type, bool) {
	var folded reflect.Type
	for i := 0; i < t.NumField(); i++ {
		jn := jsonName(t.Field(i))
		if jn == "" {
			continue
		}
		if jn == name {
			return t.Field(i).Type, true
		}
		if folded == nil && strings.EqualFold(jn, name) {
			folded = t.Field(i).Type
		}
	}
	return folded, folded != nil
}

func fieldNames(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		if jn := jsonName(t.Field(i)); jn != "" {
			out = append(out, jn)
		}
	}
	return out
}

// suggest returns the known name closest to name by edit distance (case-insensitive), or "" when
// none is close enough to be the likely intent: at most a third of the name's length, and 2 at
// least, so that a dropped or swapped letter always finds its key.
func suggest(name string, known []string) string {
	best, bestDist := "", -1
	for _, k := range known {
		d := editDistance(strings.ToLower(name), strings.ToLower(k))
		if bestDist < 0 || d < bestDist {
			best, bestDist = k, d
		}
	}
	limit := max(2, len([]rune(name))/3)
	if bestDist < 0 || bestDist > limit {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
