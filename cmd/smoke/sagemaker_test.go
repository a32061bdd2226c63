package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/internal/sagemakerfake"
)

// Autonamed the way Pulumi names them: logical name, "-", 7 hex characters.
const (
	tEndpoint = "churn-endpoint-prod-1a2b3c4"
	cfgOld    = "churn-endpoint-endpoint-config-aaaaaaa"
	cfgLive   = "churn-endpoint-endpoint-config-bbbbbbb"
	cfgNew    = "churn-endpoint-endpoint-config-ccccccc"
	cfgOther  = "churn-endpoint-endpoint-config-ddddddd" // the dev stack's, same name prefix
	modelOld  = "churn-endpoint-model-aaaaaaa"
	modelLive = "churn-endpoint-model-bbbbbbb"
	modelNew  = "churn-endpoint-model-ccccccc"
	modelDev  = "churn-endpoint-model-ddddddd"
)

var prodTags = map[string]string{"stack": "churn/prod", "environment": "prod", "managed-by": "inferstack"}

// rolledBack is a stack after a blue/green update that SageMaker rolled back: the stack's outputs
// name cfgNew/modelNew, the endpoint serves cfgLive/modelLive, cfgOld/modelOld are from an earlier
// rollout, and the dev stack's configuration and model share the name prefix.
func rolledBack(t *testing.T, status string) *sagemakerfake.Server {
	t.Helper()
	f := sagemakerfake.New(t)
	f.PageSize = 1 // every listing pages
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i, c := range []struct{ cfg, model string }{{cfgOld, modelOld}, {cfgLive, modelLive}, {cfgNew, modelNew}} {
		created := day.AddDate(0, 0, i)
		f.PutConfig(sagemakerfake.Config{Name: c.cfg, VariantName: "primary", ModelName: c.model, InstanceType: "ml.c6g.xlarge",
			InitialCount: 2, Tags: prodTags, Created: created})
		f.PutModel(sagemakerfake.Model{Name: c.model, Tags: prodTags, Created: created})
	}
	devTags := map[string]string{"stack": "churn/dev"}
	f.PutConfig(sagemakerfake.Config{Name: cfgOther, VariantName: "primary", ModelName: modelDev, Tags: devTags, Created: day})
	f.PutModel(sagemakerfake.Model{Name: modelDev, Tags: devTags, Created: day})
	f.PutEndpoint(sagemakerfake.Endpoint{Name: tEndpoint, ConfigName: cfgLive, Status: status,
		Variants: []sagemakerfake.Variant{{Name: "primary", Current: 2, Desired: 2}}})
	return f
}

// outputsFile writes what `pulumi stack output --json` prints for the stack.
func outputsFile(t *testing.T, configName, modelName string) string {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"region": "eu-central-1", "endpointName": tEndpoint, "endpointConfigName": configName,
		"modelName": modelName, "stackTag": "churn/prod", "apiUrl": "https://x.execute-api.eu-central-1.amazonaws.com/v1"})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "outputs.json")
	require.NoError(t, os.WriteFile(path, raw, 0o600))
	return path
}

func runSM(t *testing.T, f *sagemakerfake.Server, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	connect := func(_ context.Context, region string) (sageMakerAPI, error) {
		require.Equal(t, "eu-central-1", region, "the region comes from the stack outputs")
		return f.Client(), nil
	}
	err := runWith(context.Background(), args, env(nil), &out, connect)
	return out.String(), err
}

// TestHelpPrintsTheFlagsAndSucceeds is issue 10 item 4: `go run ./cmd/smoke -h` printed nothing
// and exited 1.
func TestHelpPrintsTheFlagsAndSucceeds(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"-help"}, {"verify", "-h"}, {"prune", "-h"}, {"check", "-h"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, err := runSM(t, nil, args...)
			require.NoError(t, err, "help is no failure: exit 0")
			assert.Contains(t, out, "Usage:")
			assert.Contains(t, out, "-outputs file")
			switch args[0] {
			case "verify":
				assert.Contains(t, out, "-endpoint-config")
			case "prune":
				assert.Contains(t, out, "-delete")
			default:
				assert.Contains(t, out, "-url")
				assert.Contains(t, out, "-max-p99")
			}
		})
	}
	_, err := runSM(t, nil, "verfiy")
	require.ErrorContains(t, err, `unknown mode "verfiy"`)
}

