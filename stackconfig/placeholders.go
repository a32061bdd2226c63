package stackconfig

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// PlaceholderMarker marks a value of an example stack file (Pulumi.prod.yaml) that names
// something only its owner can have: an S3 bucket, a Cognito domain prefix (both globally
// unique). A stack that still holds one is refused before anything is created, instead of
// failing halfway through `pulumi up` on a bucket that is not the user's.
const PlaceholderMarker = "replace-me"

// placeholders reports every `inferstack:` value, at any depth of an object, that still contains
// PlaceholderMarker, with the full key of the field.
func placeholders(values map[string]string) Problems {
	keys := make([]string, 0, len(values))
	for k := range values {
		if strings.HasPrefix(k, Namespace+":") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var problems Problems
	for _, k := range keys {
		raw := values[k]
		if !strings.Contains(strings.ToLower(raw), PlaceholderMarker) {
			continue
		}
		var v any
		if json.Unmarshal([]byte(raw), &v) != nil {
			v = raw // a flat string key: the raw text is the value
		}
		walkPlaceholders(k, v, &problems)
	}
	return problems
}

func walkPlaceholders(key string, v any, problems *Problems) {
	switch v := v.(type) {
	case string:
		if strings.Contains(strings.ToLower(v), PlaceholderMarker) {
			*problems = append(*problems, Problem{Key: key, Value: fmt.Sprintf("%q", v),
				Allowed: "your own value: " + PlaceholderMarker + " marks a placeholder of the example stack file; " +
					"replace it before the first preview (docs/configuration.md, Placeholders)"})
		}
	case map[string]any:
		names := make([]string, 0, len(v))
		for name := range v {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			walkPlaceholders(key+"."+name, v[name], problems)
		}
	case []any:
		for i, e := range v {
			walkPlaceholders(fmt.Sprintf("%s[%d]", key, i), e, problems)
		}
	}
}
