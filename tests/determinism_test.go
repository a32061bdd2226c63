package tests

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/internal/pulumimock"
)

// TestProgramIsDeterministic runs the program twice on each committed stack file and compares
// every resource's inputs: anything that differs between two runs of unchanged code and config
// (a timestamp, a random suffix, map order in a policy) would show as a diff in every
// `pulumi preview`, and for the image or the model, as a needless redeploy.
func TestProgramIsDeterministic(t *testing.T) {
	for stack, path := range stackFiles(t) {
		t.Run(stack, func(t *testing.T) {
			values := readStackConfig(t, path)
			// Each run in its own subtest: runProgram changes into the repository root until the
			// (sub)test ends.
			var first, second runResult
			for _, r := range []*runResult{&first, &second} {
				t.Run("run", func(t *testing.T) {
					var err error
					*r, err = runProgram(t, stack, values)
					require.NoError(t, err)
				})
			}
			require.NotNil(t, first.mocks)
			require.NotNil(t, second.mocks)

			plain := func(m resource.PropertyMap) any { return pulumimock.Plain(resource.NewObjectProperty(m)) }
			byKey := map[string]any{}
			for _, r := range first.mocks.Resources() {
				byKey[r.String()] = plain(r.Inputs)
			}
			require.Len(t, second.mocks.Resources(), len(byKey))
			for _, r := range second.mocks.Resources() {
				want, ok := byKey[r.String()]
				if assert.True(t, ok, "%s appeared only in the second run", r) {
					assert.Equal(t, want, plain(r.Inputs), "%s: inputs differ between two identical runs", r)
				}
			}
			assert.Equal(t, first.outputs, second.outputs)
		})
	}
}
