// Package fakeapigateway is an httptest fake of the part of the Amazon API Gateway REST API
// (the v1 management API, REST-JSON) that the program's preflight calls: GET /account.
//
// Wire shapes follow the API reference (https://docs.aws.amazon.com/apigateway/latest/api/API_GetAccount.html)
// and the error format aws-sdk-go-v2's restjson deserializer reads: the error code in the
// X-Amzn-ErrorType header, the message in the JSON body.
package fakeapigateway

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Account is what the fake answers to GET /account; the zero value is a fresh account, which has
// no CloudWatch Logs role.
type Account struct {
	// CloudwatchRoleArn is the account's API Gateway CloudWatch Logs role in the region, "" for none.
	CloudwatchRoleArn string
	// ErrorCode, when set, makes GET /account fail with that code (e.g. AccessDeniedException)
	// and ErrorStatus (default 400).
	ErrorCode   string
	ErrorStatus int
}

// Server is a running fake; URL goes into AWS_ENDPOINT_URL_API_GATEWAY or a client's BaseEndpoint.
type Server struct {
	URL string

	mu       sync.Mutex
	account  Account
	requests []string
}

// Start runs a fake that answers with account until SetAccount; it stops with the test.
func Start(t testing.TB, account Account) *Server {
	t.Helper()
	s := &Server{account: account}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// SetAccount changes what the fake answers from now on.
func (s *Server) SetAccount(a Account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.account = a
}

// Requests lists "METHOD /path" of every request the fake received.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path)
	a := s.account
	s.mu.Unlock()

	w.Header().Set("Content-Type", "application/json")
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		// The real API refuses unsigned requests; a client that reaches here unsigned is a bug.
		writeError(w, http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token")
		return
	}
	if r.Method != http.MethodGet || r.URL.Path != "/account" {
		writeError(w, http.StatusNotFound, "NotFoundException", "the fake serves GET /account only")
		return
	}
	if a.ErrorCode != "" {
		status := a.ErrorStatus
		if status == 0 {
			status = http.StatusBadRequest
		}
		writeError(w, status, a.ErrorCode, "refused by the fake")
		return
	}
	body := map[string]any{
		"apiKeyVersion":    "4",
		"features":         []string{"UsagePlans"},
		"throttleSettings": map[string]any{"burstLimit": 5000, "rateLimit": 10000.0},
	}
	if a.CloudwatchRoleArn != "" {
		body["cloudwatchRoleArn"] = a.CloudwatchRoleArn
	}
	_ = json.NewEncoder(w).Encode(body) // a write error is the client's to see
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": message})
}

// UseFor points aws-sdk-go-v2's default configuration at the fake for the rest of the test, with
// static dummy credentials, and keeps the SDK away from the instance metadata service and the
// user's own AWS files.
func (s *Server) UseFor(t testing.TB) {
	t.Helper()
	IsolateAWSConfig(t)
	t.Setenv("AWS_ENDPOINT_URL_API_GATEWAY", s.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFAKEFAKEFAKEFAKE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake-secret")
}

// IsolateAWSConfig clears every source of AWS configuration and credentials for the rest of the
// test: none of the user's files, no environment credentials, no instance metadata service.
func IsolateAWSConfig(t testing.TB) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE":                        dir + "/config",
		"AWS_SHARED_CREDENTIALS_FILE":            dir + "/credentials",
		"AWS_EC2_METADATA_DISABLED":              "true",
		"AWS_PROFILE":                            "",
		"AWS_ACCESS_KEY_ID":                      "",
		"AWS_SECRET_ACCESS_KEY":                  "",
		"AWS_SESSION_TOKEN":                      "",
		"AWS_WEB_IDENTITY_TOKEN_FILE":            "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI":     "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_ENDPOINT_URL":                       "",
		"AWS_ENDPOINT_URL_API_GATEWAY":           "",
	} {
		t.Setenv(k, v)
	}
}
