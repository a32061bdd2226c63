package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/server"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// noSageMakerDir points the SageMaker model path at a directory that does not exist.
func noSageMakerDir(t *testing.T) {
	t.Helper()
	old := sageMakerModelDir
	sageMakerModelDir = filepath.Join(t.TempDir(), "absent")
	t.Cleanup(func() { sageMakerModelDir = old })
}

func TestParseConfigPrecedence(t *testing.T) {
	existing := t.TempDir()
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		sageMaker  string // the SageMaker model path; "" means it does not exist
		wantPort   int
		wantDir    string
		wantFrom   string
		wantMaxB   int64
		wantTimout time.Duration
	}{
		{"defaults", []string{"server"}, nil, "", 8080, "", "", 6 << 20, 60 * time.Second},
		{"serve command", []string{"server", "serve"}, nil, "", 8080, "", "", 6 << 20, 60 * time.Second},
		{"flags before and after serve", []string{"server", "-port", "9000", "serve", "-model-dir", "/m"}, nil, "", 9000, "/m", "-model-dir", 6 << 20, 60 * time.Second},
		{"SageMaker port beats the flag", []string{"server", "serve", "-port", "9000"}, map[string]string{"SAGEMAKER_BIND_TO_PORT": "7070"}, "", 7070, "", "", 6 << 20, 60 * time.Second},
		{"flag dir beats MODEL_DIR", []string{"server", "-model-dir", "/flag"}, map[string]string{"MODEL_DIR": "/env"}, existing, 8080, "/flag", "-model-dir", 6 << 20, 60 * time.Second},
		{"MODEL_DIR beats the SageMaker path", []string{"server"}, map[string]string{"MODEL_DIR": "/env"}, existing, 8080, "/env", "MODEL_DIR", 6 << 20, 60 * time.Second},
		{"SageMaker path when it exists", []string{"server", "serve"}, nil, existing, 8080, existing, "SageMaker model path", 6 << 20, 60 * time.Second},
		{"limits from the environment", []string{"server"}, map[string]string{"MAX_BODY_BYTES": "1000", "PREDICT_TIMEOUT": "5s"}, "", 8080, "", "", 1000, 5 * time.Second},
		{"limit flags beat the environment", []string{"server", "-max-body-bytes", "2000", "-predict-timeout", "1m30s"},
			map[string]string{"MAX_BODY_BYTES": "1000", "PREDICT_TIMEOUT": "5s"}, "", 8080, "", "", 2000, 90 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			noSageMakerDir(t)
			if tc.sageMaker != "" {
				sageMakerModelDir = tc.sageMaker
			}
			c, err := parseConfig(tc.args, env(tc.env), io.Discard)
			require.NoError(t, err)
			assert.Equal(t, tc.wantPort, c.port)
			assert.Equal(t, tc.wantDir, c.modelDir)
			assert.Equal(t, tc.wantFrom, c.modelDirFrom)
			assert.Equal(t, tc.wantMaxB, c.maxBodyBytes)
			assert.Equal(t, tc.wantTimout, c.predictTimeout)
		})
	}
}

// TestParseConfigWorkLimits reads the row, response and memory limits from flags and the
// environment, flags first.
func TestParseConfigWorkLimits(t *testing.T) {
	noSageMakerDir(t)
	c, err := parseConfig([]string{"server"}, env(nil), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, int64(0), c.maxRows)
	assert.Equal(t, int64(6<<20), c.maxRespBytes, "SageMaker's and Lambda's 6 MB response limit")
	assert.Equal(t, int64(0), c.memoryBudget, "half the container's memory")

	c, err = parseConfig([]string{"server", "-max-rows", "500"},
		env(map[string]string{"MAX_ROWS": "100", "MAX_RESPONSE_BYTES": "4194304", "MEMORY_BUDGET_BYTES": "1000000000"}), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, int64(500), c.maxRows)
	assert.Equal(t, int64(4<<20), c.maxRespBytes)
	assert.Equal(t, int64(1e9), c.memoryBudget)
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		mentions []string
	}{
		{"unknown command", []string{"server", "train"}, nil, []string{`"train"`, "serve"}},
		{"bad SageMaker port", []string{"server"}, map[string]string{"SAGEMAKER_BIND_TO_PORT": "http"}, []string{"SAGEMAKER_BIND_TO_PORT", `"http"`}},
		{"every problem at once", []string{"server", "-port", "70000", "-drain-delay", "30s"},
			map[string]string{"MAX_BODY_BYTES": "6MB", "PREDICT_TIMEOUT": "soon", "LOG_LEVEL": "loud"},
			[]string{"-port 70000", `MAX_BODY_BYTES "6MB"`, `PREDICT_TIMEOUT "soon"`, `log level "loud"`, "-drain-delay 30s"}},
		{"zero limit", []string{"server", "-max-body-bytes", "0"}, nil, []string{"max body bytes 0"}},
		{"work limits", []string{"server", "-max-rows", "-1", "-max-response-bytes", "0", "-memory-budget-bytes", "-2"},
			map[string]string{"MAX_ROWS": "many"}, []string{`MAX_ROWS "many"`, "max rows -1", "max response bytes 0", "memory budget -2"}},
		{"libsvm index base", []string{"server"}, map[string]string{"INFERSTACK_LIBSVM_INDEX_BASE": "one"},
			[]string{`INFERSTACK_LIBSVM_INDEX_BASE "one"`, "want 0", "1", "auto"}},
		{"negative drain delay", []string{"server", "-drain-delay", "-1s"}, nil, []string{"-drain-delay -1s", "want 0s to 5s"}},
		{"drain delay past SIGKILL", []string{"server", "serve", "-drain-delay", "5001ms"}, nil,
			[]string{"-drain-delay 5.001s", "want 0s to 5s", "20s shutdown timeout", "25s", "SageMaker"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			noSageMakerDir(t)
			_, err := parseConfig(tc.args, env(tc.env), io.Discard)
			require.Error(t, err)
			for _, m := range tc.mentions {
				assert.Contains(t, err.Error(), m)
			}
		})
	}
}

