// Command smoke checks a deployed inferstack API the way the old checklist's "Test deployed
// endpoint" and "Performance testing" steps did by hand: it gets a token from Cognito with the
// machine client's credentials, calls GET /ping and POST /invocations through API Gateway, checks
// that bad input is refused with a 4xx, then sends a bounded number of requests and fails when p99
// latency or the error rate is above its limit.
//
//	pulumi stack output --json --show-secrets > outputs.json
//	go run ./cmd/smoke -outputs outputs.json -body '{"instances":[[5.1,3.5,1.4,0.2]]}'
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "smoke:", err)
		os.Exit(1)
	}
}

// run parses flags, performs the checks and prints a report; it returns an error when a check fails.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := parseConfig(args, getenv)
	if err != nil {
		return err
	}
	report, err := smoke(ctx, cfg, stdout)
	if err != nil {
		return err
	}
	return report.verdict(cfg)
}
