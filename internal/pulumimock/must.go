package pulumimock

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// MustInput returns a resource's input at a dotted path and fails the test when it is absent.
func MustInput(t testing.TB, r Resource, path string) any {
	t.Helper()
	v, ok := r.Input(path)
	require.True(t, ok, "%s has no input %s", r, path)
	return v
}

// MustOne returns the single registration of a type and fails the test unless there is exactly one.
func MustOne(t testing.TB, m *Mocks, typ string) Resource {
	t.Helper()
	r, err := m.One(typ)
	require.NoError(t, err)
	return r
}
