package components

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/internal/pulumimock"
	"github.com/inferstack/inferstack/internal/sagemakerfake"
)

// seRunRetain runs the component and records which resources asked the engine to retain them on
// delete (the RetainOnDelete option travels in the RegisterResource request).
func seRunRetain(t *testing.T, args *SageMakerEndpointArgs) (*pulumimock.Mocks, map[string]bool) {
	t.Helper()
	mocks := pulumimock.New()
	retained := map[string]bool{}
	var mu sync.Mutex
	mocks.OnNewResource = func(a pulumi.MockResourceArgs) resource.PropertyMap {
		mu.Lock()
		defer mu.Unlock()
		retained[a.TypeToken+"::"+a.Name] = a.RegisterRPC != nil && a.RegisterRPC.GetRetainOnDelete()
		return nil
	}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := NewSageMakerEndpoint(ctx, "churn", args)
		return err
	}, pulumi.WithMocks("inferstack", "prod", mocks))
	require.NoError(t, err)
	return mocks, retained
}

// TestModelsAndConfigsAreNeverDeletedByAnUpdate pins issue 9 item 1: a replaced (or destroyed)
// Model or EndpointConfiguration leaves the state without a DeleteModel/DeleteEndpointConfig call,
// so a rollback that left the provider's state naming the new configuration can never lead to
// deleting the one that serves. Everything else is deleted as usual.
func TestModelsAndConfigsAreNeverDeletedByAnUpdate(t *testing.T) {
	for name, args := range map[string]*SageMakerEndpointArgs{"realtime": seRealtime(), "serverless": seServerless()} {
		t.Run(name, func(t *testing.T) {
			_, retained := seRunRetain(t, args)
			for urn, keep := range retained {
				want := strings.HasPrefix(urn, smModelType+"::") || strings.HasPrefix(urn, smConfigType+"::")
				assert.Equal(t, want, keep, urn)
			}
			assert.True(t, retained[smModelType+"::churn-model"])
			assert.True(t, retained[smConfigType+"::churn-endpoint-config"])
			assert.False(t, retained[smEndpointType+"::churn-endpoint"], "the endpoint itself is deleted on destroy")
		})
	}
}

