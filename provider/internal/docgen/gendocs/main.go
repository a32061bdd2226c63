// Command gendocs writes the provider's docs_gen.go from the component packages' doc comments
// (run through `go generate` in provider/).
package main

import (
	"fmt"
	"os"

	"github.com/inferstack/inferstack/provider/internal/docgen"
)

func main() {
	if err := docgen.WriteFile("docs_gen.go", docgen.Dirs...); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}
