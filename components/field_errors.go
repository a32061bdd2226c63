package components

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
)

// Every Args type of this package is its own contract, in one style:
//
//	a := args.WithDefaults() // every unset optional field at its default
//	err := a.Validate()      // nil, or FieldErrors listing every problem at once
//
// NewX does exactly this before it registers anything, so a program may call the same two
// methods first to report every problem of every component before any resource exists.

// FieldError is one invalid Args field: its Go field path from the Args (such as
// "Cache.MaxMB"), the value found, and what is allowed. Allowed may name other fields of the same
// Args as {Field.Path}; Error renders them as Go field paths, Render lets a program name them its
// own way (stack config keys).
type FieldError struct {
	// Field is the Go field path from the Args, such as "Cache.MaxMB" or "Proxy.MemoryMB".
	Field string
	// Value is the value found (after WithDefaults).
	Value any
	// Allowed says what would be accepted; {Other.Field} marks a reference to another field.
	Allowed string
}

var fieldRef = regexp.MustCompile(`\{([A-Za-z0-9_.\[\]"]+)\}`)

// Error renders the problem with Go field paths.
func (e FieldError) Error() string {
	return e.Render(func(field string) string { return field })
}

// Render renders the problem, naming the field and every field Allowed refers to by name(path).
func (e FieldError) Render(name func(field string) string) string {
	return fmt.Sprintf("%s %s: want %s", name(e.Field), ShowValue(e.Value), e.AllowedWith(name))
}

// AllowedWith is Allowed with every {Field} reference replaced by name(Field).
func (e FieldError) AllowedWith(name func(field string) string) string {
	return fieldRef.ReplaceAllStringFunc(e.Allowed, func(m string) string { return name(m[1 : len(m)-1]) })
}

// Refs lists the fields Allowed refers to.
func (e FieldError) Refs() []string {
	var out []string
	for _, m := range fieldRef.FindAllStringSubmatch(e.Allowed, -1) {
		out = append(out, m[1])
	}
	return out
}

// ShowValue renders a field value as a message quotes it: strings quoted, the rest as Go prints them.
func ShowValue(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("%q", v)
	case []string:
		return fmt.Sprintf("%q", v)
	case nil:
		return "unset"
	default:
		return fmt.Sprint(v)
	}
}

// FieldErrors is every problem of one Args; Validate returns it as its error.
type FieldErrors []FieldError

// Error lists the problems, one per line.
func (es FieldErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As and errors.Is see each problem.
func (es FieldErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// err returns es as an error, or nil when it is empty.
func (es FieldErrors) err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// under returns the problems of a nested Args with every field path, references included,
// prefixed by prefix ("Proxy").
func (es FieldErrors) under(prefix string) FieldErrors {
	out := make(FieldErrors, len(es))
	for i, e := range es {
		e.Field = prefix + "." + e.Field
		e.Allowed = fieldRef.ReplaceAllString(e.Allowed, "{"+prefix+".$1}")
		out[i] = e
	}
	return out
}

// nested appends the FieldErrors of err, a Validate result, under prefix.
func (es *FieldErrors) nested(prefix string, err error) {
	if err == nil {
		return
	}
	var fe FieldErrors
	if !errors.As(err, &fe) {
		*es = append(*es, FieldError{Field: prefix, Value: nil, Allowed: err.Error()})
		return
	}
	*es = append(*es, fe.under(prefix)...)
}

// add records a problem; allowed is a format over args.
func (es *FieldErrors) add(field string, value any, allowed string, args ...any) {
	*es = append(*es, FieldError{Field: field, Value: value, Allowed: fmt.Sprintf(allowed, args...)})
}

func (es *FieldErrors) intIn(field string, v, lo, hi int) {
	if v < lo || v > hi {
		es.add(field, v, "an integer from %d to %d", lo, hi)
	}
}

func (es *FieldErrors) oneOf(field, v string, allowed ...string) {
	if !slices.Contains(allowed, v) {
		es.add(field, v, "one of %s", strings.Join(allowed, ", "))
	}
}

// LogRetentionDays are the retention periods CloudWatch Logs accepts (PutRetentionPolicy,
// retentionInDays), the one list every component and the stack config check against.
var LogRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
	2192, 2557, 2922, 3288, 3653}

func (es *FieldErrors) retention(field string, days int) {
	if !slices.Contains(LogRetentionDays, days) {
		es.add(field, days, "a CloudWatch Logs retention: one of %s", joinInts(LogRetentionDays))
	}
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

// ValidEmail reports whether s is a bare address such as oncall@example.com, the form SNS and
// AWS Budgets subscribe (net/mail parses it; a display name or angle brackets are refused).
func ValidEmail(s string) bool {
	addr, err := mail.ParseAddress(s)
	return err == nil && addr.Address == s && strings.Contains(s[strings.LastIndex(s, "@")+1:], ".")
}

var reKMSKey = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/[A-Za-z0-9/_-]+$`)

func (es *FieldErrors) kmsKey(field, arn string) {
	if arn != "" && !reKMSKey.MatchString(arn) {
		es.add(field, arn, "a KMS key or alias ARN arn:aws:kms:<region>:<account>:key/<id>")
	}
}
