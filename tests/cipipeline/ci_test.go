// Package cipipeline checks the CI/CD pipelines shipped to users, .circleci/config.yml and
// .github/workflows/inferstack.yml, by parsing them: jobs, their order, the approval gate before
// prod, branch filters, the coverage gate and the credentials they use.
package cipipeline

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// repoRoot finds the module root from the test's working directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, parent, dir, "go.mod not found above the test directory")
		dir = parent
	}
}

func readFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), rel))
	require.NoError(t, err)
	return string(b)
}

func parseYAML[T any](t *testing.T, rel string) (T, string) {
	t.Helper()
	text := readFile(t, rel)
	var v T
	require.NoError(t, yaml.Unmarshal([]byte(text), &v), rel)
	return v, text
}

// CircleCI 2.1 shapes, only the fields the checks read.
type circleConfig struct {
	Version   any                   `yaml:"version"`
	Executors map[string]yaml.Node  `yaml:"executors"`
	Commands  map[string]circleCmd  `yaml:"commands"`
	Jobs      map[string]circleJob  `yaml:"jobs"`
	Workflows map[string]circleFlow `yaml:"workflows"`
}

type circleCmd struct {
	Steps []any `yaml:"steps"`
}

type circleJob struct {
	Executor   string         `yaml:"executor"`
	Parameters map[string]any `yaml:"parameters"`
	Steps      []any          `yaml:"steps"`
}

type circleFlow struct {
	Jobs []any `yaml:"jobs"`
}

// circleEntry is one job of a workflow: `- test` or `- deploy: {name: ..., requires: ...}`.
type circleEntry struct {
	Job      string
	Name     string
	Type     string
	Stack    string
	Context  any
	Requires []string
	Only     []string
	Ignore   []string
}

func workflowEntries(t *testing.T, flow circleFlow) map[string]circleEntry {
	t.Helper()
	out := map[string]circleEntry{}
	for _, raw := range flow.Jobs {
		switch v := raw.(type) {
		case string:
			out[v] = circleEntry{Job: v, Name: v}
		case map[string]any:
			require.Len(t, v, 1, "a workflow job entry has one key")
			for job, body := range v {
				b, _ := body.(map[string]any)
				e := circleEntry{Job: job, Name: job}
				if n, ok := b["name"].(string); ok {
					e.Name = n
				}
				e.Type, _ = b["type"].(string)
				e.Stack, _ = b["stack"].(string)
				e.Context = b["context"]
				for _, r := range asList(b["requires"]) {
					e.Requires = append(e.Requires, r.(string))
				}
				if f, ok := b["filters"].(map[string]any); ok {
					br, _ := f["branches"].(map[string]any)
					e.Only = strings1(br["only"])
					e.Ignore = strings1(br["ignore"])
				}
				require.NotContains(t, out, e.Name, "duplicate workflow job name")
				out[e.Name] = e
			}
		default:
			require.Failf(t, "unexpected workflow entry", "%T", raw)
		}
	}
	return out
}

func asList(v any) []any {
	switch l := v.(type) {
	case []any:
		return l
	case nil:
		return nil
	default:
		return []any{l}
	}
}

// strings1 reads a CircleCI branch filter, which is a string or a list of strings.
func strings1(v any) []string {
	var out []string
	for _, e := range asList(v) {
		out = append(out, e.(string))
	}
	return out
}

// runCommands returns the shell commands of a list of steps, expanding the config's commands.
func runCommands(cfg circleConfig, steps []any) []string {
	var out []string
	for _, s := range steps {
		switch v := s.(type) {
		case string:
			if c, ok := cfg.Commands[v]; ok {
				out = append(out, runCommands(cfg, c.Steps)...)
			}
		case map[string]any:
			for k, body := range v {
				if k == "run" {
					switch r := body.(type) {
					case string:
						out = append(out, r)
					case map[string]any:
						out = append(out, r["command"].(string))
					}
				} else if c, ok := cfg.Commands[k]; ok {
					out = append(out, runCommands(cfg, c.Steps)...)
				}
			}
		}
	}
	return out
}

