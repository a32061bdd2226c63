package batch_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model/onnx/batch"
)

// The model in these tests: two features in, three outputs per row, each a function of that
// row alone, so that any mix-up of rows between requests shows in the answers.
const nf, width = 2, 3

func want(a, b float64) [width]float64 { return [width]float64{a + b, a * b, a - b} }

func model(x, out []float64) {
	for r := 0; r < len(x)/nf; r++ {
		w := want(x[r*nf], x[r*nf+1])
		copy(out[r*width:], w[:])
	}
}

// recorder is a RunFunc that computes model and records the batch sizes it saw.
type recorder struct {
	mu    sync.Mutex
	sizes []int
	delay time.Duration
	fail  func(x []float64) error
}

func (rec *recorder) run(ctx context.Context, x, out []float64) error {
	rec.mu.Lock()
	rec.sizes = append(rec.sizes, len(x)/nf)
	rec.mu.Unlock()
	if rec.fail != nil {
		if err := rec.fail(x); err != nil {
			return err
		}
	}
	if rec.delay > 0 {
		select {
		case <-time.After(rec.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	model(x, out)
	return nil
}

func (rec *recorder) batchSizes() []int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]int(nil), rec.sizes...)
}

func newBatcher(t *testing.T, cfg batch.Config, run batch.RunFunc) *batch.Batcher {
	t.Helper()
	cfg.NumFeatures, cfg.OutputWidth = nf, width
	b, err := batch.New(cfg, run)
	require.NoError(t, err)
	t.Cleanup(b.Close)
	return b
}

// rowsFor gives client c's request i a distinct set of rows.
func rowsFor(c, i, rows int) []float64 {
	x := make([]float64, rows*nf)
	for r := 0; r < rows; r++ {
		x[r*nf] = float64(c*1000 + i)
		x[r*nf+1] = float64(r) + 0.5
	}
	return x
}

func checkOutputs(t *testing.T, x, out []float64) {
	t.Helper()
	for r := 0; r < len(x)/nf; r++ {
		w := want(x[r*nf], x[r*nf+1])
		require.Equal(t, w[:], out[r*width:(r+1)*width], "row %d of input %v", r, x[r*nf:(r+1)*nf])
	}
}

// TestConcurrentRequestsGetTheirOwnRows is the -race test of the issue: many clients at once,
// with requests of different sizes, each must get exactly its own rows' outputs, and the runs
// must have been coalesced (fewer runs than requests) without exceeding MaxRows.
func TestConcurrentRequestsGetTheirOwnRows(t *testing.T) {
	rec := &recorder{delay: 200 * time.Microsecond}
	b := newBatcher(t, batch.Config{MaxRows: 16, MaxDelay: time.Millisecond}, rec.run)
	const clients, perClient = 32, 40
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perClient; i++ {
				rows := 1 + (c+i)%5
				x := rowsFor(c, i, rows)
				out := make([]float64, rows*width)
				if err := b.Predict(context.Background(), x, out); err != nil {
					t.Errorf("client %d request %d: %v", c, i, err)
					return
				}
				checkOutputs(t, x, out)
			}
		}()
	}
	wg.Wait()
	sizes := rec.batchSizes()
	total := 0
	for _, s := range sizes {
		assert.LessOrEqual(t, s, 16)
		total += s
	}
	assert.Less(t, len(sizes), clients*perClient/2, "runs %d for %d requests: requests were not coalesced", len(sizes), clients*perClient)
	runs, rows := b.Stats()
	assert.Equal(t, int64(len(sizes)), runs)
	assert.Equal(t, int64(total), rows)
}

func TestRequestLargerThanMaxRowsRunsAlone(t *testing.T) {
	rec := &recorder{}
	b := newBatcher(t, batch.Config{MaxRows: 4}, rec.run)
	x := rowsFor(1, 1, 10)
	out := make([]float64, 10*width)
	require.NoError(t, b.Predict(context.Background(), x, out))
	checkOutputs(t, x, out)
	assert.Equal(t, []int{10}, rec.batchSizes())
}