// TestVerifyCatchesARolledBackUpdate is issue 9 item 1's post-deploy check, with the real SDK
// client against the fake SageMaker API.
func TestVerifyCatchesARolledBackUpdate(t *testing.T) {
	tests := []struct {
		name, deployed, status string
		want                   string // "" passes
	}{
		{"deployed and serving", cfgLive, "InService", ""},
		{"rolled back", cfgNew, "InService", "rolled back: run `pulumi refresh`: endpoint " + tEndpoint + " serves configuration " + cfgLive},
		{"still rolling back", cfgNew, "RollingBack", "rolled back: run `pulumi refresh`"},
		{"deployment under way", cfgLive, "Updating", "is Updating, not InService"},
		{"failed", cfgLive, "Failed", "is Failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := rolledBack(t, tc.status)
			out, err := runSM(t, f, "verify", "-outputs", outputsFile(t, tc.deployed, modelNew))
			assert.Equal(t, []string{"DescribeEndpoint"}, f.Calls())
			if tc.want == "" {
				require.NoError(t, err)
				assert.Contains(t, out, "ok   endpoint "+tEndpoint+" serves "+cfgLive)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	t.Run("missing endpoint", func(t *testing.T) {
		f := sagemakerfake.New(t)
		_, err := runSM(t, f, "verify", "-outputs", outputsFile(t, cfgLive, modelLive))
		require.ErrorContains(t, err, "endpoint "+tEndpoint+" does not exist in eu-central-1")
	})
	t.Run("flags without outputs", func(t *testing.T) {
		_, err := runSM(t, nil, "verify", "-endpoint", tEndpoint)
		require.ErrorContains(t, err, "-endpoint-config, -region required")
	})
}

// TestPruneDeletesOnlyWhatNothingServes: after the rollback above, the serving configuration and
// model stay, so do the ones the stack's state names (a `pulumi refresh` still needs them), the
// other stack's are not touched, and only the earlier rollout's go, and only with -delete.
func TestPruneDeletesOnlyWhatNothingServes(t *testing.T) {
	f := rolledBack(t, "InService")
	outputs := outputsFile(t, cfgNew, modelNew)
	out, err := runSM(t, f, "prune", "-outputs", outputs)
	require.NoError(t, err)
	assert.Contains(t, out, "keep   endpoint-config/"+cfgLive+" (serving)")
	assert.Contains(t, out, "keep   model/"+modelLive+" (used by "+cfgLive+")")
	assert.Contains(t, out, "keep   endpoint-config/"+cfgNew+" (the stack's endpointConfigName)")
	assert.Contains(t, out, "would delete endpoint-config/"+cfgOld)
	assert.Contains(t, out, "would delete model/"+modelOld)
	assert.NotContains(t, out, cfgOther, "another stack's configuration shares the name prefix but not the tag")
	assert.Contains(t, out, "dry run: 2 to delete")
	assert.Empty(t, f.Deleted(), "a dry run deletes nothing")

	out, err = runSM(t, f, "prune", "-outputs", outputs, "-delete")
	require.NoError(t, err, out)
	assert.Equal(t, []string{"endpoint-config/" + cfgOld, "model/" + modelOld}, f.Deleted(), "configurations before their models")
	for _, kept := range []string{cfgLive, cfgNew, cfgOther} {
		assert.True(t, f.Has("endpoint-config", kept), kept)
	}
	for _, kept := range []string{modelLive, modelNew, modelDev} {
		assert.True(t, f.Has("model", kept), kept)
	}
}

func TestPruneRefusesWhenItCannotKnowWhatServes(t *testing.T) {
	t.Run("deployment under way", func(t *testing.T) {
		f := rolledBack(t, "Updating")
		_, err := runSM(t, f, "prune", "-outputs", outputsFile(t, cfgLive, modelLive), "-delete")
		require.ErrorContains(t, err, "is Updating: prune only while it is InService")
		assert.Empty(t, f.Deleted())
	})
	t.Run("endpoint gone, not said to be destroyed", func(t *testing.T) {
		f := sagemakerfake.New(t)
		f.PutModel(sagemakerfake.Model{Name: modelOld, Tags: prodTags})
		_, err := runSM(t, f, "prune", "-outputs", outputsFile(t, cfgLive, modelLive), "-delete")
		require.ErrorContains(t, err, "run again with -destroyed")
		assert.Empty(t, f.Deleted())
	})
	t.Run("after destroy", func(t *testing.T) {
		f := sagemakerfake.New(t)
		f.PutConfig(sagemakerfake.Config{Name: cfgOld, ModelName: modelOld, Tags: prodTags})
		f.PutModel(sagemakerfake.Model{Name: modelOld, Tags: prodTags})
		f.PutModel(sagemakerfake.Model{Name: modelDev, Tags: map[string]string{"stack": "churn/dev"}})
		// No outputs after destroy: the flags name the stack.
		out, err := runSM(t, f, "prune", "-region", "eu-central-1", "-endpoint", tEndpoint, "-stack-tag", "churn/prod", "-destroyed", "-delete")
		require.NoError(t, err, out)
		assert.Equal(t, []string{"endpoint-config/" + cfgOld, "model/" + modelOld}, f.Deleted())
	})
}

// TestVerifyWithTheDefaultClient runs verify the way CI does: the SDK's default credential chain
// (here the environment's keys) and AWS_ENDPOINT_URL_SAGEMAKER, which the SDK honours, aimed at
// the fake.
func TestVerifyWithTheDefaultClient(t *testing.T) {
	f := rolledBack(t, "InService")
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIAFAKE", "AWS_SECRET_ACCESS_KEY": "fake", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": dir + "/config", "AWS_SHARED_CREDENTIALS_FILE": dir + "/credentials", "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_SAGEMAKER": f.URL,
	} {
		t.Setenv(k, v)
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"verify", "-outputs", outputsFile(t, cfgNew, modelNew)}, env(nil), &out)
	require.ErrorContains(t, err, "rolled back: run `pulumi refresh`")
	require.NoError(t, run(context.Background(), []string{"verify", "-outputs", outputsFile(t, cfgLive, modelLive)}, env(nil), &out))
	assert.Equal(t, []string{"DescribeEndpoint", "DescribeEndpoint"}, f.Calls())
}
