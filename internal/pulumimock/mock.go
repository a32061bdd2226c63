// Package pulumimock is the recording Pulumi mock that every infrastructure test in this module uses:
// it runs a program offline with pulumi.RunWithMocks, records each registered resource with its type,
// name, parent and inputs, and answers the provider functions the components call with realistic values.
package pulumimock

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Fake account facts returned by the mock for aws:index/getCallerIdentity, getRegion and friends.
const (
	AccountID = "123456789012"
	Region    = "eu-central-1"
	Partition = "aws"
)

// Resource is one resource registration seen by the mock.
type Resource struct {
	Type   string // e.g. "aws:sagemaker/endpoint:Endpoint"
	Name   string // the logical name
	Parent string // the parent's URN; "" for the stack's direct children
	Custom bool   // false for component resources
	Inputs resource.PropertyMap
	// State is what the mock returned as the resource's outputs (inputs plus computed fakes).
	State resource.PropertyMap
	ID    string
	// DependsOn holds the URNs this resource waits for: explicit DependsOn options and the
	// resources whose outputs its inputs use.
	DependsOn []string
}

// Waits reports whether the resource waits for one of this type and logical name.
func (r Resource) Waits(typ, name string) bool {
	for _, urn := range r.DependsOn {
		if strings.HasSuffix(urn, typ+"::"+name) {
			return true
		}
	}
	return false
}

// URN returns the parent-qualified identity used in failure messages.
func (r Resource) String() string { return r.Type + "::" + r.Name }

// Input returns the input at a dotted path ("tags.team", "productionVariants.0.variantName"),
// unwrapping secrets and outputs; the second result is false when the path does not exist.
func (r Resource) Input(path string) (any, bool) { return Lookup(r.Inputs, path) }

// Call is one provider function call (invoke) seen by the mock.
type Call struct {
	Token string
	Args  resource.PropertyMap
}

// Mocks records registrations. The zero value is not usable: use New.
type Mocks struct {
	mu        sync.Mutex
	resources []Resource
	calls     []Call
	// OnNewResource, when set, may add computed outputs for a resource; its result is merged over
	// the defaults. Tests use it to simulate provider-computed values.
	OnNewResource func(args pulumi.MockResourceArgs) resource.PropertyMap
}

// New returns an empty recording mock.
func New() *Mocks { return &Mocks{} }

var _ pulumi.MockResourceMonitor = (*Mocks)(nil)

// NewResource records the registration and returns an ID and state: the inputs plus the computed
// attributes the components read (arn, name, id, url, repositoryUrl, ...), shaped like AWS's own.
func (m *Mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	state := args.Inputs.Copy()
	id := args.Name + "-id"
	if args.Custom {
		computed(args.TypeToken, args.Name, state)
		if v, ok := state["id"]; ok && v.IsString() {
			id = v.StringValue()
		}
	}
	if m.OnNewResource != nil {
		for k, v := range m.OnNewResource(args) {
			state[k] = v
		}
	}
	parent, deps := "", []string(nil)
	if args.RegisterRPC != nil {
		parent = args.RegisterRPC.GetParent()
		deps = args.RegisterRPC.GetDependencies()
	}
	m.mu.Lock()
	m.resources = append(m.resources, Resource{
		Type: args.TypeToken, Name: args.Name, Parent: parent, Custom: args.Custom,
		Inputs: args.Inputs, State: state, ID: id, DependsOn: deps,
	})
	m.mu.Unlock()
	return id, state, nil
}

// Call answers the provider functions the components use with fixed, realistic values.
func (m *Mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	m.mu.Lock()
	m.calls = append(m.calls, Call{Token: args.Token, Args: args.Args})
	m.mu.Unlock()
	switch args.Token {
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]any{
			"accountId": AccountID, "arn": "arn:aws:iam::" + AccountID + ":user/ci", "userId": "AIDAEXAMPLE", "id": AccountID,
		}), nil
	case "aws:index/getRegion:getRegion":
		return resource.NewPropertyMapFromMap(map[string]any{
			"name": Region, "id": Region, "region": Region, "endpoint": "ec2." + Region + ".amazonaws.com",
			"description": "Europe (Frankfurt)",
		}), nil
	case "aws:index/getPartition:getPartition":
		return resource.NewPropertyMapFromMap(map[string]any{
			"partition": Partition, "id": Partition, "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws",
		}), nil
	case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
		return resource.NewPropertyMapFromMap(map[string]any{
			"authorizationToken": "QVdTOnRva2Vu", "userName": "AWS", "password": "token",
			"proxyEndpoint": "https://" + AccountID + ".dkr.ecr." + Region + ".amazonaws.com",
			"expiresAt":     "2030-01-01T00:00:00Z", "id": Region,
		}), nil
	}
	return resource.PropertyMap{}, nil
}