func TestMaxDelayWaitsForCompanions(t *testing.T) {
	rec := &recorder{}
	b := newBatcher(t, batch.Config{MaxRows: 8, MaxDelay: 200 * time.Millisecond}, rec.run)
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < 3; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(c) * 20 * time.Millisecond)
			x := rowsFor(c, 0, 1)
			out := make([]float64, width)
			assert.NoError(t, b.Predict(context.Background(), x, out))
			checkOutputs(t, x, out)
		}()
	}
	wg.Wait()
	assert.Equal(t, []int{3}, rec.batchSizes(), "the three requests within max_delay make one batch")
	assert.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond, "a batch that is not full waits max_delay")
}

func TestFullBatchDoesNotWait(t *testing.T) {
	rec := &recorder{}
	b := newBatcher(t, batch.Config{MaxRows: 2, MaxDelay: time.Hour}, rec.run)
	x := rowsFor(1, 1, 2)
	out := make([]float64, 2*width)
	done := make(chan error, 1)
	go func() { done <- b.Predict(context.Background(), x, out) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("a request that fills a batch waited for max_delay")
	}
	checkOutputs(t, x, out)
}

// TestEachRequestKeepsItsDeadline: a request whose deadline passes while it waits in a batch
// returns at once with DeadlineExceeded, and its companion, with a longer deadline, is served.
func TestEachRequestKeepsItsDeadline(t *testing.T) {
	// The run takes far longer than the short deadline, so that a loaded machine's scheduling
	// delays cannot be mistaken for waiting on the batch (300 ms once failed at 316 ms under load).
	rec := &recorder{delay: 3 * time.Second}
	b := newBatcher(t, batch.Config{MaxRows: 8, MaxDelay: 50 * time.Millisecond}, rec.run)

	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	var shortErr error
	var shortTook time.Duration
	wg.Add(2)
	go func() {
		defer wg.Done()
		start := time.Now()
		shortErr = b.Predict(short, rowsFor(1, 0, 1), make([]float64, width))
		shortTook = time.Since(start)
	}()
	x := rowsFor(2, 0, 1)
	out := make([]float64, width)
	go func() {
		defer wg.Done()
		assert.NoError(t, b.Predict(context.Background(), x, out))
	}()
	wg.Wait()
	assert.ErrorIs(t, shortErr, context.DeadlineExceeded)
	assert.Less(t, shortTook, 1500*time.Millisecond, "the short request waited for its batch to finish")
	checkOutputs(t, x, out)
}

func TestExpiredRequestIsLeftOutOfTheBatch(t *testing.T) {
	rec := &recorder{delay: 100 * time.Millisecond}
	b := newBatcher(t, batch.Config{MaxRows: 8, MaxDelay: 0}, rec.run)
	// Occupy the runner so that the next requests queue.
	busy := make(chan error, 1)
	go func() { busy <- b.Predict(context.Background(), rowsFor(9, 9, 1), make([]float64, width)) }()
	time.Sleep(20 * time.Millisecond)

	ctx, cancel := context.WithCancel(context.Background())
	gone := make(chan error, 1)
	go func() { gone <- b.Predict(ctx, rowsFor(1, 0, 3), make([]float64, 3*width)) }()
	time.Sleep(10 * time.Millisecond)
	cancel()
	assert.ErrorIs(t, <-gone, context.Canceled)

	x := rowsFor(2, 0, 2)
	out := make([]float64, 2*width)
	require.NoError(t, b.Predict(context.Background(), x, out))
	checkOutputs(t, x, out)
	require.NoError(t, <-busy)
	for _, s := range rec.batchSizes() {
		assert.NotEqual(t, 3, s, "the cancelled request's 3 rows were run")
		assert.NotEqual(t, 5, s, "the cancelled request's 3 rows were run")
	}
}

