//go:build rie

package proxy_test

// The proxy as Lambda runs it: the real bootstrap, built as the LambdaProxy component builds it
// (for this machine's GOARCH), under the real AWS Lambda Runtime Interface Emulator, with the fake
// SageMaker APIs in front of the real inference server. Run with
//
//	go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d
//	go test -tags rie ./lambda/proxy/ -run RIE -v
//
// AWS_LAMBDA_RIE names the emulator binary when it is not on PATH; PROXY_BOOTSTRAP names a
// prebuilt bootstrap instead of building this tree's (to measure another version).

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model"
	"github.com/inferstack/inferstack/inference/server"
)

const (
	// rieFunctionMemoryMB is the function's memory, the stack default (proxy.memoryMb 256).
	rieFunctionMemoryMB = 256
	// rieFunctionTimeout and rieInvokeTimeout keep the hanging-endpoint case short; the proxy must
	// answer at its invoke timeout, before Lambda's.
	rieFunctionTimeout = 10
	rieInvokeTimeout   = 3
	// sizedAnswerType makes the fake container answer with exactly as many bytes as the body says.
	sizedAnswerType = "application/x-answer-bytes"
)

// rieEnv is one emulator running one bootstrap.
type rieEnv struct {
	fake    *fakeSageMaker
	url     string
	rie     *exec.Cmd
	logs    *syncBuffer
	memory  int64
	started time.Time
}

func startRIE(t *testing.T) *rieEnv {
	t.Helper()
	rieBin := os.Getenv("AWS_LAMBDA_RIE")
	if rieBin == "" {
		p, err := exec.LookPath("aws-lambda-rie")
		require.NoError(t, err, "the Runtime Interface Emulator is needed: go install "+
			"github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d, "+
			"or set AWS_LAMBDA_RIE (.ci/run does)")
		rieBin = p
	}
	bootstrap := os.Getenv("PROXY_BOOTSTRAP")
	if bootstrap == "" {
		bootstrap = buildBootstrap(t)
	}

	m, err := model.Default()
	require.NoError(t, err)
	// The server's own answer limit (413 too_many_rows, sized from its worst case per row) would
	// refuse the largest requests below first; what is tested here is the proxy's guard against
	// a container whose answer outgrows Lambda's limit, so the server is given room beyond it.
	srv, err := server.NewServer(slog.New(slog.NewJSONHandler(io.Discard, nil)), m, server.Options{MaxResponseBytes: 64 << 20})
	require.NoError(t, err)
	fake := &fakeSageMaker{t: t, container: sizedOr(srv), endpointStatus: "InService"}
	api := httptest.NewServer(fake) // 127.0.0.1 only
	t.Cleanup(api.Close)

	rieAddr, runtimeAddr := freeAddr(t), freeAddr(t)
	cmd := exec.Command(rieBin, "--runtime-interface-emulator-address", rieAddr,
		"--runtime-api-address", runtimeAddr, "--log-level", "error", bootstrap)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(rieFunctionMemoryMB),
		"AWS_LAMBDA_FUNCTION_TIMEOUT=" + strconv.Itoa(rieFunctionTimeout),
		"AWS_REGION=" + testRegion, "AWS_DEFAULT_REGION=" + testRegion,
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_SESSION_TOKEN=token",
		"AWS_EC2_METADATA_DISABLED=true",
		// How the SDK reaches a local fake: the service-specific endpoint variables.
		"AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=" + api.URL,
		"AWS_ENDPOINT_URL_SAGEMAKER=" + api.URL,
		"ENDPOINT_NAME=" + testEndpoint,
		"ENDPOINT_CONFIG_NAME=churn-dev-config-a",
		"INVOKE_TIMEOUT_SECONDS=" + strconv.Itoa(rieInvokeTimeout),
	}
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("emulator and function output (last 4 KiB):\n%s", tail(logs, 4096))
		}
	})
	e := &rieEnv{fake: fake, url: "http://" + rieAddr + "/2015-03-31/functions/function/invocations",
		rie: cmd, logs: logs, memory: rieFunctionMemoryMB << 20, started: time.Now()}
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", rieAddr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 10*time.Second, 20*time.Millisecond, "the emulator listens")
	return e
}

// buildBootstrap builds the handler as LambdaProxy does (components/lambda_proxy_build.go: static,
// -trimpath, -buildvcs=false, -ldflags "-s -w -buildid=", GOFLAGS cleared) but for this machine.
func buildBootstrap(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-o", out, "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=",
		"github.com/inferstack/inferstack/lambda/proxy/cmd/bootstrap")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH, "GOFLAGS=")
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "build bootstrap: %s", b)
	return out
}

