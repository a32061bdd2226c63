// Command bootstrap is the LambdaProxy function for the provided.al2023 runtime, which runs the
// file named bootstrap. The LambdaProxy component builds it by this import path.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/inferstack/inferstack/lambda/proxy"
)

func main() {
	if err := proxy.Run(context.Background(), os.Getenv, os.Stdout); err != nil {
		// Lambda reports a cold-start failure with this output; it names every bad variable.
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