// TestRunIsCancelledWhenEveryRequestGaveUp: a long run is told to stop once nobody waits for it.
func TestRunIsCancelledWhenEveryRequestGaveUp(t *testing.T) {
	stopped := make(chan error, 1)
	started := make(chan struct{}, 4)
	run := func(ctx context.Context, x, out []float64) error {
		started <- struct{}{}
		<-ctx.Done()
		stopped <- ctx.Err()
		return ctx.Err()
	}
	b := newBatcher(t, batch.Config{MaxRows: 8, MaxDelay: 30 * time.Millisecond}, run)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for c := 0; c < 2; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.ErrorIs(t, b.Predict(ctx, rowsFor(c, 0, 1), make([]float64, width)), context.Canceled)
		}()
	}
	<-started
	cancel()
	wg.Wait()
	select {
	case err := <-stopped:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("the run's context was not cancelled after every request gave up")
	}
}

// TestFailingRequestFailsAlone: a batch that fails is rerun request by request, so that only
// the request with the bad row gets the error.
func TestFailingRequestFailsAlone(t *testing.T) {
	bad := errors.New("row holds a NaN")
	rec := &recorder{fail: func(x []float64) error {
		for _, v := range x {
			if math.IsNaN(v) {
				return bad
			}
		}
		return nil
	}}
	gate := make(chan struct{})
	var entered atomic.Bool
	b := newBatcher(t, batch.Config{MaxRows: 16, MaxDelay: 100 * time.Millisecond}, func(ctx context.Context, x, out []float64) error {
		if entered.CompareAndSwap(false, true) {
			<-gate
		}
		return rec.run(ctx, x, out)
	})
	// The first request holds the runner while three others queue into one batch.
	first := make(chan error, 1)
	go func() { first <- b.Predict(context.Background(), rowsFor(0, 0, 1), make([]float64, width)) }()
	for !entered.Load() {
		time.Sleep(time.Millisecond)
	}
	var wg sync.WaitGroup
	errs := make([]error, 3)
	xs := make([][]float64, 3)
	outs := make([][]float64, 3)
	for c := 0; c < 3; c++ {
		xs[c] = rowsFor(c+1, 0, 2)
		if c == 1 {
			xs[c][1] = math.NaN()
		}
		outs[c] = make([]float64, 2*width)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[c] = b.Predict(context.Background(), xs[c], outs[c])
		}()
	}
	time.Sleep(30 * time.Millisecond)
	close(gate)
	wg.Wait()
	require.NoError(t, <-first)
	assert.NoError(t, errs[0])
	assert.ErrorIs(t, errs[1], bad)
	assert.NoError(t, errs[2])
	checkOutputs(t, xs[0], outs[0])
	checkOutputs(t, xs[2], outs[2])
	assert.Contains(t, rec.batchSizes(), 6, "the three queued requests ran as one batch first")
}

func TestPanicBecomesAnError(t *testing.T) {
	b := newBatcher(t, batch.Config{MaxRows: 4}, func(ctx context.Context, x, out []float64) error { panic("boom") })
	err := b.Predict(context.Background(), rowsFor(1, 1, 1), make([]float64, width))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "boom")
	// The batcher survives.
	err = b.Predict(context.Background(), rowsFor(1, 2, 1), make([]float64, width))
	assert.Contains(t, err.Error(), "boom")
}

func TestShapeErrors(t *testing.T) {
	b := newBatcher(t, batch.Config{MaxRows: 4}, (&recorder{}).run)
	assert.ErrorContains(t, b.Predict(context.Background(), make([]float64, 3), make([]float64, 3)), "not a multiple of 2 features")
	assert.ErrorContains(t, b.Predict(context.Background(), make([]float64, 4), make([]float64, 3)), "want 6 (2 rows x 3)")
}

