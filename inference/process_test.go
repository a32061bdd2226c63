package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets a test start this test binary as the server itself, in a process of its own
// (so that signals and memory are its own): with INFERENCE_TEST_MAIN=1 it runs main.
func TestMain(m *testing.M) {
	if os.Getenv("INFERENCE_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serverProcess is a server started as a process: binary is "" for this test binary's main.
type serverProcess struct {
	cmd  *exec.Cmd
	base string
	done chan error
}

func startProcess(tb testing.TB, binary string, env []string, args ...string) *serverProcess {
	tb.Helper()
	if binary == "" {
		binary = os.Args[0]
		env = append(env, "INFERENCE_TEST_MAIN=1")
	}
	cmd := exec.Command(binary, append([]string{"serve", "-port", "0"}, args...)...)
	cmd.Env = append(append(os.Environ(), "MODEL_DIR="), env...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(tb, err)
	cmd.Stderr = os.Stderr
	require.NoError(tb, cmd.Start())
	p := &serverProcess{cmd: cmd, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) == nil && line["msg"] == "listening" {
				a, _ := line["addr"].(string)
				addr <- a
			}
		}
		p.done <- cmd.Wait()
	}()
	tb.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case a := <-addr:
		p.base = "http://127.0.0.1:" + a[strings.LastIndex(a, ":")+1:]
	case err := <-p.done:
		tb.Fatalf("the server exited before listening: %v", err)
	case <-time.After(30 * time.Second):
		tb.Fatal("the server never logged that it listens")
	}
	return p
}

// status reads a field of /proc/PID/status in MiB (VmHWM is the peak resident set, VmRSS the
// current one).
func (p *serverProcess) status(tb testing.TB, field string) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	require.NoError(tb, err)
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			require.NoError(tb, err)
			return kb / 1024
		}
	}
	tb.Fatalf("no %s in /proc/PID/status", field)
	return 0
}

// irisCSV is n rows of the iris model's four features, 16 bytes a row.
func irisCSV(n int) string { return strings.Repeat("5.1,3.5,1.4,0.2\n", n) }

// BenchmarkPeakRSS measures the server's memory under 8 concurrent maximum-size requests to the
// embedded iris model, each scenario in a fresh server process: peak resident set (VmHWM), what
// is still resident just after, and 3 s later. It prints figures and fails on nothing but a
// broken server. INFERENCE_TEST_SERVER names another server binary to measure (such as one
// built from an older commit), which runs with the same flags and environment:
//
//	go test ./inference -run XXX -bench PeakRSS -benchtime 1x
func BenchmarkPeakRSS(b *testing.B) {
	binary := os.Getenv("INFERENCE_TEST_SERVER")
	for _, sc := range []struct {
		name string
		body string
		env  []string
	}{
		// The largest body SageMaker passes: 393216 rows (the old server answered them with 40 MB).
		{"6MiB-body", irisCSV((6 << 20) / 16), nil},
		// The most rows whose JSON answer fits in 6 MiB (see the 413's message): 54236.
		{"54236-rows", irisCSV(54236), nil},
		// The same with a 128 MiB memory limit: the requests in flight may reserve 64 MiB together.
		{"54236-rows-GOMEMLIMIT-128MiB", irisCSV(54236), []string{"GOMEMLIMIT=128MiB"}},
	} {
		b.Run(sc.name, func(b *testing.B) {
			for b.Loop() {
				p := startProcess(b, binary, sc.env, "-drain-delay", "0s")
				idle := p.status(b, "VmRSS")
				statuses := make([]int, 8)
				var wg sync.WaitGroup
				start := time.Now()
				for i := range statuses {
					wg.Go(func() {
						resp, err := http.Post(p.base+"/invocations", "text/csv", strings.NewReader(sc.body))
						if err != nil {
							b.Error(err)
							return
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						statuses[i] = resp.StatusCode
					})
				}
				wg.Wait()
				elapsed := time.Since(start)
				peak, after := p.status(b, "VmHWM"), p.status(b, "VmRSS")
				time.Sleep(3 * time.Second)
				later := p.status(b, "VmRSS")
				b.Logf("%s: statuses %v in %s; RSS idle %.0f MiB, peak %.0f MiB, just after %.0f MiB, 3 s later %.0f MiB",
					sc.name, statuses, elapsed.Round(time.Millisecond), idle, peak, after, later)
				b.ReportMetric(peak, "peak-MiB")
				b.ReportMetric(after, "after-MiB")
				b.ReportMetric(later, "after3s-MiB")
				require.NoError(b, p.cmd.Process.Signal(syscall.SIGTERM))
				require.NoError(b, <-p.done)
			}
		})
	}
}

// TestSIGTERMLosesNoRequest sends the server process a real SIGTERM while 32 clients POST back
// to back on kept-alive connections, as SageMaker's stop does, and counts every request sent
// against every answer: none may be lost. A request whose connection could not even be opened
// (after the listener closed) sent nothing and is not lost. INFERENCE_TEST_SERVER runs it
// against another server binary (one built from before the fix lost 11 to 52 a run here).
func TestSIGTERMLosesNoRequest(t *testing.T) {
	p := startProcess(t, os.Getenv("INFERENCE_TEST_SERVER"), nil, "-drain-delay", "300ms")
	const clients = 32
	var sent, answered, notSent atomic.Int64
	var mu sync.Mutex
	var lost []string
	var warm, done sync.WaitGroup
	warm.Add(clients)
	for range clients {
		done.Add(1)
		go func() {
			defer done.Done()
			var once sync.Once
			defer once.Do(warm.Done)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer client.CloseIdleConnections()
			for {
				sent.Add(1)
				resp, err := client.Post(p.base+"/invocations", "text/csv", strings.NewReader("5.1,3.5,1.4,0.2\n"))
				if err != nil {
					var op *net.OpError
					if errors.As(err, &op) && op.Op == "dial" {
						notSent.Add(1)
						return
					}
					mu.Lock()
					lost = append(lost, err.Error())
					mu.Unlock()
					continue
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"setosa"`) {
					mu.Lock()
					lost = append(lost, fmt.Sprintf("%s %q %v", resp.Status, body, err))
					mu.Unlock()
					continue
				}
				answered.Add(1)
				once.Do(warm.Done)
			}
		}()
	}
	warm.Wait()
	time.Sleep(50 * time.Millisecond)
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, <-p.done, "the server exits cleanly")
	done.Wait()
	t.Logf("sent %d, answered %d, not sent (dial refused) %d, lost %d", sent.Load(), answered.Load(), notSent.Load(), len(lost))
	assert.Empty(t, lost)
	assert.Equal(t, sent.Load(), answered.Load()+notSent.Load()+int64(len(lost)))
}
