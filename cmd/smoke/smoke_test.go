package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeStack is a token endpoint and an API that behave like Cognito and the deployed API Gateway.
type fakeStack struct {
	tokenRequests atomic.Int32
	invocations   atomic.Int32
	openPing      bool // the API forgets to require a token on /ping
	failEvery     int32
	server        *httptest.Server
}

func newFakeStack(t *testing.T) *fakeStack {
	t.Helper()
	f := &fakeStack{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if !ok || id != "client" || secret != "s3cret" || r.FormValue("grant_type") != "client_credentials" ||
			r.FormValue("scope") != "inferstack/invoke" {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusBadRequest)
			return
		}
		n := f.tokenRequests.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "tok-" + string(rune('0'+n)), "expires_in": 3600, "token_type": "Bearer"})
	})
	authorized := func(r *http.Request) bool {
		return strings.HasPrefix(r.Header.Get("Authorization"), "tok-") && r.Header.Get("x-api-key") == "key"
	}
	mux.HandleFunc("GET /v1/ping", func(w http.ResponseWriter, r *http.Request) {
		if !f.openPing && !authorized(r) {
			http.Error(w, `{"message":"Unauthorized"}`, http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"status":"UP"}`))
	})
	mux.HandleFunc("POST /v1/invocations", func(w http.ResponseWriter, r *http.Request) {
		if !authorized(r) {
			http.Error(w, `{"message":"Unauthorized"}`, http.StatusUnauthorized)
			return
		}
		var body struct {
			Instances [][]float64 `json:"instances"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, `{"error":{"code":"bad_request","message":"instances must be rows"}}`, http.StatusBadRequest)
			return
		}
		n := f.invocations.Add(1)
		if f.failEvery > 0 && n%f.failEvery == 0 {
			http.Error(w, `{"error":{"code":"internal"}}`, http.StatusBadGateway)
			return
		}
		w.Header().Set("X-Cache", map[bool]string{true: "HIT", false: "MISS"}[n > 2])
		_, _ = w.Write([]byte(`{"predictions":[{"label":"setosa"}]}`))
	})
	f.server = httptest.NewServer(mux)
	t.Cleanup(f.server.Close)
	return f
}

func (f *fakeStack) args(extra ...string) []string {
	return append([]string{
		"-url", f.server.URL + "/v1", "-token-url", f.server.URL + "/oauth2/token",
		"-client-id", "client", "-scope", "inferstack/invoke", "-api-key", "key", "-requests", "40",
	}, extra...)
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

var secretEnv = env(map[string]string{"SMOKE_CLIENT_SECRET": "s3cret"})

func TestSmokePassesAgainstAHealthyStackAndReusesOneToken(t *testing.T) {
	f := newFakeStack(t)
	var out bytes.Buffer
	err := run(context.Background(), f.args(), secretEnv, &out)
	require.NoError(t, err, out.String())
	assert.Contains(t, out.String(), "ok   a request without a token is refused")
	assert.Contains(t, out.String(), "ok   invalid input is refused with a 4xx")
	assert.Contains(t, out.String(), "load 40 requests")
	assert.Equal(t, int32(1), f.tokenRequests.Load(), "one cached token serves the whole run")
	assert.Equal(t, int32(41), f.invocations.Load(), "one functional invocation plus the load phase")
}

func TestSmokeFails(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*fakeStack)
		extra []string
		env   map[string]string
		want  string
	}{
		{"open method", func(f *fakeStack) { f.openPing = true }, nil, nil, "without a token answered 200"},
		{"wrong secret", nil, nil, map[string]string{"SMOKE_CLIENT_SECRET": "nope"}, "token endpoint answered 400"},
		{"error rate", func(f *fakeStack) { f.failEvery = 5 }, nil, nil, "error rate 20.00% is above"},
		{"latency", nil, []string{"-max-p99", "1ns"}, nil, "p99 latency"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeStack(t)
			if tc.setup != nil {
				tc.setup(f)
			}
			e := secretEnv
			if tc.env != nil {
				e = env(tc.env)
			}
			err := run(context.Background(), f.args(tc.extra...), e, &bytes.Buffer{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestSmokeKeepsTheTransportError: when the API does not answer at all, the first check's error
// says so and wraps the client's own error, so a caller can tell a refused connection or a
// timeout (errors.As *url.Error) from a wrong answer.
func TestSmokeKeepsTheTransportError(t *testing.T) {
	f := newFakeStack(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close() // nothing listens on its address any more
	args := append(f.args(), "-url", dead.URL+"/v1")
	err := run(context.Background(), args, secretEnv, &bytes.Buffer{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "GET /ping without a token got no answer")
	var uerr *url.Error
	assert.ErrorAs(t, err, &uerr)
}

func TestConfigReportsEveryProblemAtOnce(t *testing.T) {
	_, err := parseConfig([]string{"-url", "ftp://x", "-concurrency", "0", "-max-error-rate", "2", "-body", " "}, env(nil), io.Discard)
	require.Error(t, err)
	for _, want := range []string{`-url "ftp://x"`, `-token-url ""`, "-client-id and -client-secret", "-body is empty",
		"-concurrency 0", "-max-error-rate 2"} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestConfigReadsStackOutputsAndFlagsWin(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "outputs.json")
	outputs := map[string]any{
		"apiUrl": "https://api.example/v1", "tokenEndpoint": "https://auth.example/oauth2/token",
		"machineClientId": "from-outputs", "machineClientSecret": "sec", "invokeScope": "inferstack/invoke",
		"apiKeyValue": "k", "endpointName": "ignored",
	}
	raw, err := json.Marshal(outputs)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, raw, 0o600))

	c, err := parseConfig([]string{"-outputs", path, "-client-id", "from-flag"}, env(nil), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "https://api.example/v1", c.APIURL)
	assert.Equal(t, "from-flag", c.ClientID)
	assert.Equal(t, "sec", c.ClientSecret)
	assert.Equal(t, "k", c.APIKey)

	outputs["machineClientSecret"] = "[secret]"
	raw, err = json.Marshal(outputs)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, raw, 0o600))
	_, err = parseConfig([]string{"-outputs", path}, env(nil), io.Discard)
	require.ErrorContains(t, err, "--show-secrets")
}

func TestTokenIsRefreshedOnlyNearExpiry(t *testing.T) {
	f := newFakeStack(t)
	now := time.Unix(1_800_000_000, 0)
	ts := &tokenSource{client: f.server.Client(), url: f.server.URL + "/oauth2/token", id: "client", secret: "s3cret",
		scope: "inferstack/invoke", now: func() time.Time { return now }}
	ctx := context.Background()
	first, err := ts.Token(ctx)
	require.NoError(t, err)
	now = now.Add(58 * time.Minute)
	again, err := ts.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, first, again)
	now = now.Add(2 * time.Minute) // inside the last minute of the hour-long token
	fresh, err := ts.Token(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, first, fresh)
	assert.Equal(t, int32(2), f.tokenRequests.Load())
}

func TestPercentiles(t *testing.T) {
	var r report
	for i := 1; i <= 100; i++ {
		r.latencies = append(r.latencies, time.Duration(i)*time.Millisecond)
	}
	assert.Equal(t, 50*time.Millisecond, r.percentile(0.50))
	assert.Equal(t, 99*time.Millisecond, r.percentile(0.99))
	assert.Equal(t, time.Duration(0), report{}.percentile(0.99))
}
