// Package batch coalesces concurrent predictions into one model run: dynamic batching, as
// Triton's dynamic batcher and TorchServe's batch_size/max_batch_delay do. Requests that arrive
// while the model is busy, or within MaxDelay of the first, are run as one batch of at most
// MaxRows rows and their outputs split back. Each request keeps its own context: one whose
// deadline passes or whose client goes away before its batch runs is answered at once with the
// context's error and left out of the batch; a run that fails is retried one request at a time,
// so that one bad request fails alone.
//
// It is pure Go, independent of the model runtime, so that it is tested without cgo.
package batch

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// RunFunc predicts the rows of x (row-major, Config.NumFeatures values per row) into out
// (Config.OutputWidth values per row). ctx is cancelled once every request in the batch has
// given up, so that a long run can be stopped.
type RunFunc func(ctx context.Context, x, out []float64) error

// Config sizes a Batcher.
type Config struct {
	// MaxRows (required, at least 1) is the most rows one run takes. A request with more rows
	// than this runs alone.
	MaxRows int
	// MaxDelay (optional) is how long the first request of a batch waits for others to join
	// it; 0 runs what is queued at once, without waiting.
	MaxDelay time.Duration
	// NumFeatures (required) is the number of input values per row.
	NumFeatures int
	// OutputWidth (required) is the number of output values per row.
	OutputWidth int
}

// ErrClosed is returned by Predict after Close.
var ErrClosed = errors.New("batch: the batcher is closed")

// Batcher runs concurrent Predict calls in batches. Build it with New; it is safe for
// concurrent use.
type Batcher struct {
	cfg    Config
	run    RunFunc
	queue  chan *request
	closed chan struct{}
	wg     sync.WaitGroup

	// mu orders Close after every send to queue: Predict sends under the read lock, so that once
	// Close holds the write lock no request can enter the queue behind the loop's last look.
	mu       sync.RWMutex
	isClosed bool

	// runMu is held by whoever runs the model: the loop for a batch, or a caller that found the
	// batcher idle and runs its own request directly (MaxDelay 0 only), so that at low
	// concurrency a request costs no hand-off to the loop and back.
	runMu sync.Mutex

	runs, batchedRows atomic.Int64 // for Stats
}

// request is one Predict call. Its input and output are its own copies, so that a caller that
// gives up can return at once while its batch still runs: the batcher then writes only memory
// that nobody else reads.
type request struct {
	ctx  context.Context
	x    []float64
	out  []float64
	rows int
	done chan error // buffered: the batcher never blocks on a caller that has gone
}

// New starts a Batcher that runs batches with run.
func New(cfg Config, run RunFunc) (*Batcher, error) {
	switch {
	case cfg.MaxRows < 1:
		return nil, fmt.Errorf("batch: max_batch_size %d: want at least 1", cfg.MaxRows)
	case cfg.MaxDelay < 0:
		return nil, fmt.Errorf("batch: max_delay %s: want 0 or more", cfg.MaxDelay)
	case cfg.NumFeatures < 1 || cfg.OutputWidth < 1:
		return nil, fmt.Errorf("batch: %d features and %d outputs per row: want at least 1 of each", cfg.NumFeatures, cfg.OutputWidth)
	case run == nil:
		return nil, errors.New("batch: run is required")
	}
	b := &Batcher{
		cfg:    cfg,
		run:    run,
		queue:  make(chan *request, 4*cfg.MaxRows),
		closed: make(chan struct{}),
	}
	b.wg.Add(1)
	go b.loop()
	return b, nil
}

