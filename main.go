// Command inferstack is the Pulumi program (`pulumi up --stack dev`): it reads the stack's config,
// builds and pushes the inference image and deploys it to a SageMaker endpoint. See README.md.
package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/inferstack/inferstack/program"
)

func main() {
	if outsidePulumi(os.Getenv, os.Stderr) {
		os.Exit(exitOutsidePulumi)
	}
	pulumi.Run(program.Run)
}

// exitOutsidePulumi is the exit status of `go run .` without the Pulumi CLI: a usage error.
const exitOutsidePulumi = 2

// engineEnv are the variables the Pulumi CLI sets for the program it runs and that pulumi.Run
// cannot do without (pulumi/sdk go/pulumi/run.go, runErrInner): without them it exits 32
// (ExitStatusLoggedError) with nothing printed, because it has no engine to log to.
var engineEnv = []string{pulumi.EnvProject, pulumi.EnvStack, pulumi.EnvMonitor, pulumi.EnvEngine}

// outsidePulumi reports whether the program was started without the Pulumi engine (`go run .`)
// and, if so, tells w how it is meant to run.
func outsidePulumi(getenv func(string) string, w io.Writer) bool {
	// PULUMI_PLUGINS=true asks the SDK to list the plugins the program needs, with no engine.
	if listing, _ := strconv.ParseBool(getenv("PULUMI_PLUGINS")); listing {
		return false
	}
	var missing []string
	for _, k := range engineEnv {
		if getenv(k) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return false
	}
	fmt.Fprintf(w, `inferstack is a Pulumi program: the Pulumi CLI runs it and connects it to the deployment
engine. Started on its own (%s not set), it can do nothing.
Run it with the Pulumi CLI, from this directory:

  pulumi preview --stack dev    # what a deploy would change
  pulumi up --stack dev         # deploy the stack of Pulumi.dev.yaml

or, offline, the whole program under mocks for every committed Pulumi.<stack>.yaml:

  go test ./tests/

README.md ("Deploy") lists the prerequisites.
`, strings.Join(missing, ", "))
	return true
}