// TestParseConfigDrainDelayBounds checks that the drain delay may take the whole time left
// before SIGKILL by the shutdown timeout, and no more.
func TestParseConfigDrainDelayBounds(t *testing.T) {
	for _, d := range []string{"0s", "2s", "5s"} {
		t.Run(d, func(t *testing.T) {
			noSageMakerDir(t)
			c, err := parseConfig([]string{"server", "-drain-delay", d}, env(nil), io.Discard)
			require.NoError(t, err)
			want, err := time.ParseDuration(d)
			require.NoError(t, err)
			assert.Equal(t, want, c.drainDelay)
			assert.LessOrEqual(t, c.drainDelay+server.DefaultServeConfig(c.predictTimeout).ShutdownTimeout, 25*time.Second)
		})
	}
}

func TestRunRefusesADirectoryWithoutAModel(t *testing.T) {
	noSageMakerDir(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a model"), 0o644))

	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"from the flag", []string{"server", "-model-dir", dir}, nil},
		{"from MODEL_DIR", []string{"server", "serve"}, map[string]string{"MODEL_DIR": dir}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			err := run(context.Background(), tc.args, env(tc.env), &out)
			require.Error(t, err, "it must not fall back to the default model")
			assert.Contains(t, err.Error(), dir)
			assert.Contains(t, err.Error(), "notes.txt")
			assert.Contains(t, err.Error(), "XGBoost")
			assert.NotContains(t, out.String(), "embedded")
		})
	}
}

// lockedBuffer is an io.Writer the server logs to while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// logLine finds the first JSON log line with msg.
func (l *lockedBuffer) logLine(msg string) map[string]any {
	sc := bufio.NewScanner(strings.NewReader(l.String()))
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) == nil && line["msg"] == msg {
			return line
		}
	}
	return nil
}

// startRun runs the server on a free port and returns its base URL, its log, a cancel function
// (SIGTERM's stand-in) and the channel run's result arrives on.
func startRun(t *testing.T, args ...string) (string, *lockedBuffer, context.CancelFunc, <-chan error) {
	t.Helper()
	noSageMakerDir(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	logs := &lockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"server"}, args...), env(nil), logs) }()
	var addr string
	require.Eventually(t, func() bool {
		if line := logs.logLine("listening"); line != nil {
			addr, _ = line["addr"].(string)
		}
		return addr != ""
	}, 30*time.Second, 5*time.Millisecond, "the server never logged that it listens: %s", logs)
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	return "http://127.0.0.1:" + port, logs, cancel, done
}