// TestEveryForceNewPropertyChangesTheEndpointName pins issue 9 item 2. The provider marks two
// endpoint properties ForceNew (see endpointName): name and
// deployment_config.auto_rollback_configuration. Pulumi replaces create-before-delete, so each
// change that replaces the endpoint must give a new name, or CreateEndpoint collides with the old
// endpoint. Mocks cannot compute a diff; what is checked is the name the plan would create, the
// alarms that follow it, and that in-place changes keep it.
func TestEveryForceNewPropertyChangesTheEndpointName(t *testing.T) {
	base := func() *SageMakerEndpointArgs {
		a := seRealtime()
		a.Rollback = &RollbackConfig{TrafficRouting: "CANARY", CanaryPercent: 50}
		return a
	}
	nameOf := func(t *testing.T, a *SageMakerEndpointArgs) (string, []any) {
		t.Helper()
		mocks, out := seRun(t, a)
		endpoint := one(t, mocks, smEndpointType)
		name := out["endpointName"].(string)
		require.Equal(t, name, input(t, endpoint, "name"))
		alarms, _ := endpoint.Input("deploymentConfig.autoRollbackConfiguration.alarms")
		list, _ := alarms.([]any)
		return name, list
	}
	original, originalAlarms := nameOf(t, base())
	require.Len(t, originalAlarms, 2)

	tests := []struct {
		name     string
		change   func(a *SageMakerEndpointArgs)
		replaces bool // the provider replaces the endpoint: the name must change
	}{
		// deployment_config.auto_rollback_configuration: ForceNew.
		{"rollback turned off", func(a *SageMakerEndpointArgs) { a.Rollback = nil }, true},
		{"rollback alarms given", func(a *SageMakerEndpointArgs) { a.Rollback.AlarmNames = []string{"team-5xx"} }, true},
		// blue_green_update_policy: not ForceNew, updated in place by UpdateEndpoint.
		{"traffic routing", func(a *SageMakerEndpointArgs) { a.Rollback.TrafficRouting = "LINEAR" }, false},
		{"canary size", func(a *SageMakerEndpointArgs) { a.Rollback.CanaryPercent = 20 }, false},
		{"wait interval", func(a *SageMakerEndpointArgs) { a.Rollback.WaitIntervalSeconds = 600 }, false},
		{"termination wait", func(a *SageMakerEndpointArgs) { a.Rollback.TerminationWaitSeconds = 900 }, false},
		{"own alarm thresholds", func(a *SageMakerEndpointArgs) { a.Rollback.LatencyP99Ms = 250 }, false},
		// endpoint_config_name: updated in place (a new configuration, then UpdateEndpoint).
		{"image", func(a *SageMakerEndpointArgs) { a.ImageURI = pulumi.String(seImageURI + "0") }, false},
		{"initial count", func(a *SageMakerEndpointArgs) { a.InstanceCount = 3 }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := base()
			tc.change(a)
			name, alarms := nameOf(t, a)
			if !tc.replaces {
				assert.Equal(t, original, name)
				return
			}
			assert.NotEqual(t, original, name, "a replacement under the old name collides with the endpoint it replaces")
			for _, al := range alarms {
				n := al.(map[string]any)["alarmName"].(string)
				if a.Rollback != nil && len(a.Rollback.AlarmNames) == 0 {
					assert.True(t, strings.HasPrefix(n, name+"-"), "own rollback alarms follow the new name: %s", n)
				}
			}
		})
	}

	// Turning rollback back on returns to the original name; given alarms are a set.
	t.Run("rollback back on", func(t *testing.T) {
		name, _ := nameOf(t, base())
		assert.Equal(t, original, name)
	})
	t.Run("alarm order", func(t *testing.T) {
		a, b := base(), base()
		a.Rollback.AlarmNames = []string{"x-5xx", "x-p99"}
		b.Rollback.AlarmNames = []string{"x-p99", "x-5xx"}
		na, _ := nameOf(t, a)
		nb, _ := nameOf(t, b)
		assert.Equal(t, na, nb)
		b.Rollback.AlarmNames = []string{"x-p99"}
		nc, _ := nameOf(t, b)
		assert.NotEqual(t, na, nc, "a changed alarm set replaces the endpoint")
	})
	// Monitoring names its alarms from PlannedEndpointName before the endpoint exists.
	t.Run("planned name agrees", func(t *testing.T) {
		for _, a := range []*SageMakerEndpointArgs{base(), seServerless(), func() *SageMakerEndpointArgs {
			a := base()
			a.Rollback.AlarmNames = []string{"b", "a"}
			return a
		}()} {
			var planned string
			mocks := pulumimock.New()
			err := pulumi.RunErr(func(ctx *pulumi.Context) error {
				planned = PlannedEndpointName(ctx, "churn", a)
				_, err := NewSageMakerEndpoint(ctx, "churn", a)
				return err
			}, pulumi.WithMocks("inferstack", "prod", mocks))
			require.NoError(t, err)
			assert.Equal(t, planned, input(t, one(t, mocks, smEndpointType), "name"))
		}
	})
}

// fakeLive serves the live endpoint "churn-prod-…" with a configuration of the given model.
func fakeLive(t *testing.T, endpointName, model string, initial, desired int) *sagemakerfake.Server {
	t.Helper()
	f := sagemakerfake.New(t)
	f.PutConfig(sagemakerfake.Config{Name: "churn-endpoint-config-live", VariantName: DefaultVariantName, ModelName: model,
		InstanceType: "ml.m5.xlarge", InitialCount: initial, VolumeGB: 30, KMSKeyID: seKMSKey,
		Capture: &sagemakerfake.Capture{DestinationS3URI: seCaptureURI, SamplingPercentage: 20, KMSKeyID: seKMSKey}, Created: time.Now()})
	f.PutEndpoint(sagemakerfake.Endpoint{Name: endpointName, ConfigName: "churn-endpoint-config-live", Status: "InService",
		Variants: []sagemakerfake.Variant{{Name: DefaultVariantName, Current: desired, Desired: desired}}})
	return f
}

