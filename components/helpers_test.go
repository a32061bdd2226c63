package components

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/internal/pulumimock"
)

// input returns a resource's input at a dotted path and fails the test when it is absent.
func input(t *testing.T, r pulumimock.Resource, path string) any {
	t.Helper()
	v, ok := r.Input(path)
	require.True(t, ok, "%s has no input %s", r, path)
	return v
}

// one returns the single registration of a type and fails the test unless there is exactly one.
func one(t *testing.T, m *pulumimock.Mocks, typ string) pulumimock.Resource {
	t.Helper()
	r, err := m.One(typ)
	require.NoError(t, err)
	return r
}
