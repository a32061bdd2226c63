// Command inferstack is the Pulumi program (`pulumi up --stack dev`): it reads the stack's config,
// builds and pushes the inference image and deploys it to a SageMaker endpoint. See README.md.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/inferstack/inferstack/program"
)

func main() {
	pulumi.Run(program.Run)
}
