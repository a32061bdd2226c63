package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runMainEnv makes the test binary run main() instead of the tests: the only way to see the real
// exit status and output of `go run .` without building the program a second time.
const runMainEnv = "INFERSTACK_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestGoRunOutsidePulumiSaysHowToRunIt runs main() as `go run .` does, in an environment without
// the Pulumi engine: it must say how to run the program and exit non-zero, not exit 32 silently.
func TestGoRunOutsidePulumiSaysHowToRunIt(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PULUMI_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, runMainEnv+"=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "main must exit non-zero, got %v", err)
	assert.Equal(t, exitOutsidePulumi, exit.ExitCode())
	assert.Empty(t, stdout.String())
	for _, want := range []string{"pulumi preview --stack dev", "pulumi up --stack dev", "go test ./tests/",
		"PULUMI_MONITOR", "README.md"} {
		assert.Contains(t, stderr.String(), want)
	}
}

func TestOutsidePulumi(t *testing.T) {
	engine := map[string]string{"PULUMI_PROJECT": "inferstack", "PULUMI_STACK": "dev",
		"PULUMI_MONITOR": "127.0.0.1:1", "PULUMI_ENGINE": "127.0.0.1:2"}
	tests := []struct {
		name    string
		env     map[string]string
		outside bool
	}{
		{"under the Pulumi CLI", engine, false},
		{"nothing set", map[string]string{}, true},
		{"no monitor", map[string]string{"PULUMI_PROJECT": "inferstack", "PULUMI_STACK": "dev", "PULUMI_ENGINE": "x"}, true},
		{"listing plugins", map[string]string{"PULUMI_PLUGINS": "true"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			got := outsidePulumi(func(k string) string { return tc.env[k] }, &out)
			assert.Equal(t, tc.outside, got)
			assert.Equal(t, tc.outside, out.Len() > 0, "a message exactly when it stops")
		})
	}
}
