// Package sagemakerfake is an httptest server that speaks the SageMaker control-plane API the way
// aws-sdk-go-v2 calls it: the AWS JSON 1.1 protocol (POST /, Content-Type
// application/x-amz-json-1.1, X-Amz-Target: SageMaker.<Operation>, SigV4-signed), with the error
// shape {"__type": "ValidationException", "message": ...} that SageMaker returns for a missing
// endpoint, configuration or model. Tests aim the real SDK client at it (Client), so that what is
// checked is the request the SDK really sends and the answer it really parses.
//
// It implements the operations inferstack calls: DescribeEndpoint, DescribeEndpointConfig,
// ListModels, ListEndpointConfigs, ListTags, DeleteModel and DeleteEndpointConfig.
package sagemakerfake

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
)

// Region and Account are the fake's ARN parts.
const (
	Region  = "eu-central-1"
	Account = "123456789012"
)

// Variant is one production variant of a live endpoint.
type Variant struct {
	Name             string
	Current, Desired int
}

// Endpoint is a live endpoint.
type Endpoint struct {
	Name       string
	ConfigName string
	Status     string // InService, Updating, RollingBack, Failed, ...
	Variants   []Variant
	Tags       map[string]string
}

// Capture is an endpoint configuration's data capture.
type Capture struct {
	DestinationS3URI   string
	SamplingPercentage int
	KMSKeyID           string
}

// Config is an endpoint configuration with one production variant.
type Config struct {
	Name         string
	VariantName  string
	ModelName    string
	InstanceType string
	InitialCount int
	VolumeGB     int
	KMSKeyID     string
	Capture      *Capture
	Tags         map[string]string
	Created      time.Time
}

// Model is a SageMaker model.
type Model struct {
	Name    string
	Tags    map[string]string
	Created time.Time
}

// Server is the fake. Set its maps before the first request; read Calls and Deleted after.
type Server struct {
	URL string
	// PageSize bounds List* pages (default 100), so that tests can make the SDK paginate.
	PageSize int

	mu        sync.Mutex
	endpoints map[string]Endpoint
	configs   map[string]Config
	models    map[string]Model
	calls     []string
	deleted   []string
	failures  map[string]*apiError
}

// New starts a fake that the test closes at its end.
func New(t *testing.T) *Server {
	t.Helper()
	s := &Server{endpoints: map[string]Endpoint{}, configs: map[string]Config{}, models: map[string]Model{}}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Client is the real aws-sdk-go-v2 SageMaker client aimed at the fake, with static credentials and
// no retries (an error answer is final, as the tests expect).
func (s *Server) Client() *sagemaker.Client {
	return sagemaker.New(sagemaker.Options{
		Region:           Region,
		BaseEndpoint:     aws.String(s.URL),
		RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIAFAKE", SecretAccessKey: "fake", Source: "sagemakerfake"}, nil
		}),
	})
}

// Fail makes every call of op answer HTTP 400 with this error type and message (for example
// "AccessDeniedException" for a role that lacks the permission).
func (s *Server) Fail(op, typ, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failures == nil {
		s.failures = map[string]*apiError{}
	}
	s.failures[op] = &apiError{http.StatusBadRequest, typ, message}
}

// PutEndpoint adds or replaces a live endpoint.
func (s *Server) PutEndpoint(e Endpoint) { s.mu.Lock(); s.endpoints[e.Name] = e; s.mu.Unlock() }

// PutConfig adds or replaces an endpoint configuration.
func (s *Server) PutConfig(c Config) { s.mu.Lock(); s.configs[c.Name] = c; s.mu.Unlock() }

// PutModel adds or replaces a model.
func (s *Server) PutModel(m Model) { s.mu.Lock(); s.models[m.Name] = m; s.mu.Unlock() }

// Calls returns the operations called, in order ("DescribeEndpoint", ...).
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// Deleted returns what Delete* removed, as "model/<name>" and "endpoint-config/<name>".
func (s *Server) Deleted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.deleted...)
}

// Has reports whether a model ("model") or configuration ("endpoint-config") still exists.
func (s *Server) Has(kind, name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if kind == "model" {
		_, ok := s.models[name]
		return ok
	}
	_, ok := s.configs[name]
	return ok
}

func arn(kind, name string) string {
	return "arn:aws:sagemaker:" + Region + ":" + Account + ":" + kind + "/" + strings.ToLower(name)
}

func epoch(t time.Time) float64 { return float64(t.Unix()) }

// apiError is SageMaker's JSON 1.1 error answer.
type apiError struct {
	status  int
	typ     string
	message string
}

func validation(format string, v ...any) *apiError {
	return &apiError{http.StatusBadRequest, "ValidationException", fmt.Sprintf(format, v...)}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	reply := func(status int, body any) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	}
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "SageMaker.")
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/":
		reply(http.StatusNotFound, map[string]string{"__type": "UnknownOperationException", "message": r.Method + " " + r.URL.Path})
		return
	case !ok || r.Header.Get("Content-Type") != "application/x-amz-json-1.1":
		reply(http.StatusBadRequest, map[string]string{"__type": "SerializationException", "message": "want JSON 1.1 with X-Amz-Target SageMaker.*"})
		return
	case !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIAFAKE/"):
		reply(http.StatusForbidden, map[string]string{"__type": "MissingAuthenticationTokenException", "message": "request is not SigV4-signed"})
		return
	}
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		reply(http.StatusBadRequest, map[string]string{"__type": "SerializationException", "message": err.Error()})
		return
	}
	s.mu.Lock()
	s.calls = append(s.calls, op)
	out, apiErr := s.handle(op, in)
	if f := s.failures[op]; f != nil {
		out, apiErr = nil, f
	}
	s.mu.Unlock()
	if apiErr != nil {
		reply(apiErr.status, map[string]string{"__type": apiErr.typ, "message": apiErr.message})
		return
	}
	reply(http.StatusOK, out)
}

