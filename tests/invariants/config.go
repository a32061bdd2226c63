package invariants

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"gopkg.in/yaml.v3"
)

// CheckConfigFile finds plaintext secrets in a Pulumi.<stack>.yaml: a value whose key names a
// secret (or whose text looks like a credential) must be stored with `pulumi config set --secret`,
// which writes it as {secure: <ciphertext>}.
func CheckConfigFile(path string) ([]Violation, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var file struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(b, &file); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	var out []Violation
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch t := v.(type) {
		case map[string]any:
			if _, secure := t["secure"]; secure && len(t) == 1 {
				return
			}
			names := make([]string, 0, len(t))
			for k := range t {
				names = append(names, k)
			}
			sort.Strings(names)
			for _, k := range names {
				walk(key+"."+k, t[k])
			}
		case []any:
			for i, e := range t {
				walk(fmt.Sprintf("%s.%d", key, i), e)
			}
		case string:
			if why := looksSecret(key, t); why != "" {
				out = append(out, Violation{Invariant: NoPlaintextSecret, Resource: filepath.Base(path),
					Detail: fmt.Sprintf("%s: %s; set it with `pulumi config set --secret`", key, why)})
			}
		}
	}
	keys := make([]string, 0, len(file.Config))
	for k := range file.Config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		walk(k, file.Config[k])
	}
	return out, nil
}
