package stackconfig

import (
	"regexp"
	"slices"
	"strings"
)

// What a stack may be: rules about stacks only (the environments, prod's rules, names this program
// derives from the model name). What an AWS resource accepts is the components' to say (each
// Args' Validate); program.CheckConfig reports both together, by stack key.

// maxModelNameLen keeps "<model>-endpoint-endpoint-config-" plus Pulumi's 7-character suffix
// within SageMaker's 63 characters: the model name names every component.
const maxModelNameLen = 30

var (
	reModelName = regexp.MustCompile(`^[a-z]([a-z0-9-]*[a-z0-9])?$`)
	reRegion    = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$`)
	reTagValue  = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,256}$`)
	reEnvVar    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Validate checks a merged configuration and returns a Problems error listing every problem, or nil.
func Validate(c Config) error {
	if ps := Check(c); len(ps) > 0 {
		return ps
	}
	return nil
}

// Check returns every problem of a merged configuration, in schema order; empty means valid.
func Check(c Config) Problems {
	var k checker
	k.top(c)
	k.model(c.Model)
	k.image(c.Image)
	k.endpoint(c.Endpoint, c.IsProd())
	k.monitoring(c.Monitoring)
	return k.problems
}

func (k *checker) top(c Config) {
	if !reRegion.MatchString(c.Region) {
		k.add(KeyRegion, c.Region, "an AWS region such as eu-central-1 (pulumi config set aws:region <region>)")
	}
	k.oneOf(KeyEnvironment, c.Environment, Environments...)
	if !reTagValue.MatchString(c.Team) {
		k.add(KeyTeam, c.Team, "a non-empty tag value of up to 256 letters, digits, spaces and _ . : / = + - @")
	}
}

func (k *checker) model(m Model) {
	const p = KeyModel + "."
	if len(m.Name) > maxModelNameLen || !reModelName.MatchString(m.Name) {
		k.add(p+"name", m.Name, "1 to %d lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen", maxModelNameLen)
	}
	if m.DataURL != "" && m.Dir != "" {
		// SageMaker extracts ModelDataUrl into /opt/ml/model, where the baked directory lives.
		k.add(p+"dir", m.Dir, "empty when model.dataUrl is set: both would provide /opt/ml/model")
	}
	for _, name := range sortedKeys(m.Environment) {
		if !reEnvVar.MatchString(name) {
			k.add(p+"environment."+name, name, "an environment variable name: letters, digits and _, not starting with a digit")
		}
	}
}

func (k *checker) image(i Image) {
	const p = KeyImage + "."
	if strings.TrimSpace(i.Dockerfile) == "" {
		k.add(p+"dockerfile", i.Dockerfile, "a Dockerfile path relative to the project, such as %q", DefaultDockerfile)
	}
}

// endpoint checks prod's rules: a real-time fleet of at least two instances, autoscaled, with
// rollback alarms.
func (k *checker) endpoint(e Endpoint, prod bool) {
	const p = KeyEndpoint + "."
	if !prod {
		return
	}
	if e.Serverless != nil {
		k.add(p+"serverless", "set", "null in prod: prod needs at least 2 instances, autoscaling and rollback alarms")
		return
	}
	if e.InstanceCount < prodMinInstances {
		k.add(p+"instanceCount", e.InstanceCount, "at least %d in prod", prodMinInstances)
	}
	if !e.Autoscaling.Enabled {
		k.add(p+"autoscaling.enabled", false, "true in prod")
	} else if e.Autoscaling.MinCapacity < prodMinInstances {
		k.add(p+"autoscaling.minCapacity", e.Autoscaling.MinCapacity, "at least %d in prod", prodMinInstances)
	}
	if !e.Rollback.Enabled {
		k.add(p+"rollback.enabled", false, "true in prod")
	}
}

// prodMinInstances keeps prod up through an instance failure and a rollout.
const prodMinInstances = 2

// monitoring checks that every stack has a cost budget (the component would create none for 0).
func (k *checker) monitoring(m Monitoring) {
	if m.MonthlyBudgetUSD <= 0 {
		k.add(KeyMonitoring+".monthlyBudgetUsd", m.MonthlyBudgetUSD, "a positive amount in USD: every stack has a cost budget")
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