func TestClosedBatcherRefuses(t *testing.T) {
	b, err := batch.New(batch.Config{MaxRows: 4, NumFeatures: nf, OutputWidth: width}, (&recorder{}).run)
	require.NoError(t, err)
	b.Close()
	assert.ErrorIs(t, b.Predict(context.Background(), rowsFor(1, 1, 1), make([]float64, width)), batch.ErrClosed)
}

func TestConfigErrors(t *testing.T) {
	run := (&recorder{}).run
	for _, tc := range []struct {
		cfg  batch.Config
		want string
	}{
		{batch.Config{MaxRows: 0, NumFeatures: 1, OutputWidth: 1}, "max_batch_size 0: want at least 1"},
		{batch.Config{MaxRows: 1, MaxDelay: -time.Second, NumFeatures: 1, OutputWidth: 1}, "max_delay -1s"},
		{batch.Config{MaxRows: 1, NumFeatures: 0, OutputWidth: 1}, "0 features"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			_, err := batch.New(tc.cfg, run)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func ExampleBatcher() {
	b, err := batch.New(batch.Config{MaxRows: 64, MaxDelay: time.Millisecond, NumFeatures: 2, OutputWidth: 1},
		func(ctx context.Context, x, out []float64) error {
			for r := range out {
				out[r] = x[2*r] + x[2*r+1]
			}
			return nil
		})
	if err != nil {
		panic(err)
	}
	defer b.Close()
	out := make([]float64, 2)
	if err := b.Predict(context.Background(), []float64{1, 2, 3, 4}, out); err != nil {
		panic(err)
	}
	fmt.Println(out)
	// Output: [3 7]
}

func TestCloseRunsWhatIsQueued(t *testing.T) {
	rec := &recorder{delay: 50 * time.Millisecond}
	b, err := batch.New(batch.Config{MaxRows: 1, NumFeatures: nf, OutputWidth: width}, rec.run)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for c := 0; c < 4; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := rowsFor(c, 0, 1)
			out := make([]float64, width)
			if err := b.Predict(context.Background(), x, out); err == nil {
				checkOutputs(t, x, out)
			} else {
				assert.ErrorIs(t, err, batch.ErrClosed)
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	b.Close()
	wg.Wait() // every request was answered: none hangs after Close
}

// TestIdleRequestRunsDirectly: with max_delay 0, a request that finds nothing running or queued
// runs in the caller's goroutine on the caller's own rows, without a copy or a hand-off.
func TestIdleRequestRunsDirectly(t *testing.T) {
	x := rowsFor(1, 1, 2)
	var sawCallersRows bool
	b := newBatcher(t, batch.Config{MaxRows: 8}, func(ctx context.Context, in, out []float64) error {
		sawCallersRows = &in[0] == &x[0]
		model(in, out)
		return nil
	})
	out := make([]float64, 2*width)
	require.NoError(t, b.Predict(context.Background(), x, out))
	checkOutputs(t, x, out)
	assert.True(t, sawCallersRows, "an idle batcher's request ran on a copy, through the loop")
}

// TestConcurrencyWithoutDelay is the -race test for max_delay 0, where idle requests run
// directly and the others queue into batches while a run is in progress.
func TestConcurrencyWithoutDelay(t *testing.T) {
	rec := &recorder{delay: 100 * time.Microsecond}
	b := newBatcher(t, batch.Config{MaxRows: 16}, rec.run)
	var wg sync.WaitGroup
	for c := 0; c < 16; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 30; i++ {
				rows := 1 + (c+i)%3
				x := rowsFor(c, i, rows)
				out := make([]float64, rows*width)
				if err := b.Predict(context.Background(), x, out); err != nil {
					t.Errorf("client %d request %d: %v", c, i, err)
					return
				}
				checkOutputs(t, x, out)
			}
		}()
	}
	wg.Wait()
	batched := false
	for _, s := range rec.batchSizes() {
		assert.LessOrEqual(t, s, 16)
		batched = batched || s > 3
	}
	assert.True(t, batched, "no batch held more than one request: %v", rec.batchSizes())
}
