// Command server is the inference container's model server: it loads one model and serves it
// over SageMaker's HTTP contract (GET /ping, POST /invocations) on port 8080.
//
//	server [serve] [-port 8080] [-model-dir DIR] [-max-body-bytes N] [-max-rows N] [-max-response-bytes N]
//	       [-memory-budget-bytes N] [-predict-timeout 60s] [-drain-delay 2s]
//
// SageMaker starts it as `docker run IMAGE serve`; `go run ./inference` serves the embedded
// default model. See docs/inference.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/inferstack/inferstack/inference/model"
	"github.com/inferstack/inferstack/inference/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// sageMakerModelDir is where SageMaker unpacks ModelDataUrl and where the image puts a baked-in
// model; a variable so that tests do not depend on the machine's /opt.
var sageMakerModelDir = "/opt/ml/model"

// config is the start-up configuration, from flags and the environment.
type config struct {
	host           string // "" listens on every interface, as SageMaker needs
	port           int
	modelDir       string // "" serves the embedded default model
	modelDirFrom   string // where modelDir came from, for the log
	maxBodyBytes   int64
	maxRows        int64
	maxRespBytes   int64
	memoryBudget   int64 // 0: half the container's memory
	predictTimeout time.Duration
	drainDelay     time.Duration
	logLevel       slog.Level
	libsvmBase     server.LibSVMIndexBase // INFERSTACK_LIBSVM_INDEX_BASE
	sagemaker      sageMakerConfig
}

// maxStopTime is how long after SIGTERM the process may take to exit: SageMaker sends SIGKILL
// at 30 s, and the margin covers the exit itself. The drain delay and the shutdown timeout
// (which is not configurable) must fit in it.
const maxStopTime = 25 * time.Second

var shutdownTimeout = server.DefaultServeConfig(0).ShutdownTimeout

const usage = `usage: server [serve] [flags]

Serves a model over SageMaker's HTTP contract. Flags:
`

