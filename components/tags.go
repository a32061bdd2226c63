package components

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// Tag keys that every taggable resource carries. Activate them as cost allocation tags in the
// billing console so that the cost budget can filter on them.
const (
	TagTeam        = "team"
	TagModel       = "model"
	TagEnvironment = "environment"
	TagStack       = "stack"
	TagManagedBy   = "managed-by"
)

// ManagedBy is the value of the managed-by tag.
const ManagedBy = "inferstack"

// StandardTags returns the cost tags for one deployment: team, model, environment, stack and
// managed-by. The stack value must be unique per deployment in the account (the program uses
// "<model>/<stack>"): Monitoring's cost budget filters on it. Pass the result as the Tags of every component; each component puts them on every
// taggable child, which is the one mechanism by which resources are tagged.
func StandardTags(team, model, environment, stack string) map[string]string {
	return map[string]string{
		TagTeam:        team,
		TagModel:       model,
		TagEnvironment: environment,
		TagStack:       stack,
		TagManagedBy:   ManagedBy,
	}
}

// tagsFor returns the component's tags plus a Name tag for one child, as an input. Children
// never build tag maps of their own.
func tagsFor(tags map[string]string, name string) pulumi.StringMap {
	out := make(pulumi.StringMap, len(tags)+1)
	for k, v := range tags {
		out[k] = pulumi.String(v)
	}
	if name != "" {
		out["Name"] = pulumi.String(name)
	}
	return out
}
