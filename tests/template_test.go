package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/inferstack/inferstack/stackconfig"
)

// TestTemplatePromptsMakeAValidStack reads Pulumi.yaml's template section, the `pulumi new` form
// of the old `deploy.py init`: every prompt has a description and a default, names a key the stack
// config reads, and taking every default (as `pulumi new --yes` does) gives a stack that
// validates, for each environment a user may type.
func TestTemplatePromptsMakeAValidStack(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, "Pulumi.yaml"))
	require.NoError(t, err)
	var project struct {
		Template struct {
			Config map[string]struct {
				Description string  `yaml:"description"`
				Default     *string `yaml:"default"`
			} `yaml:"config"`
		} `yaml:"template"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &project))
	prompts := project.Template.Config
	require.NotEmpty(t, prompts)

	answers := map[string]string{}
	for key, p := range prompts {
		assert.NotEmpty(t, p.Description, "%s has no description", key)
		if !assert.NotNil(t, p.Default, "%s has no default", key) {
			continue
		}
		// pulumi new replaces ${PROJECT} with the project name it asked for.
		answers[key] = strings.ReplaceAll(*p.Default, "${PROJECT}", "churn-model")
	}
	for _, key := range []string{stackconfig.KeyEnvironment, stackconfig.KeyTeam, stackconfig.KeyRegion,
		"inferstack:model.name", "inferstack:endpoint.instanceType"} {
		assert.Contains(t, prompts, key, "the template prompts for %s", key)
	}

	for _, env := range []string{stackconfig.EnvDev, stackconfig.EnvQA, stackconfig.EnvStaging, stackconfig.EnvProd} {
		t.Run(env, func(t *testing.T) {
			values := map[string]string{}
			for k, v := range answers {
				values[k] = v
			}
			values[stackconfig.KeyEnvironment] = env
			c, err := stackconfig.ParseMap(env, values)
			require.NoError(t, err, "the template's defaults must deploy as they are")
			assert.Equal(t, "churn-model", c.Model.Name)
			assert.Equal(t, env == stackconfig.EnvDev, c.Endpoint.IsServerless())
		})
	}
}
