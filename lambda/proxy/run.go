package proxy

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"

	"github.com/inferstack/inferstack/lambda/proxyconfig"
)

// envFunctionMemory is the function's memory in MiB, set by Lambda (and by the Runtime Interface
// Emulator) in every execution environment.
const envFunctionMemory = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"

// Run reads the configuration from getenv, bounds the heap by the function's memory, builds the
// AWS clients from the function's role and serves Lambda events until the runtime stops the
// process. It returns only a cold-start error.
func Run(ctx context.Context, getenv func(string) string, out io.Writer) error {
	cfg, err := proxyconfig.FromEnv(getenv)
	if err != nil {
		return err
	}
	if limit, ok := MemoryLimit(getenv); ok {
		debug.SetMemoryLimit(limit)
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load AWS configuration: %w", err)
	}
	h, err := NewHandler(cfg, Deps{
		Runtime:   sagemakerruntime.NewFromConfig(awsCfg),
		SageMaker: sagemaker.NewFromConfig(awsCfg),
		Out:       out,
	})
	if err != nil {
		return err
	}
	lambda.StartWithOptions(h.Handle, lambda.WithContext(ctx))
	return nil
}

// MemoryLimit is the Go memory limit for a function of AWS_LAMBDA_FUNCTION_MEMORY_SIZE MiB: the
// function's memory less a quarter (at least 32 MiB, at most 256 MiB) for what the limit does not
// hold back: the binary's pages, memory freed but not yet returned, a transient over the soft
// limit. With an eighth, RSS peaked at 233 of 256 MiB under the emulator (TestProxyUnderRIE). Without it the garbage collector lets the heap grow
// to twice the live data (GOGC=100): a 64 MiB cache and a few 6 MB answers in flight took a
// 256 MB function past its memory under the Runtime Interface Emulator. ok is false when the
// variable is unset or unreadable, or when GOMEMLIMIT already sets a limit.
func MemoryLimit(getenv func(string) string) (limit int64, ok bool) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, false
	}
	mb, err := strconv.ParseInt(strings.TrimSpace(getenv(envFunctionMemory)), 10, 64)
	if err != nil || mb <= 0 {
		return 0, false
	}
	total := mb << 20
	headroom := min(max(total/4, 32<<20), 256<<20)
	if headroom >= total {
		return 0, false
	}
	return total - headroom, true
}
