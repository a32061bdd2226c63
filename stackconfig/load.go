package stackconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Keys of the stack file, fully qualified as Pulumi passes them to the program.
const (
	KeyRegion      = "aws:region"
	KeyEnvironment = Namespace + ":environment"
	KeyTeam        = Namespace + ":team"
	KeyModel       = Namespace + ":model"
	KeyImage       = Namespace + ":image"
	KeyEndpoint    = Namespace + ":endpoint"
	KeyProxy       = Namespace + ":proxy"
	KeyAPI         = Namespace + ":api"
	KeyMonitoring  = Namespace + ":monitoring"
)

// Getter returns the raw value of a fully qualified config key (`inferstack:endpoint`) and whether
// it is set; structured values are JSON, as the Pulumi CLI passes them.
type Getter func(key string) (string, bool)

// Load reads the stack's configuration from the Pulumi context, merges it over the environment's
// preset and validates it. The error, if any, is a Problems listing everything wrong at once.
func Load(ctx *pulumi.Context) (Config, error) {
	return Parse(ctx.Stack(), ctx.GetConfig)
}

// Parse is Load without a Pulumi context: it reads keys through get, merges them over the preset of
// `inferstack:environment` and validates the result. Decoding problems (wrong types, unknown
// fields) and validation problems are reported together.
func Parse(stack string, get Getter) (Config, error) {
	env, _ := get(KeyEnvironment)
	c, _ := Preset(env)
	c.Stack = stack
	c.Region, _ = get(KeyRegion)
	c.Team, _ = get(KeyTeam)

	var problems Problems
	sections := []struct {
		key string
		out any
	}{
		{KeyModel, &c.Model}, {KeyImage, &c.Image}, {KeyEndpoint, &c.Endpoint},
		{KeyProxy, &c.Proxy}, {KeyAPI, &c.API}, {KeyMonitoring, &c.Monitoring},
	}
	targets := map[string]any{}
	for _, s := range sections {
		targets[s.key] = s.out
		raw, ok := get(s.key)
		if !ok {
			continue
		}
		if err := decodeStrict(raw, s.out); err != nil {
			problems = append(problems, Problem{Key: s.key, Value: abbreviate(raw),
				Allowed: "an object with the documented fields (" + err.Error() + ")"})
		}
	}
	// Flat keys override the objects: they are what template prompts and `config set` write.
	for _, leaf := range flatLeaves {
		raw, ok := get(leaf.key())
		if !ok || raw == "" {
			// An empty answer to a template prompt means "keep the preset".
			continue
		}
		if err := decodeStrict(leaf.object(raw), targets[Namespace+":"+leaf.section]); err != nil {
			problems = append(problems, Problem{Key: leaf.key(), Value: abbreviate(raw),
				Allowed: "a value of the field's type (" + err.Error() + ")"})
		}
	}
	if problem := realTimeOverServerlessPreset(&c, get); problem != nil {
		problems = append(problems, *problem)
	}
	fillDerived(&c)
	problems = append(problems, Check(c)...)
	if len(problems) > 0 {
		return c, problems
	}
	return c, nil
}

// ParseMap is Parse over a flat map of fully qualified keys, such as the `config:` section of a
// Pulumi.<stack>.yaml with objects rendered as JSON. It also reports `inferstack:` keys that the
// schema does not know, which Parse cannot see.
func ParseMap(stack string, values map[string]string) (Config, error) {
	c, err := Parse(stack, func(k string) (string, bool) { v, ok := values[k]; return v, ok })
	var problems Problems
	if err != nil {
		problems = err.(Problems)
	}
	known := map[string]bool{KeyEnvironment: true, KeyTeam: true, KeyModel: true, KeyImage: true,
		KeyEndpoint: true, KeyProxy: true, KeyAPI: true, KeyMonitoring: true}
	var unknown []string
	for k := range values {
		if strings.HasPrefix(k, Namespace+":") && !known[k] && !isFlatKey(k) {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		problems = append(problems, Problem{Key: k, Value: abbreviate(values[k]),
			Allowed: "one of the keys environment, team, model, image, endpoint, proxy, api, monitoring"})
	}
	if len(problems) > 0 {
		return c, problems
	}
	return c, nil
}

// decodeStrict merges JSON over the preset already in out; unknown fields are errors so that a
// typo ("instancetype") is reported instead of silently keeping the preset.
func decodeStrict(raw string, out any) error {
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the object")
	}
	return nil
}

// fillDerived sets defaults that depend on other fields, after the stack file is merged.
func fillDerived(c *Config) {
	// A stack that turns serverless on with only one of the two fields gets the default for the other.
	if s := c.Endpoint.Serverless; s != nil {
		if s.MemorySizeMB == 0 {
			s.MemorySizeMB = DefaultServerlessMemoryMB
		}
		if s.MaxConcurrency == 0 {
			s.MaxConcurrency = DefaultServerlessConcurrency
		}
	}
	if c.Monitoring.LambdaDurationP99Ms == 0 {
		c.Monitoring.LambdaDurationP99Ms = lambdaDurationShareOfTimeout * float64(c.Proxy.TimeoutSeconds) * 1000
	}
}

func abbreviate(s string) string {
	const limit = 80
	if len(s) > limit {
		return s[:limit] + "…"
	}
	return s
}

// realTimeFields are the endpoint fields that only a real-time endpoint has.
var realTimeFields = []string{"instanceType", "instanceCount", "volumeSizeGb"}

// realTimeOverServerlessPreset turns the preset's serverless endpoint (dev) into a real-time one
// when the stack names an instance type, count or volume and does not name serverless itself:
// an answer to the `pulumi new` instance prompts must not be silently ignored. Naming both is a
// problem: the stack must choose.
func realTimeOverServerlessPreset(c *Config, get Getter) *Problem {
	named := endpointFieldsNamed(get)
	var realTime []string
	for _, f := range realTimeFields {
		if named[f] {
			realTime = append(realTime, KeyEndpoint+"."+f)
		}
	}
	if len(realTime) == 0 || c.Endpoint.Serverless == nil {
		return nil
	}
	if named["serverless"] {
		return &Problem{Key: KeyEndpoint + ".serverless", Value: "set",
			Allowed: "either serverless or a real-time instance (" + strings.Join(realTime, ", ") +
				"), not both: set serverless to null for a real-time endpoint"}
	}
	c.Endpoint.Serverless = nil
	return nil
}

// endpointFieldsNamed reports which top-level endpoint fields the stack sets, in the object form
// or as flat keys (an empty flat value sets nothing).
func endpointFieldsNamed(get Getter) map[string]bool {
	named := map[string]bool{}
	if raw, ok := get(KeyEndpoint); ok {
		var fields map[string]json.RawMessage
		if json.Unmarshal([]byte(raw), &fields) == nil {
			for f := range fields {
				named[f] = true
			}
		}
	}
	for _, leaf := range flatLeaves {
		if leaf.section != "endpoint" {
			continue
		}
		if raw, ok := get(leaf.key()); ok && raw != "" {
			named[leaf.path[0]] = true
		}
	}
	return named
}
