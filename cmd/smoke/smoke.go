package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// tokenSource gets client-credentials access tokens and reuses each until shortly before it
// expires: every token request is billed by Cognito, so a client must not ask per call.
type tokenSource struct {
	client         *http.Client
	url, id, scope string
	secret         string
	now            func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
	fetched int // tokens requested, for the report
}

func (t *tokenSource) Token(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token != "" && t.now().Before(t.expires) {
		return t.token, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	if t.scope != "" {
		form.Set("scope", t.scope)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(t.id, t.secret)
	resp, err := t.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("token request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("token response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("token endpoint answered %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("token endpoint answered without an access_token: %s", strings.TrimSpace(string(body)))
	}
	t.fetched++
	t.token = tok.AccessToken
	// A minute of margin so that a token never expires on the way to API Gateway.
	t.expires = t.now().Add(time.Duration(tok.ExpiresIn)*time.Second - time.Minute)
	return t.token, nil
}

// result is one request's outcome.
type result struct {
	status  int
	latency time.Duration
	cache   string // X-Cache: HIT or MISS
	err     error
}

// report is what a run measured.
type report struct {
	latencies []time.Duration
	failures  int
	hits      int
	tokens    int
}

func (r report) percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	s := slices.Clone(r.latencies)
	slices.Sort(s)
	i := int(p*float64(len(s)) + 0.5)
	return s[min(max(i-1, 0), len(s)-1)]
}

func (r report) errorRate() float64 {
	if len(r.latencies) == 0 {
		return 0
	}
	return float64(r.failures) / float64(len(r.latencies))
}

// verdict fails the run when the load phase broke a limit.
func (r report) verdict(c config) error {
	var errs []error
	if p99 := r.percentile(0.99); len(r.latencies) > 0 && p99 > c.MaxP99 {
		errs = append(errs, fmt.Errorf("p99 latency %s is above -max-p99 %s", p99, c.MaxP99))
	}
	if rate := r.errorRate(); rate > c.MaxErrorRate {
		errs = append(errs, fmt.Errorf("error rate %.2f%% is above -max-error-rate %.2f%%", 100*rate, 100*c.MaxErrorRate))
	}
	return errors.Join(errs...)
}

type caller struct {
	client *http.Client
	cfg    config
	tokens *tokenSource
}

func (c *caller) do(ctx context.Context, method, path, body string, auth bool) result {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.cfg.APIURL, "/")+path, rd)
	if err != nil {
		return result{err: err}
	}
	if body != "" {
		req.Header.Set("Content-Type", c.cfg.ContentType)
	}
	req.Header.Set("Accept", "application/json")
	if auth {
		tok, err := c.tokens.Token(ctx)
		if err != nil {
			return result{err: err}
		}
		// The Cognito user-pool authorizer reads the raw token from the Authorization header.
		req.Header.Set("Authorization", tok)
	}
	if c.cfg.APIKey != "" {
		req.Header.Set("x-api-key", c.cfg.APIKey)
	}
	start := time.Now()
	resp, err := c.client.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	msg, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	lat := time.Since(start)
	if err != nil {
		return result{err: fmt.Errorf("read %s %s: %w", method, path, err)}
	}
	res := result{status: resp.StatusCode, latency: lat, cache: resp.Header.Get("X-Cache")}
	if resp.StatusCode >= 300 {
		res.err = fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	return res
}

// smoke runs the functional checks in order, then the load phase, printing a line per step.
func smoke(ctx context.Context, cfg config, out io.Writer) (report, error) {
	client := &http.Client{Timeout: cfg.Timeout}
	c := &caller{client: client, cfg: cfg, tokens: &tokenSource{
		client: client, url: cfg.TokenURL, id: cfg.ClientID, secret: cfg.ClientSecret, scope: cfg.Scope, now: time.Now,
	}}

	checks := []struct {
		name string
		run  func() error
	}{
		{"a request without a token is refused", func() error {
			r := c.do(ctx, http.MethodGet, "/ping", "", false)
			switch {
			case r.status == http.StatusUnauthorized || r.status == http.StatusForbidden:
				return nil
			case r.status == 0: // no answer: r.err is the transport's error, kept for errors.Is/As
				return fmt.Errorf("GET /ping without a token got no answer: %w", r.err)
			case r.err != nil: // r.err holds the body of the unexpected answer
				return fmt.Errorf("GET /ping without a token answered %d, want 401 or 403: %w", r.status, r.err)
			}
			return fmt.Errorf("GET /ping without a token answered %d, want 401 or 403", r.status)
		}},
		{"GET /ping is UP", func() error { return c.do(ctx, http.MethodGet, "/ping", "", true).err }},
		{"POST /invocations predicts", func() error { return c.do(ctx, http.MethodPost, "/invocations", cfg.Body, true).err }},
		{"invalid input is refused with a 4xx", func() error {
			r := c.do(ctx, http.MethodPost, "/invocations", cfg.BadBody, true)
			if r.status < 400 || r.status > 499 {
				return fmt.Errorf("POST /invocations with -bad-body answered %d, want 4xx", r.status)
			}
			return nil
		}},
	}
	for _, ch := range checks {
		if err := ch.run(); err != nil {
			fmt.Fprintf(out, "FAIL %s: %v\n", ch.name, err)
			return report{}, fmt.Errorf("%s: %w", ch.name, err)
		}
		fmt.Fprintf(out, "ok   %s\n", ch.name)
	}

	rep := load(ctx, c, cfg)
	rep.tokens = c.tokens.fetched
	if len(rep.latencies) > 0 {
		fmt.Fprintf(out, "load %d requests, concurrency %d: p50 %s p95 %s p99 %s, errors %.2f%%, cache hits %d, tokens fetched %d\n",
			len(rep.latencies), cfg.Concurrency, rep.percentile(0.50), rep.percentile(0.95), rep.percentile(0.99),
			100*rep.errorRate(), rep.hits, rep.tokens)
	}
	return rep, nil
}

// load sends cfg.Requests requests with cfg.Concurrency workers: bounded in count, and stopped by ctx.
func load(ctx context.Context, c *caller, cfg config) report {
	jobs := make(chan struct{})
	results := make(chan result)
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				results <- c.do(ctx, http.MethodPost, "/invocations", cfg.Body, true)
			}
		}()
	}
	go func() {
		defer close(jobs)
		for range cfg.Requests {
			select {
			case jobs <- struct{}{}:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()

	var rep report
	for r := range results {
		rep.latencies = append(rep.latencies, r.latency)
		if r.err != nil {
			rep.failures++
		}
		if r.cache == "HIT" {
			rep.hits++
		}
	}
	return rep
}
