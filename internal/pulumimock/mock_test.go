package pulumimock

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// child is a minimal custom resource so the mock sees a real registration without a provider SDK.
type child struct {
	pulumi.CustomResourceState
	Arn  pulumi.StringOutput `pulumi:"arn"`
	Name pulumi.StringOutput `pulumi:"name"`
}

type parent struct{ pulumi.ResourceState }

func TestRecordsResourcesWithParentInputsAndComputedARNs(t *testing.T) {
	mocks := New()
	var arn, name string
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		p := &parent{}
		if err := ctx.RegisterComponentResource("test:index:Parent", "svc", p); err != nil {
			return err
		}
		c := &child{}
		err := ctx.RegisterResource("aws:iam/role:Role", "svc-role", pulumi.Map{
			"tags":   pulumi.StringMap{"team": pulumi.String("ml")},
			"secret": pulumi.ToSecret(pulumi.String("s3cr3t")),
		}, c, pulumi.Parent(p))
		if err != nil {
			return err
		}
		c.Arn.ApplyT(func(v string) string { arn = v; return v })
		c.Name.ApplyT(func(v string) string { name = v; return v })
		return nil
	}, pulumi.WithMocks("proj", "dev", mocks))
	require.NoError(t, err)

	role, err := mocks.One("aws:iam/role:Role")
	require.NoError(t, err)
	comp, ok := mocks.Named("test:index:Parent", "svc")
	require.True(t, ok)
	assert.False(t, comp.Custom)
	assert.Contains(t, role.Parent, "test:index:Parent::svc", "the child must record its parent's URN")
	team, ok := role.Input("tags.team")
	require.True(t, ok)
	assert.Equal(t, "ml", team)
	_, ok = role.Input("tags.missing")
	assert.False(t, ok)
	assert.True(t, IsSecret(role.Inputs, "secret"))
	assert.False(t, IsSecret(role.Inputs, "tags"))
	assert.Regexp(t, `^svc-role-[0-9a-f]{7}$`, name, "autonamed like Pulumi does")
	assert.Equal(t, "arn:aws:iam::"+AccountID+":role/"+name, arn)
	assert.Equal(t, map[string]int{"aws:iam/role:Role": 1, "test:index:Parent": 1}, mocks.Inventory())
}

func TestLookupWalksListsAndRejectsBadIndexes(t *testing.T) {
	props := resource.NewPropertyMapFromMap(map[string]any{
		"variants": []any{map[string]any{"name": "primary", "weight": 1.0}},
	})
	tests := []struct {
		path string
		want any
		ok   bool
	}{
		{"variants.0.name", "primary", true},
		{"variants.0.weight", 1.0, true},
		{"variants.1.name", nil, false},
		{"variants.x", nil, false},
		{"variants.0.name.deeper", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			got, ok := Lookup(props, tc.path)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestMustHelpersReturnWhatExists(t *testing.T) {
	m := New()
	_, _, err := m.NewResource(pulumi.MockResourceArgs{TypeToken: "aws:sns/topic:Topic", Name: "t", Custom: true,
		Inputs: resource.NewPropertyMapFromMap(map[string]any{"tags": map[string]any{"team": "ml"}})})
	require.NoError(t, err)
	r := MustOne(t, m, "aws:sns/topic:Topic")
	assert.Equal(t, "ml", MustInput(t, r, "tags.team"))
}
