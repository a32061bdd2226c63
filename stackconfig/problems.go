package stackconfig

import (
	"fmt"
	"strings"
)

// Problem is one invalid setting: which key, the value found, and what is allowed.
type Problem struct {
	// Key is the fully qualified key path, e.g. "inferstack:endpoint.instanceCount".
	Key string
	// Value is the offending value as the user wrote it (or as the preset left it).
	Value string
	// Allowed says what would be accepted.
	Allowed string
}

// String renders the problem as one line: key, value, what is allowed.
func (p Problem) String() string {
	return fmt.Sprintf("%s: got %s; allowed: %s", p.Key, p.Value, p.Allowed)
}

// Problems is every problem of one configuration; it is the error Load, Parse and Validate return.
type Problems []Problem

// Error lists every problem, one per line, under a count.
func (ps Problems) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid stack config (%d problem", len(ps))
	if len(ps) != 1 {
		b.WriteString("s")
	}
	b.WriteString("):")
	for _, p := range ps {
		b.WriteString("\n  - ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Keys lists the keys of the problems, in order; tests and tools use it to check which rules fired.
func (ps Problems) Keys() []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Key
	}
	return out
}

// checker collects problems; each rule adds at most one problem per key.
type checker struct{ problems Problems }

func (c *checker) add(key string, value any, allowed string, args ...any) {
	c.problems = append(c.problems, Problem{Key: key, Value: show(value), Allowed: fmt.Sprintf(allowed, args...)})
}

func show(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("%q", v)
	case []string:
		return fmt.Sprintf("%q", v)
	default:
		return fmt.Sprint(v)
	}
}

func (c *checker) oneOf(key, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	c.add(key, v, "one of %s", strings.Join(allowed, ", "))
}