// sizedOr answers a sizedAnswerType request with exactly the number of bytes its body names,
// and passes everything else to the inference server.
func sizedOr(container http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") != sizedAnswerType {
			container.ServeHTTP(w, r)
			return
		}
		b, _ := io.ReadAll(r.Body)
		n, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(bytes.Repeat([]byte("a"), n))
	})
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

func tail(b *syncBuffer, n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return s
}

// invoke sends one API Gateway REST (v1) proxy event through the emulator, as Lambda's Invoke API
// would, and decodes the function's response. A non-response (the runtime refusing the answer,
// a crash) fails the test with what the emulator said.
func (e *rieEnv) invoke(t *testing.T, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	t.Helper()
	event, err := json.Marshal(req)
	require.NoError(t, err)
	res, err := http.Post(e.url, "application/json", bytes.NewReader(event))
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	var resp events.APIGatewayProxyResponse
	require.NoError(t, json.Unmarshal(body, &resp), "the emulator answered %d: %.300s", res.StatusCode, body)
	require.NotZero(t, resp.StatusCode, "not a proxy response: %.300s", body)
	return resp
}

// bootstrapPID is the function process the emulator started.
func (e *rieEnv) bootstrapPID(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	for _, d := range entries {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(filepath.Join("/proc", d.Name(), "comm"))
		if err != nil || strings.TrimSpace(string(comm)) != "bootstrap" {
			continue
		}
		if procField(t, pid, "PPid") == int64(e.rie.Process.Pid) {
			return pid
		}
	}
	t.Fatal("no bootstrap process under the emulator")
	return 0
}

// procField reads a field of /proc/PID/status, in bytes for the kB fields (VmRSS, VmHWM).
func procField(t *testing.T, pid int, name string) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != name {
			continue
		}
		fields := strings.Fields(v)
		n, err := strconv.ParseInt(fields[0], 10, 64)
		require.NoError(t, err)
		if len(fields) > 1 && fields[1] == "kB" {
			n <<= 10
		}
		return n
	}
	t.Fatalf("no %s in /proc/%d/status", name, pid)
	return 0
}