// ancestors returns every job a workflow job waits for, transitively.
func ancestors(entries map[string]circleEntry, name string) []string {
	var out []string
	var walk func(string)
	walk = func(n string) {
		for _, r := range entries[n].Requires {
			if !slices.Contains(out, r) {
				out = append(out, r)
				walk(r)
			}
		}
	}
	walk(name)
	return out
}

var coverageGate = regexp.MustCompile(`\.ci/coverage\s+(\d+)`)

// assertVulnScan checks that a users' test job scans for known vulnerabilities with a pinned
// govulncheck (the checklist's code scan). The project's own .ci/run cannot: CI reaches no
// vulnerability database.
func assertVulnScan(t *testing.T, commands []string) {
	t.Helper()
	assert.Regexp(t, `go run golang.org/x/vuln/cmd/govulncheck@v\d+\.\d+\.\d+ \./\.\.\.`, strings.Join(commands, "\n"))
}

// assertCoverageGate checks that a job runs vet and the coverage gate at 70% or more.
func assertCoverageGate(t *testing.T, commands []string) {
	t.Helper()
	joined := strings.Join(commands, "\n")
	assert.Contains(t, joined, "go vet ./...")
	m := coverageGate.FindStringSubmatch(joined)
	require.NotNil(t, m, "the test job must run .ci/coverage <min>")
	minPercent, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	assert.GreaterOrEqual(t, minPercent, 70, "coverage gate")
}

func TestCircleCIPipeline(t *testing.T) {
	cfg, text := parseYAML[circleConfig](t, ".circleci/config.yml")
	assert.Equal(t, 2.1, cfg.Version)
	for _, job := range []string{"test", "preview", "deploy"} {
		require.Contains(t, cfg.Jobs, job)
	}
	assertCoverageGate(t, runCommands(cfg, cfg.Jobs["test"].Steps))
	assertVulnScan(t, runCommands(cfg, cfg.Jobs["test"].Steps))

	preview := strings.Join(runCommands(cfg, cfg.Jobs["preview"].Steps), "\n")
	assert.Contains(t, preview, "pulumi preview --diff")
	deploy := strings.Join(runCommands(cfg, cfg.Jobs["deploy"].Steps), "\n")
	assert.Contains(t, deploy, "pulumi up --yes")
	assert.Contains(t, deploy, "go run ./cmd/smoke", "a deploy is verified before the pipeline moves on")
	assertCircleVerify(t, cfg.Jobs["deploy"].Steps)
	for _, job := range []string{"preview", "deploy"} {
		cmds := strings.Join(runCommands(cfg, cfg.Jobs[job].Steps), "\n")
		assert.Contains(t, cmds, "CIRCLE_OIDC_TOKEN_V2", "%s assumes its AWS role with OIDC", job)
		assert.Contains(t, cmds, "AWS_WEB_IDENTITY_TOKEN_FILE", job)
	}

	require.Len(t, cfg.Workflows, 1)
	var entries map[string]circleEntry
	for _, flow := range cfg.Workflows {
		entries = workflowEntries(t, flow)
	}
	cases := []struct {
		name, job, stack, context string
		requires, only, ignore    []string
		typ                       string
	}{
		{name: "test", job: "test"},
		{name: "preview-dev", job: "preview", stack: "dev", context: "inferstack-dev-preview", requires: []string{"test"}, ignore: []string{"main"}},
		{name: "preview-prod", job: "preview", stack: "prod", context: "inferstack-prod-preview", requires: []string{"test"}, ignore: []string{"main"}},
		{name: "deploy-dev", job: "deploy", stack: "dev", context: "inferstack-dev", requires: []string{"test"}, only: []string{"main"}},
		{name: "hold-prod", job: "hold-prod", typ: "approval", requires: []string{"deploy-dev"}, only: []string{"main"}},
		{name: "deploy-prod", job: "deploy", stack: "prod", context: "inferstack-prod", requires: []string{"hold-prod"}, only: []string{"main"}},
	}
	require.Len(t, entries, len(cases))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := entries[tc.name]
			require.True(t, ok)
			assert.Equal(t, tc.job, e.Job)
			assert.Equal(t, tc.typ, e.Type)
			assert.Equal(t, tc.stack, e.Stack)
			if tc.context != "" {
				assert.Equal(t, tc.context, e.Context)
			}
			assert.ElementsMatch(t, tc.requires, e.Requires)
			assert.Equal(t, tc.only, e.Only)
			assert.Equal(t, tc.ignore, e.Ignore)
		})
	}
	// A job that runs branch code before review never gets a deploy context.
	for name, e := range entries {
		context, _ := e.Context.(string)
		if context != "" && !slices.Equal(e.Only, []string{"main"}) {
			assert.True(t, strings.HasSuffix(context, "-preview"), "%s runs on any branch with deploy context %s", name, context)
		}
	}
	// Prod is reached only through dev and the approval, never around them.
	assert.Subset(t, ancestors(entries, "deploy-prod"), []string{"hold-prod", "deploy-dev", "test"})
	assertCredentials(t, text, circleVars(text), []string{"PULUMI_ACCESS_TOKEN", "AWS_ROLE_ARN"})
}