func TestRunServesTheDefaultModel(t *testing.T) {
	base, logs, cancel, done := startRun(t, "serve", "-port", "0", "-drain-delay", "0s")

	loaded := logs.logLine("model loaded")
	require.NotNil(t, loaded)
	assert.Equal(t, "xgboost-json", loaded["format"])
	assert.Equal(t, "embedded:iris", loaded["source"])
	assert.NotNil(t, logs.logLine("no model directory: serving the embedded default model"))
	memory := logs.logLine("memory")
	require.NotNil(t, memory)
	assert.Positive(t, memory["limit_bytes"], "this machine's memory is known (/proc/meminfo at least)")
	// Integer halving: an odd limit gives a budget half a byte below limit/2.
	assert.InDelta(t, memory["limit_bytes"].(float64)/2, memory["request_budget_bytes"], 0.5, "half of it for requests in flight")

	resp, err := http.Get(base + "/ping")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	resp, err = http.Post(base+"/invocations", "application/json",
		strings.NewReader(`{"instances":[[5.1,3.5,1.4,0.2],{"petal_length":5.5,"petal_width":2.0}]}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var got struct {
		Predictions []struct {
			Label         string    `json:"label"`
			Probabilities []float64 `json:"probabilities"`
		} `json:"predictions"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	require.Len(t, got.Predictions, 2)
	assert.Equal(t, "setosa", got.Predictions[0].Label)
	assert.Equal(t, "virginica", got.Predictions[1].Label)
	assert.Len(t, got.Predictions[0].Probabilities, 3)

	cancel()
	require.NoError(t, <-done)
}

// TestRunShutdownLosesNoRequest cancels run's context (what SIGTERM does) while clients are
// sending batches: every request sent before the cancel gets its full answer, /ping reports
// DOWN while draining, and run returns cleanly. Requests sent after the drain find the
// listener closed (the dial is refused), but never a partial answer.
func TestRunShutdownLosesNoRequest(t *testing.T) {
	base, _, cancel, done := startRun(t, "-port", "0", "-drain-delay", "1s") // ample time for requests sent before the cancel to be accepted
	batch := strings.Repeat("5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n", 2000)      // 4000 rows
	// A connection per request: this test is about requests in flight, not about clients
	// reusing a kept-alive connection at the moment the server closes it.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

	var answered, refused atomic.Int64
	var shuttingDown atomic.Bool
	var failures sync.Map
	var wg sync.WaitGroup
	firstRound := make(chan struct{}, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var once sync.Once
			busy := func() { once.Do(func() { firstRound <- struct{}{} }) }
			defer busy() // a client that fails at once must not leave the test waiting
			for {
				req, err := http.NewRequest(http.MethodPost, base+"/invocations", strings.NewReader(batch))
				if err != nil {
					failures.Store(w, err.Error())
					return
				}
				req.Header.Set("Content-Type", "text/csv")
				req.Header.Set("Accept", "text/csv")
				sentAfterCancel := shuttingDown.Load()
				resp, err := client.Do(req)
				if err != nil {
					if sentAfterCancel {
						refused.Add(1)
					} else {
						failures.Store(w, err.Error())
					}
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK || strings.Count(string(body), "\n") != 4000 {
					failures.Store(w, resp.Status+" "+string(body[:min(len(body), 200)]))
					return
				}
				answered.Add(1)
				busy()
			}
		}()
	}
	for range 8 {
		<-firstRound // every client is busy: requests are in flight now
	}
	shuttingDown.Store(true)
	cancel()
	var sawDown bool
	require.Eventually(t, func() bool {
		resp, err := client.Get(base + "/ping")
		if err != nil {
			return true // the listener has closed already; nothing to see
		}
		resp.Body.Close()
		sawDown = resp.StatusCode == http.StatusServiceUnavailable
		return sawDown
	}, 10*time.Second, time.Millisecond)
	wg.Wait()
	require.NoError(t, <-done)

	failures.Range(func(k, v any) bool {
		t.Errorf("client %v lost a request: %v", k, v)
		return true
	})
	assert.True(t, sawDown, "/ping never said DOWN while draining")
	assert.GreaterOrEqual(t, answered.Load(), int64(8))
	assert.Equal(t, int64(8), refused.Load(), "each client stops at its first failure after the listener closed")
}

func TestRunServesAModelDirectory(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"xgboost-model.json", "manifest.json"} {
		b, err := os.ReadFile(filepath.Join("model", "defaultmodel", name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}
	base, logs, cancel, done := startRun(t, "serve", "-port", "0", "-drain-delay", "0s", "-model-dir", dir)

	loaded := logs.logLine("model loaded")
	require.NotNil(t, loaded)
	assert.Equal(t, filepath.Join(dir, "xgboost-model.json"), loaded["source"])
	assert.Nil(t, logs.logLine("no model directory: serving the embedded default model"))

	resp, err := http.Post(base+"/invocations", "text/csv", strings.NewReader("6.7,3.0,5.2,2.3\n"))
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), `"label":"virginica"`)
	cancel()
	require.NoError(t, <-done)
}

// TestRunListensOnTheGivenHost checks -host: a benchmark or a laptop can keep the server on
// loopback, while the default (every interface) is what SageMaker's health checks need.
func TestRunListensOnTheGivenHost(t *testing.T) {
	noSageMakerDir(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	logs := &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"server", "-host", "127.0.0.1", "-port", "0", "-drain-delay", "0s"}, env(nil), logs)
	}()
	var addr string
	require.Eventually(t, func() bool {
		if line := logs.logLine("listening"); line != nil {
			addr, _ = line["addr"].(string)
		}
		return addr != ""
	}, 30*time.Second, 5*time.Millisecond, "the server never logged that it listens: %s", logs)
	host, _, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", host)
	cancel()
	require.NoError(t, <-done)
}

// TestParseConfigLibSVMIndexBase checks that INFERSTACK_LIBSVM_INDEX_BASE reaches the server's
// options; unset leaves the choice to the server (auto in compat mode, else 0).
func TestParseConfigLibSVMIndexBase(t *testing.T) {
	for v, want := range map[string]server.LibSVMIndexBase{
		"": server.LibSVMIndexDefault, "0": server.LibSVMIndex0, "1": server.LibSVMIndex1, "auto": server.LibSVMIndexAuto,
	} {
		noSageMakerDir(t)
		c, err := parseConfig([]string{"server"}, env(map[string]string{"INFERSTACK_LIBSVM_INDEX_BASE": v}), io.Discard)
		require.NoError(t, err, v)
		assert.Equal(t, want, c.libsvmBase, v)
	}
}