// parseConfig reads args (os.Args: the program name, an optional "serve", flags) and the
// environment. Precedence: port from SAGEMAKER_BIND_TO_PORT, then -port, then 8080; model
// directory from -model-dir, then MODEL_DIR, then /opt/ml/model if it exists, else the default.
func parseConfig(args []string, getenv func(string) string, out io.Writer) (config, error) {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(out, usage)
		fs.PrintDefaults()
	}
	port := fs.Int("port", 8080, "port to listen on; SAGEMAKER_BIND_TO_PORT overrides it")
	host := fs.String("host", "", "interface address to listen on, e.g. 127.0.0.1 (default every interface, as SageMaker needs)")
	modelDir := fs.String("model-dir", "", "model directory (default $MODEL_DIR, else "+sageMakerModelDir+" if it exists, else the embedded default model)")
	maxBody := fs.Int64("max-body-bytes", envInt(getenv, "MAX_BODY_BYTES", server.DefaultMaxBodyBytes),
		"largest request body; larger ones get 413 (env MAX_BODY_BYTES)")
	maxRows := fs.Int64("max-rows", envInt(getenv, "MAX_ROWS", 0),
		"most rows per request, 0 for only the response limit's bound; more get 413 (env MAX_ROWS)")
	maxResp := fs.Int64("max-response-bytes", envInt(getenv, "MAX_RESPONSE_BYTES", server.DefaultMaxResponseBytes),
		"largest answer; a request with more rows than it holds gets 413 saying how many fit (env MAX_RESPONSE_BYTES)")
	memoryBudget := fs.Int64("memory-budget-bytes", envInt(getenv, "MEMORY_BUDGET_BYTES", 0),
		"memory the requests in flight may reserve together; 0 for half the container's memory limit, -1 for unbounded (env MEMORY_BUDGET_BYTES)")
	predictTimeout := fs.Duration("predict-timeout", envDuration(getenv, "PREDICT_TIMEOUT", server.DefaultPredictTimeout),
		"per-request prediction deadline (env PREDICT_TIMEOUT)")
	drainDelay := fs.Duration("drain-delay", server.DefaultServeConfig(0).DrainDelay,
		"on SIGTERM, how long /ping answers 503 before the listener closes; at most "+(maxStopTime-shutdownTimeout).String())
	logLevel := fs.String("log-level", orDefault(getenv("LOG_LEVEL"), "info"), "debug, info, warn or error (env LOG_LEVEL)")

	if err := fs.Parse(args[1:]); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 && fs.Arg(0) == "serve" { // flags may follow the command too
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return config{}, err
		}
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q: the only command is serve (run with -h for flags)", fs.Arg(0))
	}
	var problems []error
	for _, err := range []error{envErr(getenv, "MAX_BODY_BYTES", true), envErr(getenv, "MAX_ROWS", true),
		envErr(getenv, "MAX_RESPONSE_BYTES", true), envErr(getenv, "MEMORY_BUDGET_BYTES", true), envErr(getenv, "PREDICT_TIMEOUT", false)} {
		if err != nil {
			problems = append(problems, err)
		}
	}

	c := config{host: *host, port: *port, maxBodyBytes: *maxBody, maxRows: *maxRows, maxRespBytes: *maxResp, memoryBudget: *memoryBudget,
		predictTimeout: *predictTimeout, drainDelay: *drainDelay}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	problems = append(problems, applySageMakerEnv(&c, getenv, explicit)...)
	if v := getenv("INFERSTACK_LIBSVM_INDEX_BASE"); v != "" {
		base, err := server.ParseLibSVMIndexBase(v)
		if err != nil {
			problems = append(problems, fmt.Errorf("INFERSTACK_LIBSVM_INDEX_BASE %q: %w", v, err))
		}
		c.libsvmBase = base
	}
	if p := getenv("SAGEMAKER_BIND_TO_PORT"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 65535 {
			problems = append(problems, fmt.Errorf("SAGEMAKER_BIND_TO_PORT %q: want a port number 0..65535", p))
		}
		c.port = n
	} else if c.port < 0 || c.port > 65535 {
		problems = append(problems, fmt.Errorf("-port %d: want a port number 0..65535", c.port))
	}
	if c.maxBodyBytes <= 0 {
		problems = append(problems, fmt.Errorf("max body bytes %d: must be positive", c.maxBodyBytes))
	}
	if c.maxRows < 0 || c.maxRows > math.MaxInt32 {
		problems = append(problems, fmt.Errorf("max rows %d: want 0 (no limit but the response's) to %d", c.maxRows, math.MaxInt32))
	}
	if c.maxRespBytes <= 0 {
		problems = append(problems, fmt.Errorf("max response bytes %d: must be positive", c.maxRespBytes))
	}
	if c.memoryBudget < -1 {
		problems = append(problems, fmt.Errorf("memory budget %d: want a number of bytes, 0 for half the container's memory or -1 for unbounded", c.memoryBudget))
	}
	if c.predictTimeout <= 0 {
		problems = append(problems, fmt.Errorf("predict timeout %s: must be positive", c.predictTimeout))
	}
	if limit := maxStopTime - shutdownTimeout; c.drainDelay < 0 || c.drainDelay > limit {
		problems = append(problems, fmt.Errorf("-drain-delay %s: want 0s to %s, so that the drain delay and the %s shutdown timeout end within %s of SIGTERM (SageMaker kills the container at 30s)",
			c.drainDelay, limit, shutdownTimeout, maxStopTime))
	}
	if err := c.logLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		problems = append(problems, fmt.Errorf("log level %q: want debug, info, warn or error", *logLevel))
	}
	switch {
	case *modelDir != "":
		c.modelDir, c.modelDirFrom = *modelDir, "-model-dir"
	case getenv("MODEL_DIR") != "":
		c.modelDir, c.modelDirFrom = getenv("MODEL_DIR"), "MODEL_DIR"
	default:
		if _, err := os.Stat(sageMakerModelDir); err == nil {
			c.modelDir, c.modelDirFrom = sageMakerModelDir, "SageMaker model path"
		}
	}
	return c, errors.Join(problems...)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// envInt and envDuration give the flag defaults from the environment; envErr reports a value
// they could not parse (they fall back to the default so that flag parsing can go on).
func envInt(getenv func(string) string, key string, def int64) int64 {
	if n, err := strconv.ParseInt(getenv(key), 10, 64); err == nil {
		return n
	}
	return def
}

func envDuration(getenv func(string) string, key string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(getenv(key)); err == nil {
		return d
	}
	return def
}

func envErr(getenv func(string) string, key string, isInt bool) error {
	v := getenv(key)
	if v == "" {
		return nil
	}
	if isInt {
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return fmt.Errorf("%s %q: want a number of bytes", key, v)
		}
		return nil
	}
	if _, err := time.ParseDuration(v); err != nil {
		return fmt.Errorf("%s %q: want a duration such as 60s", key, v)
	}
	return nil
}