// shellVar finds $NAME and ${NAME...} references.
var shellVar = regexp.MustCompile(`\$\{?([A-Z][A-Z0-9_]+)`)

func circleVars(text string) []string {
	var out []string
	for _, m := range shellVar.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

// builtIn are variables the CI systems or the shell provide, or the file sets itself.
var builtIn = []string{
	"HOME", "PATH", "BASH_ENV", "CIRCLE_OIDC_TOKEN_V2", "CIRCLE_BUILD_NUM", "RUNNER_TEMP",
	"PULUMI_VERSION", "STACK", "GITHUB_TOKEN",
}

// assertCredentials checks that every variable the pipeline reads is built in or documented in
// the file's header and the runbook, that the required credentials are documented, and that no
// long-lived AWS key is used.
func assertCredentials(t *testing.T, text string, used, required []string) {
	t.Helper()
	var header string
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			break
		}
		header += line + "\n"
	}
	runbook := readFile(t, "docs/runbook.md")
	for _, v := range used {
		if slices.Contains(builtIn, v) {
			continue
		}
		assert.Contains(t, header, v, "%s is read but not documented in the file header", v)
		assert.Contains(t, runbook, v, "%s is read but not documented in docs/runbook.md", v)
	}
	for _, v := range required {
		assert.Contains(t, used, v, "the pipeline must use %s", v)
	}
	for _, key := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		assert.NotContains(t, text, key, "credentials come from OIDC, not stored keys")
	}
}

// GitHub Actions shapes.
type ghWorkflow struct {
	On          map[string]ghTrigger `yaml:"on"`
	Permissions map[string]string    `yaml:"permissions"`
	Jobs        map[string]ghJob     `yaml:"jobs"`
}

type ghTrigger struct {
	Branches []string `yaml:"branches"`
}

type ghJob struct {
	If          string            `yaml:"if"`
	Needs       any               `yaml:"needs"`
	Environment any               `yaml:"environment"`
	Permissions map[string]string `yaml:"permissions"`
	Strategy    struct {
		Matrix struct {
			Include []map[string]string `yaml:"include"`
		} `yaml:"matrix"`
	} `yaml:"strategy"`
	Steps []ghStep `yaml:"steps"`
}

