// Command smoke checks a deployed inferstack stack. Without a mode it checks the API: it gets a
// token from Cognito with the machine client's credentials, calls GET /ping and POST /invocations
// through API Gateway, checks that bad input is refused with a 4xx, then sends a bounded number of
// requests and fails when p99 latency or the error rate is above its limit. `verify` checks that
// the SageMaker endpoint serves the configuration the last `pulumi up` deployed (it does not after
// an automatic rollback); `prune` lists, and with -delete deletes, the retained models and endpoint
// configurations that nothing serves. `-h` prints the flags of each.
//
//	pulumi stack output --json --show-secrets > /tmp/outputs.json
//	go run ./cmd/smoke verify -outputs /tmp/outputs.json
//	go run ./cmd/smoke -outputs /tmp/outputs.json -body '{"instances":[[5.1,3.5,1.4,0.2]]}'
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
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

// run dispatches on the mode and returns an error when a check fails; -h is no failure.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return runWith(ctx, args, getenv, stdout, defaultSageMaker)
}

// runWith is run with the SageMaker client's constructor as a parameter, for tests.
func runWith(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, connect newSageMaker) error {
	mode, rest := "check", args
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		mode, rest = args[0], args[1:]
	}
	var err error
	switch mode {
	case "check":
		err = check(ctx, rest, getenv, stdout)
	case "verify":
		err = verify(ctx, rest, stdout, connect)
	case "prune":
		err = prune(ctx, rest, stdout, connect)
	default:
		err = fmt.Errorf("unknown mode %q: want verify, prune, or flags only for the API check (run with -h)", mode)
	}
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

// check is the API check.
func check(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := parseConfig(args, getenv, stdout)
	if err != nil {
		return err
	}
	report, err := smoke(ctx, cfg, stdout)
	if err != nil {
		return err
	}
	return report.verdict(cfg)
}
