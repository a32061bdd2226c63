package components

import "github.com/inferstack/inferstack/internal/pulumimock"

// Short names for the mock's test helpers, used throughout this package's tests.
var (
	input = pulumimock.MustInput
	one   = pulumimock.MustOne
)