// Resources returns every registration in order.
func (m *Mocks) Resources() []Resource {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Resource(nil), m.resources...)
}

// Calls returns every provider function call in order.
func (m *Mocks) Calls() []Call {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Call(nil), m.calls...)
}

// OfType returns the registrations of one type token, in order.
func (m *Mocks) OfType(typ string) []Resource {
	var out []Resource
	for _, r := range m.Resources() {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// One returns the single registration of a type token, or an error naming how many there were.
func (m *Mocks) One(typ string) (Resource, error) {
	rs := m.OfType(typ)
	if len(rs) != 1 {
		return Resource{}, fmt.Errorf("want exactly one %s, got %d", typ, len(rs))
	}
	return rs[0], nil
}

// Named returns the registration with this logical name and type, if any.
func (m *Mocks) Named(typ, name string) (Resource, bool) {
	for _, r := range m.Resources() {
		if r.Type == typ && r.Name == name {
			return r, true
		}
	}
	return Resource{}, false
}

// Inventory counts registrations by type token, for whole-program checks.
func (m *Mocks) Inventory() map[string]int {
	out := map[string]int{}
	for _, r := range m.Resources() {
		out[r.Type]++
	}
	return out
}

// Types lists the distinct type tokens, sorted.
func (m *Mocks) Types() []string {
	inv := m.Inventory()
	out := make([]string, 0, len(inv))
	for t := range inv {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Lookup walks a dotted path through a property map; list elements are addressed by index.
// Secrets and known outputs are unwrapped; the result is a plain Go value
// (string, float64, bool, []any, map[string]any) or nil for null.
func Lookup(m resource.PropertyMap, path string) (any, bool) {
	v := resource.NewObjectProperty(m)
	for _, part := range strings.Split(path, ".") {
		v = unwrap(v)
		switch {
		case v.IsObject():
			next, ok := v.ObjectValue()[resource.PropertyKey(part)]
			if !ok {
				return nil, false
			}
			v = next
		case v.IsArray():
			var i int
			if _, err := fmt.Sscanf(part, "%d", &i); err != nil || i < 0 || i >= len(v.ArrayValue()) {
				return nil, false
			}
			v = v.ArrayValue()[i]
		default:
			return nil, false
		}
	}
	return Plain(v), true
}

// IsSecret reports whether the input at path is marked secret.
func IsSecret(m resource.PropertyMap, path string) bool {
	v := resource.NewObjectProperty(m)
	parts := strings.Split(path, ".")
	for i, part := range parts {
		if v.IsSecret() {
			return true
		}
		if v.IsOutput() {
			if v.OutputValue().Secret {
				return true
			}
			v = v.OutputValue().Element
		}
		if !v.IsObject() {
			return false
		}
		v = v.ObjectValue()[resource.PropertyKey(part)]
		if i == len(parts)-1 {
			return v.IsSecret() || (v.IsOutput() && v.OutputValue().Secret)
		}
	}
	return false
}

func unwrap(v resource.PropertyValue) resource.PropertyValue {
	for {
		switch {
		case v.IsSecret():
			v = v.SecretValue().Element
		case v.IsOutput():
			v = v.OutputValue().Element
		default:
			return v
		}
	}
}

// Plain converts a property value to plain Go values, unwrapping secrets and outputs.
func Plain(v resource.PropertyValue) any {
	v = unwrap(v)
	switch {
	case v.IsNull():
		return nil
	case v.IsString():
		return v.StringValue()
	case v.IsNumber():
		return v.NumberValue()
	case v.IsBool():
		return v.BoolValue()
	case v.IsArray():
		out := make([]any, 0, len(v.ArrayValue()))
		for _, e := range v.ArrayValue() {
			out = append(out, Plain(e))
		}
		return out
	case v.IsObject():
		out := map[string]any{}
		for k, e := range v.ObjectValue() {
			out[string(k)] = Plain(e)
		}
		return out
	case v.IsAsset():
		a := v.AssetValue()
		if a.Path != "" {
			return a.Path
		}
		return a.Text
	case v.IsArchive():
		return v.ArchiveValue()
	}
	return v.V
}