func str(in map[string]any, key string) string { v, _ := in[key].(string); return v }

// handle runs one operation with s.mu held.
func (s *Server) handle(op string, in map[string]any) (any, *apiError) {
	switch op {
	case "DescribeEndpoint":
		name := str(in, "EndpointName")
		e, ok := s.endpoints[name]
		if !ok {
			return nil, validation("Could not find endpoint %q.", arn("endpoint", name))
		}
		var variants []map[string]any
		for _, v := range e.Variants {
			variants = append(variants, map[string]any{"VariantName": v.Name, "CurrentInstanceCount": v.Current,
				"DesiredInstanceCount": v.Desired, "CurrentWeight": 1, "DesiredWeight": 1})
		}
		now := epoch(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		return map[string]any{"EndpointName": e.Name, "EndpointArn": arn("endpoint", e.Name), "EndpointConfigName": e.ConfigName,
			"EndpointStatus": e.Status, "ProductionVariants": variants, "CreationTime": now, "LastModifiedTime": now}, nil
	case "DescribeEndpointConfig":
		name := str(in, "EndpointConfigName")
		c, ok := s.configs[name]
		if !ok {
			return nil, validation("Could not find endpoint configuration %q.", arn("endpoint-config", name))
		}
		variant := map[string]any{"VariantName": c.VariantName, "ModelName": c.ModelName, "InstanceType": c.InstanceType,
			"InitialInstanceCount": c.InitialCount, "InitialVariantWeight": 1}
		if c.VolumeGB > 0 {
			variant["VolumeSizeInGB"] = c.VolumeGB
		}
		out := map[string]any{"EndpointConfigName": c.Name, "EndpointConfigArn": arn("endpoint-config", c.Name),
			"ProductionVariants": []any{variant}, "CreationTime": epoch(c.Created)}
		if c.KMSKeyID != "" {
			out["KmsKeyId"] = c.KMSKeyID
		}
		if d := c.Capture; d != nil {
			capture := map[string]any{"EnableCapture": true, "DestinationS3Uri": d.DestinationS3URI,
				"InitialSamplingPercentage": d.SamplingPercentage,
				"CaptureOptions":            []any{map[string]any{"CaptureMode": "Input"}, map[string]any{"CaptureMode": "Output"}}}
			if d.KMSKeyID != "" {
				capture["KmsKeyId"] = d.KMSKeyID
			}
			out["DataCaptureConfig"] = capture
		}
		return out, nil
	case "ListModels", "ListEndpointConfigs":
		var names []string
		created := map[string]time.Time{}
		if op == "ListModels" {
			for n, m := range s.models {
				names, created[n] = append(names, n), m.Created
			}
		} else {
			for n, c := range s.configs {
				names, created[n] = append(names, n), c.Created
			}
		}
		sort.Strings(names)
		contains := str(in, "NameContains")
		var matched []string
		for _, n := range names {
			if strings.Contains(n, contains) {
				matched = append(matched, n)
			}
		}
		size := s.PageSize
		if size <= 0 {
			size = 100
		}
		if m, ok := in["MaxResults"].(float64); ok && int(m) < size {
			size = int(m)
		}
		start, _ := strconv.Atoi(str(in, "NextToken"))
		end := min(start+size, len(matched))
		var page []map[string]any
		for _, n := range matched[start:end] {
			if op == "ListModels" {
				page = append(page, map[string]any{"ModelName": n, "ModelArn": arn("model", n), "CreationTime": epoch(created[n])})
			} else {
				page = append(page, map[string]any{"EndpointConfigName": n, "EndpointConfigArn": arn("endpoint-config", n),
					"CreationTime": epoch(created[n])})
			}
		}
		key := map[string]string{"ListModels": "Models", "ListEndpointConfigs": "EndpointConfigs"}[op]
		out := map[string]any{key: page}
		if end < len(matched) {
			out["NextToken"] = strconv.Itoa(end)
		}
		return out, nil
	case "ListTags":
		res := str(in, "ResourceArn")
		var tags map[string]string
		for n, m := range s.models {
			if arn("model", n) == res {
				tags = m.Tags
			}
		}
		for n, c := range s.configs {
			if arn("endpoint-config", n) == res {
				tags = c.Tags
			}
		}
		for n, e := range s.endpoints {
			if arn("endpoint", n) == res {
				tags = e.Tags
			}
		}
		keys := make([]string, 0, len(tags))
		for k := range tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var list []map[string]string
		for _, k := range keys {
			list = append(list, map[string]string{"Key": k, "Value": tags[k]})
		}
		return map[string]any{"Tags": list}, nil
	case "DeleteModel":
		name := str(in, "ModelName")
		if _, ok := s.models[name]; !ok {
			return nil, validation("Could not find model %q.", arn("model", name))
		}
		delete(s.models, name)
		s.deleted = append(s.deleted, "model/"+name)
		return map[string]any{}, nil
	case "DeleteEndpointConfig":
		name := str(in, "EndpointConfigName")
		if _, ok := s.configs[name]; !ok {
			return nil, validation("Could not find endpoint configuration %q.", arn("endpoint-config", name))
		}
		delete(s.configs, name)
		s.deleted = append(s.deleted, "endpoint-config/"+name)
		return map[string]any{}, nil
	}
	return nil, &apiError{http.StatusBadRequest, "UnknownOperationException", "sagemakerfake does not implement " + op}
}