// TestRolloutKeepsTheCapacityAutoscalingReached pins issue 9 item 3 through the component, with the
// real aws-sdk-go-v2 client against a fake of the SageMaker JSON 1.1 API.
func TestRolloutKeepsTheCapacityAutoscalingReached(t *testing.T) {
	endpointName := endpointName("inferstack", "prod", "churn", *seRealtime())
	// The mock autonames the model "churn-model-<hash>", as Pulumi would.
	_, out := seRun(t, seRealtime())
	currentModel := out["modelName"].(string)

	count := func(t *testing.T, f *sagemakerfake.Server, mutate func(*SageMakerEndpointArgs)) float64 {
		t.Helper()
		a := seRealtime()
		if f != nil {
			a.LiveReader = f.Client()
		}
		if mutate != nil {
			mutate(a)
		}
		mocks, _ := seRun(t, a)
		return input(t, one(t, mocks, smConfigType), "productionVariants.0.initialInstanceCount").(float64)
	}

	t.Run("no endpoint yet: the configured count", func(t *testing.T) {
		f := sagemakerfake.New(t)
		assert.Equal(t, 2.0, count(t, f, nil))
		assert.Equal(t, []string{"DescribeEndpoint"}, f.Calls())
	})
	t.Run("under mocks without a reader: the configured count", func(t *testing.T) {
		assert.Equal(t, 2.0, count(t, nil, nil))
	})
	t.Run("scaled out, nothing else changed: no new configuration", func(t *testing.T) {
		// State holds the live configuration with its initial count 2; the fleet is at 6. Asking for
		// 6 would replace the configuration and roll out for nothing.
		f := fakeLive(t, endpointName, currentModel, 2, 6)
		assert.Equal(t, 2.0, count(t, f, nil))
		assert.Equal(t, []string{"DescribeEndpoint", "DescribeEndpointConfig"}, f.Calls())
	})
	t.Run("new model: the green fleet starts at the live count", func(t *testing.T) {
		f := fakeLive(t, endpointName, "churn-model-old1234", 2, 6)
		assert.Equal(t, 6.0, count(t, f, nil))
	})
	t.Run("new volume size: the live count too", func(t *testing.T) {
		f := fakeLive(t, endpointName, currentModel, 2, 6)
		assert.Equal(t, 6.0, count(t, f, func(a *SageMakerEndpointArgs) { a.VolumeSizeGB = 50 }))
	})
	t.Run("clamped to the new autoscaling range", func(t *testing.T) {
		f := fakeLive(t, endpointName, "churn-model-old1234", 2, 8)
		assert.Equal(t, 5.0, count(t, f, func(a *SageMakerEndpointArgs) { a.Autoscaling.MaxCapacity = 5 }))
		f = fakeLive(t, endpointName, "churn-model-old1234", 2, 1)
		assert.Equal(t, 2.0, count(t, f, nil), "below MinCapacity 2")
	})
	t.Run("a real error fails the run and names the permission", func(t *testing.T) {
		f := sagemakerfake.New(t)
		f.Fail("DescribeEndpoint", "AccessDeniedException", "User is not authorized to perform: sagemaker:DescribeEndpoint")
		a := seRealtime()
		a.LiveReader = f.Client()
		err := pulumi.RunErr(func(ctx *pulumi.Context) error {
			_, err := NewSageMakerEndpoint(ctx, "churn", a)
			return err
		}, pulumi.WithMocks("inferstack", "prod", pulumimock.New()))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "read the live instance count (sagemaker:DescribeEndpoint)")
		assert.Contains(t, err.Error(), "AccessDeniedException")
	})
	t.Run("serverless and fixed-size endpoints never ask", func(t *testing.T) {
		f := sagemakerfake.New(t)
		a := seServerless()
		a.LiveReader = f.Client()
		seRun(t, a)
		b := seRealtime()
		b.Autoscaling = nil
		b.LiveReader = f.Client()
		mocks, _ := seRun(t, b)
		assert.Equal(t, 2.0, input(t, one(t, mocks, smConfigType), "productionVariants.0.initialInstanceCount"))
		assert.Empty(t, f.Calls())
	})
}

// noAWSCredentials empties every source of the SDK's default credential chain.
func noAWSCredentials(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": dir + "/config", "AWS_SHARED_CREDENTIALS_FILE": dir + "/credentials",
		"AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_ROLE_ARN": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "",
	} {
		t.Setenv(k, v)
	}
}

