package program

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/inferstack/inferstack/components"
	"github.com/inferstack/inferstack/stackconfig"
)

// checkModelDir makes sure that `model.dir` reaches the image before anything is built: it must be
// a directory inside the build context, and .dockerignore must let at least one of its files in.
// Otherwise the Docker build fails late (the Dockerfile cannot find it) or, worse, the content
// tag ignores the model and a new model never rolls out.
func checkModelDir(c stackconfig.Config) error {
	dir := c.Model.Dir
	if dir == "" {
		return nil
	}
	key := stackconfig.KeyModel + ".dir"
	clean := filepath.ToSlash(filepath.Clean(dir))
	if filepath.IsAbs(dir) || clean == ".." || strings.HasPrefix(clean, "../") {
		return fmt.Errorf("%s: %q: want a directory inside the build context %q (the project directory by default), e.g. models/churn",
			key, dir, c.Image.Context)
	}
	path := filepath.Join(c.Image.Context, dir)
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%s: %q: %w; put the model in a directory of the build context, e.g. models/churn/xgboost-model", key, dir, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("%s: %q is a file: name the directory that holds the model, e.g. models/churn", key, dir)
	}
	files, err := components.ContextFiles(c.Image.Context, c.Image.Dockerfile, dir)
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	if len(files) == 0 {
		return fmt.Errorf("%s: %q: .dockerignore leaves none of its files in the build context; put the model under models/ "+
			"(which .dockerignore lets in) or add an exception (!%s) to .dockerignore", key, dir, clean)
	}
	return nil
}