// Predict predicts the rows of x into out as part of a batch. It returns when the batch has run,
// or at once with ctx's error when ctx ends first. With MaxDelay 0, a request that finds the
// batcher idle (nothing running, nothing queued) runs at once in the caller's goroutine.
func (b *Batcher) Predict(ctx context.Context, x, out []float64) error {
	nf, width := b.cfg.NumFeatures, b.cfg.OutputWidth
	if len(x)%nf != 0 {
		return fmt.Errorf("batch: input has %d values, not a multiple of %d features", len(x), nf)
	}
	rows := len(x) / nf
	if len(out) != rows*width {
		return fmt.Errorf("batch: output has room for %d values, want %d (%d rows x %d)", len(out), rows*width, rows, width)
	}
	if rows == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.RLock()
	if b.isClosed {
		b.mu.RUnlock()
		return ErrClosed
	}
	if b.cfg.MaxDelay == 0 && len(b.queue) == 0 && b.runMu.TryLock() {
		// Nobody is running or waiting: there is nothing to batch with. The read lock is held
		// through the run, so that Close (and then the session's release) waits for it.
		err := b.safeRun(ctx, x, out, 1, rows)
		b.runMu.Unlock()
		b.mu.RUnlock()
		return err
	}
	r := &request{ctx: ctx, x: append([]float64(nil), x...), out: make([]float64, len(out)), rows: rows, done: make(chan error, 1)}
	select {
	case b.queue <- r:
		b.mu.RUnlock()
	case <-ctx.Done():
		b.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case err := <-r.done:
		if err == nil {
			copy(out, r.out)
		}
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the batcher once the queued requests have run; Predict then returns ErrClosed.
func (b *Batcher) Close() {
	b.mu.Lock()
	if !b.isClosed {
		b.isClosed = true
		close(b.closed)
	}
	b.mu.Unlock()
	b.wg.Wait()
}

// Stats reports how many runs the batcher made and how many rows they held in all.
func (b *Batcher) Stats() (runs, rows int64) { return b.runs.Load(), b.batchedRows.Load() }

// loop gathers and runs batches one at a time. Running one at a time is the point: requests
// queue while a run is in progress and become the next batch, and the runtime's own threads
// parallelise each run.
func (b *Batcher) loop() {
	defer b.wg.Done()
	var held *request // the request that did not fit in the previous batch
	var batch []*request
	var x, out []float64
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		batch = batch[:0]
		rows := 0
		first := held
		held = nil
		if first == nil {
			select {
			case first = <-b.queue:
			case <-b.closed:
				select { // nothing more can be queued: run what is, then stop
				case first = <-b.queue:
				default:
					return
				}
			}
		}
		add := func(r *request) bool {
			if err := r.ctx.Err(); err != nil {
				r.done <- err
				return true
			}
			if rows > 0 && rows+r.rows > b.cfg.MaxRows {
				held = r
				return false
			}
			batch = append(batch, r)
			rows += r.rows
			return rows < b.cfg.MaxRows
		}
		more := add(first)
		// Take what is already queued, then wait up to MaxDelay for the batch to fill.
	queued:
		for more {
			select {
			case r := <-b.queue:
				more = add(r)
			default:
				break queued
			}
		}
		if more && b.cfg.MaxDelay > 0 {
			timer.Reset(b.cfg.MaxDelay)
		wait:
			for more {
				select {
				case r := <-b.queue:
					more = add(r)
				case <-timer.C:
					break wait
				}
			}
			if !timer.Stop() {
				select { // drain a fire that raced with Stop, so the next Reset starts clean
				case <-timer.C:
				default:
				}
			}
		}
		if len(batch) == 0 {
			continue
		}
		b.runMu.Lock()
		x, out = b.runBatch(batch, rows, x, out)
		b.runMu.Unlock()
	}
}

// runBatch runs the requests as one batch and answers each; x and out are the batch buffers,
// reused from one batch to the next.
func (b *Batcher) runBatch(batch []*request, rows int, x, out []float64) ([]float64, []float64) {
	width := b.cfg.OutputWidth
	if len(batch) == 1 {
		r := batch[0]
		r.done <- b.runOne(r)
		return x, out
	}
	x = x[:0]
	for _, r := range batch {
		x = append(x, r.x...)
	}
	if cap(out) < rows*width {
		out = make([]float64, rows*width)
	}
	out = out[:rows*width]
	ctx, stop := b.batchContext(batch)
	err := b.safeRun(ctx, x, out, len(batch), rows)
	stop()
	if err != nil {
		// One request's rows may be what failed (a value the model refuses): run each alone so
		// that the others still get their answers and the culprit its own error.
		for _, r := range batch {
			r.done <- b.runOne(r)
		}
		return x, out
	}
	off := 0
	for _, r := range batch {
		n := r.rows * width
		copy(r.out, out[off:off+n])
		off += n
		r.done <- nil
	}
	return x, out
}

func (b *Batcher) runOne(r *request) error {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	return b.safeRun(r.ctx, r.x, r.out, 1, r.rows)
}

// safeRun calls run, turning a panic into an error for the requests of this batch alone.
func (b *Batcher) safeRun(ctx context.Context, x, out []float64, requests, rows int) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("batch: the model panicked on a batch of %d requests (%d rows): %v\n%s", requests, rows, p, debug.Stack())
		}
	}()
	b.runs.Add(1)
	b.batchedRows.Add(int64(rows))
	return b.run(ctx, x, out)
}

// batchContext is cancelled once every request of the batch has given up, and never before.
func (b *Batcher) batchContext(batch []*request) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var live atomic.Int64
	live.Store(int64(len(batch)))
	stops := make([]func() bool, 0, len(batch))
	for _, r := range batch {
		stops = append(stops, context.AfterFunc(r.ctx, func() {
			if live.Add(-1) == 0 {
				cancel()
			}
		}))
	}
	return ctx, func() {
		for _, s := range stops {
			s()
		}
		cancel()
	}
}