// TestDefaultReaderUsesTheSDKsCredentialChain covers the reader a real run gets when none is
// given: without credentials it warns and the configured count is used; with them it is the SDK
// client, which AWS_ENDPOINT_URL_SAGEMAKER redirects (here, to the fake).
func TestDefaultReaderUsesTheSDKsCredentialChain(t *testing.T) {
	reader := func(t *testing.T) SageMakerReader {
		t.Helper()
		var r SageMakerReader
		err := pulumi.RunErr(func(ctx *pulumi.Context) error {
			r = defaultReader(ctx.Context(), ctx, sagemakerfake.Region)
			return nil
		}, pulumi.WithMocks("inferstack", "prod", pulumimock.New()))
		require.NoError(t, err)
		return r
	}
	t.Run("no credentials", func(t *testing.T) {
		noAWSCredentials(t)
		assert.Nil(t, reader(t))
	})
	t.Run("credentials from the environment", func(t *testing.T) {
		noAWSCredentials(t)
		f := fakeLive(t, "churn-prod-1234567", "churn-model-x", 2, 4)
		t.Setenv("AWS_ACCESS_KEY_ID", "AKIAFAKE")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "fake")
		t.Setenv("AWS_ENDPOINT_URL_SAGEMAKER", f.URL)
		r := reader(t)
		require.NotNil(t, r)
		out, err := r.DescribeEndpoint(context.Background(), &sagemaker.DescribeEndpointInput{EndpointName: aws.String("churn-prod-1234567")})
		require.NoError(t, err)
		assert.Equal(t, "churn-endpoint-config-live", aws.ToString(out.EndpointConfigName))
	})
}

// TestSameConfigComparesEveryFieldTheComponentSets: a difference in any of them means a new
// configuration is created anyway, so the live count must be used; a field the component leaves
// unset is not compared.
func TestSameConfigComparesEveryFieldTheComponentSets(t *testing.T) {
	live := func() *sagemaker.DescribeEndpointConfigOutput {
		return &sagemaker.DescribeEndpointConfigOutput{
			ProductionVariants: []smtypes.ProductionVariant{{VariantName: aws.String("primary"), ModelName: aws.String("m-1"),
				InstanceType: smtypes.ProductionVariantInstanceType("ml.m5.xlarge"), InitialInstanceCount: aws.Int32(2),
				VolumeSizeInGB: aws.Int32(30)}},
			KmsKeyId: aws.String(seKMSKey),
			DataCaptureConfig: &smtypes.DataCaptureConfig{DestinationS3Uri: aws.String(seCaptureURI), InitialSamplingPercentage: aws.Int32(20),
				KmsKeyId: aws.String(seKMSKey)},
		}
	}
	want := liveConfig{VariantName: "primary", ModelName: "m-1", InstanceType: "ml.m5.xlarge", VolumeSizeGB: 30, KMSKeyARN: seKMSKey,
		Capture: &DataCaptureConfig{DestinationS3URI: seCaptureURI, SamplingPercentage: 20}}
	n, same := sameConfig(live(), want)
	require.True(t, same)
	assert.Equal(t, 2, n)

	tests := []struct {
		name string
		w    func(*liveConfig)
		same bool
	}{
		{"model", func(w *liveConfig) { w.ModelName = "m-2" }, false},
		{"variant", func(w *liveConfig) { w.VariantName = "blue" }, false},
		{"instance type", func(w *liveConfig) { w.InstanceType = "ml.m5.2xlarge" }, false},
		{"volume", func(w *liveConfig) { w.VolumeSizeGB = 50 }, false},
		{"kms key", func(w *liveConfig) { w.KMSKeyARN = seKMSKey + "0" }, false},
		{"capture destination", func(w *liveConfig) {
			w.Capture = &DataCaptureConfig{DestinationS3URI: "s3://other", SamplingPercentage: 20}
		}, false},
		{"capture sampling", func(w *liveConfig) {
			w.Capture = &DataCaptureConfig{DestinationS3URI: seCaptureURI, SamplingPercentage: 50}
		}, false},
		{"volume left unset", func(w *liveConfig) { w.VolumeSizeGB = 0 }, true},
		{"capture left unset", func(w *liveConfig) { w.Capture = nil }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := want
			tc.w(&w)
			_, same := sameConfig(live(), w)
			assert.Equal(t, tc.same, same)
		})
	}
	noCapture := live()
	noCapture.DataCaptureConfig = nil
	_, same = sameConfig(noCapture, want)
	assert.False(t, same, "capture turned on")
}