// run starts the server and blocks until ctx is cancelled and the server has shut down.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := parseConfig(args, getenv, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.logLevel}))

	start := time.Now()
	m, err := loadModel(log, cfg)
	if err != nil {
		return err
	}
	loadTime := time.Since(start)
	info := m.Info()
	log.Info("model loaded",
		slog.String("format", info.Format), slog.String("source", info.Source), slog.String("objective", info.Objective),
		slog.String("task", info.Task.String()), slog.Int("features", info.NumFeatures), slog.Int("classes", info.NumClasses),
		slog.Bool("feature_names", len(info.Features) > 0), slog.Float64("load_ms", float64(loadTime.Microseconds())/1000),
		slog.Bool("builtin_artifact", info.Builtin), slog.Int("ensemble", info.Ensemble))

	if c := cfg.sagemaker.compatFor(info); c != nil {
		log.Info("answering as SageMaker's built-in XGBoost container", slog.Bool("builtin_artifact", info.Builtin),
			slog.String("compat", cfg.sagemaker.compatEnv), slog.String("default_accept", c.DefaultAccept),
			slog.Any("output_keys", c.OutputKeys), slog.Bool("batch", c.Batch),
			slog.String("libsvm_index_base", orDefault(cfg.libsvmBase.String(), server.LibSVMIndexAuto.String())))
	}
	budget := setMemoryLimits(log, getenv, cfg.memoryBudget)
	health := &server.Health{}
	srv, err := server.NewServer(log, m, server.Options{
		MaxBodyBytes: cfg.maxBodyBytes, MaxRows: int(cfg.maxRows), MaxResponseBytes: cfg.maxRespBytes, MemoryBudget: budget,
		PredictTimeout: cfg.predictTimeout, ModelLoadTime: loadTime, Health: health, Compat: cfg.sagemaker.compatFor(info),
		LibSVMIndexBase: cfg.libsvmBase,
	})
	if err != nil {
		return fmt.Errorf("starting the server for this model: %w", err)
	}
	ln, err := server.Listen(ctx, net.JoinHostPort(cfg.host, strconv.Itoa(cfg.port)))
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	log.Info("listening", slog.String("addr", ln.Addr().String()),
		slog.Int64("max_body_bytes", cfg.maxBodyBytes), slog.Int64("max_response_bytes", cfg.maxRespBytes), slog.Int64("max_rows", cfg.maxRows),
		slog.String("predict_timeout", cfg.predictTimeout.String()))
	sc := server.DefaultServeConfig(cfg.predictTimeout)
	sc.DrainDelay = cfg.drainDelay
	return server.Serve(ctx, log, ln, srv, health, sc)
}

// setMemoryLimits sizes memory from the container's limit: unless GOMEMLIMIT is set, the Go
// runtime's soft limit becomes 90% of it, so that the garbage collector works harder before
// the kernel's OOM killer would; and the requests in flight may reserve half of it (the rest is
// the model, the runtime and the collector's headroom), unless the budget is configured.
func setMemoryLimits(log *slog.Logger, getenv func(string) string, budget int64) int64 {
	limit, from := server.ContainerMemoryLimit()
	if limit > 0 && getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(limit / 10 * 9)
	}
	switch {
	case budget == 0 && limit > 0:
		budget = limit / 2
	case budget == 0:
		budget = -1
	}
	log.Info("memory", slog.Int64("limit_bytes", limit), slog.String("limit_from", from),
		slog.Int64("go_memory_limit_bytes", debug.SetMemoryLimit(-1)), slog.Int64("request_budget_bytes", budget))
	return budget
}

// loadModel loads the configured directory, or the embedded default when none is configured.
// A configured directory that holds no model is an error, never a reason to fall back.
func loadModel(log *slog.Logger, cfg config) (model.Model, error) {
	if cfg.modelDir == "" {
		log.Warn("no model directory: serving the embedded default model",
			slog.String("hint", "set -model-dir or MODEL_DIR, or mount a model at "+sageMakerModelDir),
			slog.String("model", model.DefaultSource))
		m, err := model.Default()
		if err != nil {
			return nil, fmt.Errorf("loading the embedded default model: %w", err)
		}
		return m, nil
	}
	log.Info("loading model", slog.String("dir", cfg.modelDir), slog.String("from", cfg.modelDirFrom))
	m, err := model.LoadWith(cfg.modelDir, model.LoadOptions{NoEnsemble: cfg.sagemaker.noEnsemble})
	if err != nil {
		return nil, fmt.Errorf("loading the model (directory from %s): %w", cfg.modelDirFrom, err)
	}
	return m, nil
}
