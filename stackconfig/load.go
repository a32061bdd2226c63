package stackconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
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

// Load reads the stack's configuration from the Pulumi context, merges it over the environment's
// preset and validates it. The error, if any, is a Problems listing everything wrong at once,
// unknown `inferstack:` keys included.
//
// The Pulumi context answers only for keys it is asked about, so the keys come from where the
// Pulumi language host puts the stack's whole config for the program: the PULUMI_CONFIG
// environment variable (pulumi/sdk go/pulumi/run.go, getEnvInfo), which the context is built from.
func Load(ctx *pulumi.Context) (Config, error) {
	keys := knownKeys()
	keys = append(keys, KeyRegion)
	var passed map[string]string
	if raw := os.Getenv(pulumi.EnvConfig); raw != "" {
		if err := json.Unmarshal([]byte(raw), &passed); err != nil {
			return Config{}, fmt.Errorf("%s: not a JSON object of config keys: %w", pulumi.EnvConfig, err)
		}
	}
	for k := range passed {
		keys = append(keys, k)
	}
	values := map[string]string{}
	for _, k := range keys {
		if v, ok := ctx.GetConfig(k); ok {
			values[k] = v
		}
	}
	return parse(ctx.Stack(), values, func(k string) bool { return !ctx.IsConfigSecret(k) })
}

// Parse is Load without a Pulumi context, over the stack's config as the Pulumi CLI passes it to
// a program: fully qualified keys, strings as they are, objects as JSON (the `config:` section of
// a Pulumi.<stack>.yaml). It merges the keys over the preset of `inferstack:environment` and
// validates the result. Unknown `inferstack:` keys and fields, decoding problems (wrong types) and
// validation problems are reported together; an unknown key or field names the closest known one.
func Parse(stack string, values map[string]string) (Config, error) {
	return parse(stack, values, func(string) bool { return true })
}

// ParseMap is Parse; it is kept for the callers that knew it by this name.
func ParseMap(stack string, values map[string]string) (Config, error) {
	return Parse(stack, values)
}

func parse(stack string, values map[string]string, showValue func(key string) bool) (Config, error) {
	get := func(k string) (string, bool) { v, ok := values[k]; return v, ok }
	env, _ := get(KeyEnvironment)
	c, _ := Preset(env)
	c.Stack = stack
	c.Region, _ = get(KeyRegion)
	c.Team, _ = get(KeyTeam)

	var problems Problems
	targets := map[string]any{}
	for _, s := range []struct {
		key string
		out any
	}{
		{KeyModel, &c.Model}, {KeyImage, &c.Image}, {KeyEndpoint, &c.Endpoint},
		{KeyProxy, &c.Proxy}, {KeyAPI, &c.API}, {KeyMonitoring, &c.Monitoring},
	} {
		targets[s.key] = s.out
		raw, ok := get(s.key)
		if !ok {
			continue
		}
		unknown := unknownFields(s.key, raw, reflect.TypeOf(s.out).Elem())
		problems = append(problems, unknown...)
		decode := decodeStrict
		if len(unknown) > 0 {
			// Reported above, field by field; decode the rest so that its problems show too.
			decode = decodeLoose
		}
		if err := decode(raw, s.out); err != nil {
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
	problems = append(problems, unknownKeys(values, showValue)...)
	problems = append(problems, placeholders(values)...)
	if len(problems) > 0 {
		return c, problems
	}
	return c, nil
}

// decodeLoose is decodeStrict for JSON whose unknown fields were already reported.
func decodeLoose(raw string, out any) error {
	return json.Unmarshal([]byte(raw), out)
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
func realTimeOverServerlessPreset(c *Config, get func(string) (string, bool)) *Problem {
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
func endpointFieldsNamed(get func(string) (string, bool)) map[string]bool {
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