// irisRows is a JSON request of n iris rows; salt makes each request distinct.
func irisRows(n, salt int) string {
	var b strings.Builder
	b.WriteString(`{"instances":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if i == 0 {
			fmt.Fprintf(&b, "[%d.5,3.5,1.4,0.2]", salt) // one row differs per salt
			continue
		}
		fmt.Fprintf(&b, "[5.%d,3.5,1.4,0.2]", i%10)
	}
	b.WriteString("]}")
	return b.String()
}

func TestProxyUnderRIE(t *testing.T) {
	e := startRIE(t)
	var pid int

	t.Run("miss then hit, a real prediction", func(t *testing.T) {
		body := `{"instances":[[5.1,3.5,1.4,0.2],[6.7,3.0,5.2,2.3]]}`
		first := e.invoke(t, invocation(body, nil))
		require.Equal(t, http.StatusOK, first.StatusCode, first.Body)
		assert.Equal(t, "MISS", first.Headers["X-Cache"])
		assert.Contains(t, first.Body, `"label":"setosa"`)
		assert.Contains(t, first.Body, `"label":"virginica"`)
		again := e.invoke(t, invocation(body, nil))
		assert.Equal(t, "HIT", again.Headers["X-Cache"])
		assert.Equal(t, first.Body, again.Body)
		assert.EqualValues(t, 1, e.fake.invocations.Load())
		pid = e.bootstrapPID(t)
		t.Logf("bootstrap pid %d, VmRSS after the first answers: %d MiB", pid, procField(t, pid, "VmRSS")>>20)
	})

	t.Run("the model's 4xx passes through", func(t *testing.T) {
		body := `{"instances":[[1,2,3]]}`
		resp := e.invoke(t, invocation(body, nil))
		code, want := direct(t, e.fake.container, "application/json", body)
		require.GreaterOrEqual(t, code, 400)
		assert.Equal(t, code, resp.StatusCode, resp.Body)
		assert.Equal(t, want, resp.Body, "the inference server's own explanation")
		assert.Equal(t, "MISS", resp.Headers["X-Cache"])
	})

	t.Run("throttling is 429 with Retry-After", func(t *testing.T) {
		e.fake.set(func(f *fakeSageMaker) {
			f.invokeErr = &awsError{400, "ThrottlingException", map[string]any{"message": "Rate exceeded"}}
		})
		defer e.fake.set(func(f *fakeSageMaker) { f.invokeErr = nil })
		resp := e.invoke(t, invocation(`{"instances":[[5.0,3.5,1.4,0.2]]}`, nil))
		assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, resp.Body)
		assert.Equal(t, "1", resp.Headers["Retry-After"])
	})

	t.Run("a hanging endpoint is 504 before the Lambda timeout", func(t *testing.T) {
		e.fake.set(func(f *fakeSageMaker) { f.delay = time.Minute })
		defer e.fake.set(func(f *fakeSageMaker) { f.delay = 0 })
		start := time.Now()
		resp := e.invoke(t, invocation(`{"instances":[[4.9,3.5,1.4,0.2]]}`, nil))
		took := time.Since(start)
		assert.Equal(t, http.StatusGatewayTimeout, resp.StatusCode, resp.Body)
		assert.Contains(t, resp.Body, resp.Headers["X-Request-Id"])
		assert.Less(t, took, time.Duration(rieFunctionTimeout)*time.Second, "the handler answered, not Lambda's timeout")
		assert.GreaterOrEqual(t, took, time.Duration(rieInvokeTimeout)*time.Second-500*time.Millisecond)
		t.Logf("504 after %v (invoke timeout %d s, function timeout %d s)", took.Round(time.Millisecond), rieInvokeTimeout, rieFunctionTimeout)
	})

	t.Run("the largest answer that fits, and one byte more", func(t *testing.T) {
		const reqID = "rie-largest-answer"
		framing := len(postedBytes(t, events.APIGatewayProxyResponse{StatusCode: 200, Headers: map[string]string{
			"Content-Type": "text/plain", "X-Request-Id": reqID, "X-Cache": "MISS"}}))
		largest := lambdaResponseLimit - framing
		for _, tc := range []struct {
			size   int
			status int
		}{{largest, http.StatusOK}, {largest + 1, http.StatusBadGateway}} {
			req := invocation(strconv.Itoa(tc.size), map[string]string{"Content-Type": sizedAnswerType})
			req.RequestContext.RequestID = reqID
			resp := e.invoke(t, req)
			assert.Equal(t, tc.status, resp.StatusCode, "answer of %d bytes: %.200s", tc.size, resp.Body)
			if tc.status == http.StatusOK {
				assert.Equal(t, tc.size, len(resp.Body))
				t.Logf("largest answer accepted by the emulator: %d bytes (response %d bytes)", tc.size, lambdaResponseLimit)
			}
		}
	})

	t.Run("a 6.08 MB model answer is a clear 502 and the process lives on", func(t *testing.T) {
		// 62,000 iris rows: about 98 bytes of answer each, 6.08 MB in all, 6.45 MB in the
		// response once its quotes are escaped. The old size guard let it through, the
		// runtime refused it and aws-lambda-go exited, taking the cache with it.
		resp := e.invoke(t, invocation(irisRows(62_000, 0), nil))
		assert.Equal(t, http.StatusBadGateway, resp.StatusCode, "%.300s", resp.Body)
		assert.Contains(t, resp.Body, "send fewer rows")
		assert.Equal(t, pid, e.bootstrapPID(t), "the same process")
		hit := e.invoke(t, invocation(`{"instances":[[5.1,3.5,1.4,0.2],[6.7,3.0,5.2,2.3]]}`, nil))
		assert.Equal(t, "HIT", hit.Headers["X-Cache"], "the cache survived")

		fits := e.invoke(t, invocation(irisRows(60_000, 0), nil))
		assert.Equal(t, http.StatusOK, fits.StatusCode, "%.300s", fits.Body)
		t.Logf("60,000 rows: %d bytes of answer, %d in the response", len(fits.Body), len(postedBytes(t, fits)))
	})

	t.Run("two dozen large answers stay inside the function's memory", func(t *testing.T) {
		before := procField(t, pid, "VmRSS")
		var peak int64
		for i := range 24 {
			resp := e.invoke(t, invocation(irisRows(55_000, i+1), nil))
			require.Equal(t, http.StatusOK, resp.StatusCode, "%.300s", resp.Body)
			require.Equal(t, "MISS", resp.Headers["X-Cache"])
			rss := procField(t, pid, "VmRSS")
			peak = max(peak, rss)
		}
		hwm := procField(t, pid, "VmHWM")
		after := procField(t, pid, "VmRSS")
		t.Logf("VmRSS before %d MiB, after 24 answers of ~5.4 MB %d MiB, highest seen %d MiB, VmHWM %d MiB; function memory %d MiB",
			before>>20, after>>20, peak>>20, hwm>>20, rieFunctionMemoryMB)
		assert.Less(t, hwm, e.memory, "the process never went past the function's memory")
		assert.Less(t, after, e.memory)
		assert.Equal(t, pid, e.bootstrapPID(t))
	})

	t.Run("every log line fits a CloudWatch event", func(t *testing.T) {
		for _, l := range strings.Split(tail(e.logs, 1<<30), "\n") {
			assert.Less(t, len(l), cloudWatchEventLimit, "%.200s", l)
		}
	})
}