type ghStep struct {
	Name string            `yaml:"name"`
	If   string            `yaml:"if"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	With map[string]any    `yaml:"with"`
	Env  map[string]string `yaml:"env"`
}

func (j ghJob) needs() []string {
	var out []string
	for _, n := range asList(j.Needs) {
		out = append(out, n.(string))
	}
	return out
}

// step returns the first step using an action (by prefix, without the version).
func (j ghJob) step(t *testing.T, uses string) ghStep {
	t.Helper()
	for _, s := range j.Steps {
		if strings.HasPrefix(s.Uses, uses+"@") {
			return s
		}
	}
	require.Failf(t, "missing step", "no step uses %s", uses)
	return ghStep{}
}

func (j ghJob) runs() string {
	var b strings.Builder
	for _, s := range j.Steps {
		b.WriteString(s.Run + "\n")
	}
	return b.String()
}

func TestGitHubActionsPipeline(t *testing.T) {
	wf, text := parseYAML[ghWorkflow](t, ".github/workflows/inferstack.yml")
	assert.Equal(t, []string{"main"}, wf.On["pull_request"].Branches)
	assert.Equal(t, []string{"main"}, wf.On["push"].Branches)
	assert.Equal(t, map[string]string{"contents": "read"}, wf.Permissions, "least privilege by default")
	for _, job := range []string{"test", "preview", "deploy-dev", "deploy-prod"} {
		require.Contains(t, wf.Jobs, job)
	}
	assert.Len(t, wf.Jobs, 4)

	test := wf.Jobs["test"]
	assertCoverageGate(t, []string{test.runs()})
	assertVulnScan(t, []string{test.runs()})
	assert.Equal(t, "go.mod", test.step(t, "actions/setup-go").With["go-version-file"])

	preview := wf.Jobs["preview"]
	assert.Equal(t, "github.event_name == 'pull_request'", preview.If)
	assert.Equal(t, []string{"test"}, preview.needs())
	assert.Equal(t, "write", preview.Permissions["pull-requests"], "the preview is posted as a PR comment")
	assert.Equal(t, "write", preview.Permissions["id-token"], "OIDC")
	var stacks []string
	for _, m := range preview.Strategy.Matrix.Include {
		stacks = append(stacks, m["stack"])
	}
	assert.Equal(t, []string{"dev", "prod"}, stacks)
	p := preview.step(t, "pulumi/actions")
	assert.Equal(t, "preview", p.With["command"])
	assert.Equal(t, true, p.With["comment-on-pr"])
	assert.Equal(t, true, p.With["diff"])
	assert.Equal(t, "${{ secrets.GITHUB_TOKEN }}", p.With["github-token"])

	cases := []struct {
		job, env, needs, stack string
		ifMain                 bool
	}{
		{job: "deploy-dev", env: "dev", needs: "test", stack: "dev", ifMain: true},
		{job: "deploy-prod", env: "prod", needs: "deploy-dev", stack: "prod"},
	}
	for _, tc := range cases {
		t.Run(tc.job, func(t *testing.T) {
			j := wf.Jobs[tc.job]
			// The environment carries the role and, for prod, the required reviewers (approval gate).
			assert.Equal(t, tc.env, j.Environment)
			assert.Equal(t, []string{tc.needs}, j.needs())
			if tc.ifMain {
				assert.Equal(t, "github.event_name == 'push' && github.ref == 'refs/heads/main'", j.If)
			}
			assert.Equal(t, "write", j.Permissions["id-token"])
			aws := j.step(t, "aws-actions/configure-aws-credentials")
			assert.Equal(t, "${{ vars.AWS_ROLE_ARN }}", aws.With["role-to-assume"])
			up := j.step(t, "pulumi/actions")
			assert.Equal(t, "up", up.With["command"])
			assert.Contains(t, up.With["stack-name"], "'"+tc.stack+"'")
			assert.Equal(t, "${{ secrets.PULUMI_ACCESS_TOKEN }}", up.Env["PULUMI_ACCESS_TOKEN"])
			assert.Contains(t, j.runs(), "go run ./cmd/smoke")
			assertGitHubVerify(t, j)
		})
	}
	// deploy-prod runs only after deploy-dev, which runs only for pushes to main.
	assert.Empty(t, wf.Jobs["deploy-prod"].If, "prod inherits dev's main-only condition through needs")

	var used []string
	for _, m := range regexp.MustCompile(`\b(?:secrets|vars)\.([A-Z][A-Z0-9_]+)`).FindAllStringSubmatch(text, -1) {
		if !slices.Contains(used, m[1]) {
			used = append(used, m[1])
		}
	}
	for _, m := range preview.Strategy.Matrix.Include {
		used = append(used, m["role"]) // read as vars[matrix.role]
	}
	assertCredentials(t, text, used, []string{"PULUMI_ACCESS_TOKEN", "AWS_ROLE_ARN"})
	runbook := readFile(t, "docs/runbook.md")
	assert.Contains(t, runbook, "required reviewers", "the runbook explains the prod approval gate")
}

func TestCoverageGateScript(t *testing.T) {
	info, err := os.Stat(filepath.Join(repoRoot(t), ".ci/coverage"))
	require.NoError(t, err)
	assert.NotZero(t, info.Mode()&0o111, ".ci/coverage must be executable")
	script := readFile(t, ".ci/coverage")
	assert.Contains(t, script, "min=${1:-70}")
	assert.Contains(t, script, "./components/... ./inference/...")
	// The project's own CI enforces the same gate it ships to users.
	assertCoverageGate(t, []string{readFile(t, ".ci/run")})
}

// verifyCommand is the post-deploy check of issue 9 item 1: the endpoint must serve the
// configuration the update deployed; after a SageMaker rollback it does not.
var verifyCommand = regexp.MustCompile(`go run \./cmd/smoke verify -outputs \S+`)

// assertCircleVerify checks that the deploy job runs `smoke verify` after `pulumi up`, before the
// API smoke test, and also when `pulumi up` failed (a rollback can fail it).
func assertCircleVerify(t *testing.T, steps []any) {
	t.Helper()
	up, verify, api := -1, -1, -1
	var when any
	for i, s := range steps {
		m, ok := s.(map[string]any)
		if !ok {
			continue
		}
		r, ok := m["run"].(map[string]any)
		if !ok {
			continue
		}
		cmd, _ := r["command"].(string)
		switch {
		case strings.Contains(cmd, "pulumi up"):
			up = i
		case verifyCommand.MatchString(cmd):
			verify, when = i, r["when"]
		case strings.Contains(cmd, "go run ./cmd/smoke -outputs"):
			api = i
		}
	}
	require.NotEqual(t, -1, verify, "the deploy job must run go run ./cmd/smoke verify")
	assert.Less(t, up, verify, "verify runs after pulumi up")
	assert.Less(t, verify, api, "verify runs before the API smoke test")
	assert.Equal(t, "always", when, "verify also runs when pulumi up failed")
}

// assertGitHubVerify is assertCircleVerify for a GitHub Actions deploy job.
func assertGitHubVerify(t *testing.T, j ghJob) {
	t.Helper()
	up, verify, api := -1, -1, -1
	for i, s := range j.Steps {
		switch {
		case strings.HasPrefix(s.Uses, "pulumi/actions@") && s.With["command"] == "up":
			up = i
		case verifyCommand.MatchString(s.Run):
			verify = i
			assert.Equal(t, "${{ !cancelled() }}", s.If, "verify also runs when pulumi up failed")
		case strings.Contains(s.Run, "go run ./cmd/smoke -outputs"):
			api = i
		}
	}
	require.NotEqual(t, -1, verify, "the deploy job must run go run ./cmd/smoke verify")
	assert.Less(t, up, verify, "verify runs after pulumi up")
	assert.Less(t, verify, api, "verify runs before the API smoke test")
}
