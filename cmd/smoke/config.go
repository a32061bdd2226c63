package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/inferstack/inferstack/internal/contract"
)

// config is what one smoke run needs: where the API is, how to get a token, and the limits.
type config struct {
	APIURL       string // the stage's invoke URL, e.g. https://abc.execute-api.eu-central-1.amazonaws.com/v1
	TokenURL     string // the Cognito token endpoint, https://<domain>.auth.<region>.amazoncognito.com/oauth2/token
	ClientID     string
	ClientSecret string
	Scope        string // the resource server's invoke scope
	APIKey       string // sent as x-api-key when set

	Body        string // a valid request body
	ContentType string
	BadBody     string // a body the model must refuse with a 4xx

	Requests     int
	Concurrency  int
	MaxP99       time.Duration
	MaxErrorRate float64
	Timeout      time.Duration
}

// Stack output names that the program exports (see main.go) and the flag each one fills.
var outputKeys = map[string]string{
	contract.OutAPIURL:              "url",
	contract.OutTokenEndpoint:       "token-url",
	contract.OutMachineClientID:     "client-id",
	contract.OutMachineClientSecret: "client-secret",
	contract.OutInvokeScope:         "scope",
	contract.OutAPIKeyValue:         "api-key",
}

func parseConfig(args []string, getenv func(string) string, stdout io.Writer) (config, error) {
	var c config
	var outputs string
	fs := flag.NewFlagSet("smoke", flag.ContinueOnError)
	fs.StringVar(&outputs, "outputs", "", "`file` of 'pulumi stack output --json --show-secrets'; flags override it")
	fs.StringVar(&c.APIURL, "url", "", "the API stage's invoke URL")
	fs.StringVar(&c.TokenURL, "token-url", "", "the Cognito token endpoint")
	fs.StringVar(&c.ClientID, "client-id", "", "the machine app client ID")
	fs.StringVar(&c.ClientSecret, "client-secret", getenv("SMOKE_CLIENT_SECRET"), "the machine app client secret (env SMOKE_CLIENT_SECRET)")
	fs.StringVar(&c.Scope, "scope", "", "the OAuth scope to request")
	fs.StringVar(&c.APIKey, "api-key", getenv("SMOKE_API_KEY"), "the API key, when the stage requires one (env SMOKE_API_KEY)")
	fs.StringVar(&c.Body, "body", `{"instances":[[5.1,3.5,1.4,0.2]]}`, "a valid request body (the default suits the embedded iris model)")
	fs.StringVar(&c.ContentType, "content-type", "application/json", "the body's content type")
	fs.StringVar(&c.BadBody, "bad-body", `{"instances":"not rows"}`, "a body the API must refuse with a 4xx")
	fs.IntVar(&c.Requests, "requests", 100, "requests in the load phase (0 skips it)")
	fs.IntVar(&c.Concurrency, "concurrency", 4, "requests in flight at once")
	fs.DurationVar(&c.MaxP99, "max-p99", 500*time.Millisecond, "fail when p99 latency is above this")
	fs.Float64Var(&c.MaxErrorRate, "max-error-rate", 0.01, "fail when the share of failed requests is above this")
	fs.DurationVar(&c.Timeout, "timeout", 30*time.Second, "per-request timeout")
	if err := parseFlags(fs, args, stdout, "smoke checks the deployed API: token, /ping, /invocations, a bad body, then a bounded load."); err != nil {
		return config{}, err
	}
	if err := fillFromOutputs(fs, outputs, outputKeys); err != nil {
		return config{}, err
	}
	return c, c.validate()
}

// usage is the help text of every mode; -h prints it on stdout and exits 0.
const usage = `Usage:
  go run ./cmd/smoke [flags]          check the deployed API (default)
  go run ./cmd/smoke verify [flags]   check that the endpoint serves what the last pulumi up deployed
  go run ./cmd/smoke prune [flags]    list (and with -delete, delete) retained models and configurations nothing serves

The flags are read from -outputs, the JSON of ` + "`pulumi stack output --json`" + `
(--show-secrets for the API check), written outside the repository, e.g. /tmp/outputs.json.
`

// errHelp ends a run that printed its help: the command exits 0.
var errHelp = errors.New("help printed")

// parseFlags parses args; -h or -help prints the usage and the flags to stdout and returns errHelp.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer, about string) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fmt.Fprintf(stdout, "%s\n\n%s\nFlags of %s:\n", about, usage, fs.Name())
		fs.PrintDefaults()
		return errHelp
	}
	if err != nil {
		return fmt.Errorf("%w (run with -h for the flags)", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (run with -h for the flags)", fs.Arg(0))
	}
	return nil
}

// fillFromOutputs fills every flag in keys that was not given from the stack outputs file.
func fillFromOutputs(fs *flag.FlagSet, path string, keys map[string]string) error {
	if path == "" {
		return nil
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	return applyOutputs(fs, path, given, keys)
}

// applyOutputs fills every flag not given on the command line from the stack outputs file.
func applyOutputs(fs *flag.FlagSet, path string, given map[string]bool, keys map[string]string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read -outputs: %w", err)
	}
	var outs map[string]any
	if err := json.Unmarshal(raw, &outs); err != nil {
		return fmt.Errorf("-outputs %s is not the JSON of `pulumi stack output --json`: %w", path, err)
	}
	for key, name := range keys {
		v, ok := outs[key].(string)
		if !ok || given[name] {
			continue
		}
		if v == "[secret]" {
			return fmt.Errorf("-outputs %s: %s is hidden; run `pulumi stack output --json --show-secrets`", path, key)
		}
		if err := fs.Set(name, v); err != nil {
			return fmt.Errorf("-outputs %s: %s: %w", path, key, err)
		}
	}
	return nil
}

func (c config) validate() error {
	var errs []error
	for name, u := range map[string]string{"-url": c.APIURL, "-token-url": c.TokenURL} {
		if p, err := url.Parse(u); u == "" || err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			errs = append(errs, fmt.Errorf("%s %q: want an absolute http(s) URL", name, u))
		}
	}
	if c.ClientID == "" || c.ClientSecret == "" {
		errs = append(errs, errors.New("-client-id and -client-secret (or SMOKE_CLIENT_SECRET) are required for the client-credentials token"))
	}
	if strings.TrimSpace(c.Body) == "" {
		errs = append(errs, errors.New("-body is empty: give a request the model accepts"))
	}
	if c.Requests < 0 || c.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("-requests %d / -concurrency %d: want requests >= 0 and concurrency >= 1", c.Requests, c.Concurrency))
	}
	if c.MaxErrorRate < 0 || c.MaxErrorRate > 1 {
		errs = append(errs, fmt.Errorf("-max-error-rate %v: want 0..1", c.MaxErrorRate))
	}
	return errors.Join(errs...)
}
