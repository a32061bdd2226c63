package components

import (
	"encoding/json"
	"fmt"
)

// PolicyDocument is an IAM policy document. Components build policies from these types instead of
// string templates, so that every document is valid JSON by construction and tests can walk it.
type PolicyDocument struct {
	Version   string            `json:"Version"`
	Statement []PolicyStatement `json:"Statement"`
}

// PolicyStatement is one statement of a PolicyDocument.
type PolicyStatement struct {
	Sid       string         `json:"Sid,omitempty"`
	Effect    string         `json:"Effect"`
	Principal map[string]any `json:"Principal,omitempty"`
	Action    []string       `json:"Action"`
	Resource  []string       `json:"Resource,omitempty"`
	Condition map[string]any `json:"Condition,omitempty"`
}

// NewPolicy returns a 2012-10-17 policy document of the given statements.
func NewPolicy(statements ...PolicyStatement) PolicyDocument {
	return PolicyDocument{Version: "2012-10-17", Statement: statements}
}

// Allow returns an Allow statement.
func Allow(sid string, actions []string, resources ...string) PolicyStatement {
	return PolicyStatement{Sid: sid, Effect: "Allow", Action: actions, Resource: resources}
}

// AssumeRolePolicy returns the trust policy that lets an AWS service principal assume a role,
// optionally restricted to this account with aws:SourceAccount (confused-deputy protection).
func AssumeRolePolicy(service, sourceAccount string) PolicyDocument {
	st := PolicyStatement{
		Effect:    "Allow",
		Principal: map[string]any{"Service": service},
		Action:    []string{"sts:AssumeRole"},
	}
	if sourceAccount != "" {
		st.Condition = map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": sourceAccount}}
	}
	return NewPolicy(st)
}

// JSON renders the document.
func (d PolicyDocument) JSON() (string, error) {
	if len(d.Statement) == 0 {
		return "", fmt.Errorf("policy document has no statements")
	}
	b, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("render policy document: %w", err)
	}
	return string(b), nil
}
