package invariants

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/components"
	"github.com/inferstack/inferstack/internal/pulumimock"
)

var costTags = []string{"team", "model", "environment", "stack", "managed-by"}

func tagged() map[string]any {
	return map[string]any{"team": "ml", "model": "churn", "environment": "dev", "stack": "dev", "managed-by": "inferstack"}
}

func res(typ, name string, inputs map[string]any) pulumimock.Resource {
	return res2(typ, name, inputs, nil)
}

func res2(typ, name string, inputs, st map[string]any) pulumimock.Resource {
	in := resource.NewPropertyMapFromMap(inputs)
	state := in.Copy()
	for k, v := range resource.NewPropertyMapFromMap(st) {
		state[k] = v
	}
	return pulumimock.Resource{Type: typ, Name: name, Custom: true, Inputs: in, State: state}
}

func policy(t *testing.T, statements ...map[string]any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	require.NoError(t, err)
	return string(b)
}

func allow(actions any, resources any) map[string]any {
	return map[string]any{"Effect": "Allow", "Action": actions, "Resource": resources}
}

func TestCheckFindsEachBrokenInvariant(t *testing.T) {
	endpointArn := "arn:aws:sagemaker:eu-central-1:123456789012:endpoint/churn"
	cases := []struct {
		name string
		rs   func(t *testing.T) []pulumimock.Resource
		want []string // invariants expected, in order
	}{
		{"wildcard action", func(t *testing.T) []pulumimock.Resource {
			return []pulumimock.Resource{res("aws:iam/rolePolicy:RolePolicy", "p", map[string]any{
				"policy": policy(t, allow("sagemaker:*", endpointArn))})}
		}, []string{IAMWildcardAction}},
		{"star action as a plain string", func(t *testing.T) []pulumimock.Resource {
			return []pulumimock.Resource{res("aws:iam/policy:Policy", "p", map[string]any{
				"policy": policy(t, allow("*", endpointArn)), "tags": tagged()})}
		}, []string{IAMWildcardAction}},
		{"unscoped resource", func(t *testing.T) []pulumimock.Resource {
			return []pulumimock.Resource{res("aws:iam/rolePolicy:RolePolicy", "p", map[string]any{
				"policy": policy(t, allow([]string{"sagemaker:InvokeEndpoint", "ecr:GetAuthorizationToken"}, "*"))})}
		}, []string{IAMScopedResource}},
		{"allow-listed star resource passes", func(t *testing.T) []pulumimock.Resource {
			return []pulumimock.Resource{res("aws:iam/rolePolicy:RolePolicy", "p", map[string]any{
				"policy": policy(t, allow([]string{"ecr:GetAuthorizationToken"}, "*"),
					allow([]string{"sagemaker:InvokeEndpoint"}, endpointArn))})}
		}, nil},
		{"PutMetricData on star without a namespace condition", func(t *testing.T) []pulumimock.Resource {
			return []pulumimock.Resource{res("aws:iam/rolePolicy:RolePolicy", "p", map[string]any{
				"policy": policy(t, allow([]string{"cloudwatch:PutMetricData"}, "*"))})}
		}, []string{IAMScopedResource}},
		{"PutMetricData held to a namespace passes", func(t *testing.T) []pulumimock.Resource {
			st := allow([]string{"cloudwatch:PutMetricData"}, "*")
			st["Condition"] = map[string]any{"StringEquals": map[string]any{"cloudwatch:namespace": "/aws/sagemaker/Endpoints"}}
			return []pulumimock.Resource{res("aws:iam/rolePolicy:RolePolicy", "p", map[string]any{"policy": policy(t, st)})}
		}, nil},
		{"a Deny may be broad", func(t *testing.T) []pulumimock.Resource {
			return []pulumimock.Resource{res("aws:iam/rolePolicy:RolePolicy", "p", map[string]any{
				"policy": policy(t, map[string]any{"Effect": "Deny", "Action": "*", "Resource": "*"})})}
		}, nil},
		{"inline role policy and NotAction", func(t *testing.T) []pulumimock.Resource {
			return []pulumimock.Resource{res("aws:iam/role:Role", "r", map[string]any{
				"assumeRolePolicy": policy(t, map[string]any{"Effect": "Allow", "Action": "sts:AssumeRole",
					"Principal": map[string]any{"Service": "lambda.amazonaws.com"}}),
				"inlinePolicies": []any{map[string]any{"name": "x",
					"policy": policy(t, map[string]any{"Effect": "Allow", "NotAction": "iam:*", "Resource": endpointArn})}},
				"tags": tagged()})}
		}, []string{IAMNotAction}},
		{"public resource policy", func(t *testing.T) []pulumimock.Resource {
			return []pulumimock.Resource{res("aws:sns/topicPolicy:TopicPolicy", "tp", map[string]any{
				"policy": policy(t, map[string]any{"Effect": "Allow", "Principal": "*", "Action": "sns:Publish",
					"Resource": "arn:aws:sns:eu-central-1:123456789012:t"})})}
		}, []string{IAMPublic}},
		{"key policy star is the key", func(t *testing.T) []pulumimock.Resource {
			return []pulumimock.Resource{res("aws:kms/key:Key", "k", map[string]any{
				"policy": policy(t, map[string]any{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
					"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"}}), "tags": tagged()})}
		}, nil},
		{"broad managed policy", func(t *testing.T) []pulumimock.Resource {
			return []pulumimock.Resource{
				res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "a", map[string]any{
					"policyArn": "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"}),
				res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "b", map[string]any{
					"policyArn": "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"}),
			}
		}, []string{IAMManagedPolicy}},
		{"unencrypted topic and repository", func(t *testing.T) []pulumimock.Resource {
			return []pulumimock.Resource{
				res("aws:sns/topic:Topic", "t", map[string]any{"kmsMasterKeyId": "alias/aws/sns", "tags": tagged()}),
				res("aws:ecr/repository:Repository", "r", map[string]any{"tags": tagged()}),
			}
		}, []string{EncryptionAtRest, EncryptionAtRest}},
		{"topic keys: AWS-managed by ARN, unknown, and one without CloudWatch and Budgets", func(t *testing.T) []pulumimock.Resource {
			keyArn := "arn:aws:kms:eu-central-1:123456789012:key/k"
			key := res2("aws:kms/key:Key", "k", map[string]any{"policy": policy(t, map[string]any{"Effect": "Allow",
				"Action": []string{"kms:Decrypt", "kms:GenerateDataKey*"}, "Resource": "*",
				"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"}}), "tags": tagged()},
				map[string]any{"arn": keyArn})
			return []pulumimock.Resource{key,
				res("aws:sns/topic:Topic", "managed", map[string]any{"kmsMasterKeyId": "arn:aws:kms:eu-central-1:123456789012:alias/aws/sns", "tags": tagged()}),
				res("aws:sns/topic:Topic", "foreign", map[string]any{"kmsMasterKeyId": "arn:aws:kms:eu-central-1:123456789012:key/other", "tags": tagged()}),
				res("aws:sns/topic:Topic", "no-budgets", map[string]any{"kmsMasterKeyId": keyArn, "tags": tagged()}),
			}
		}, []string{EncryptionAtRest, EncryptionAtRest, EncryptionAtRest}},
		{"topic key that both notifiers may use passes", func(t *testing.T) []pulumimock.Resource {
			keyArn := "arn:aws:kms:eu-central-1:123456789012:key/k"
			key := res2("aws:kms/key:Key", "k", map[string]any{"policy": policy(t, map[string]any{"Effect": "Allow",
				"Action": []string{"kms:Decrypt", "kms:GenerateDataKey*"}, "Resource": "*",
				"Principal": map[string]any{"Service": []string{"cloudwatch.amazonaws.com", "budgets.amazonaws.com"}}}), "tags": tagged()},
				map[string]any{"arn": keyArn})
			return []pulumimock.Resource{key, res("aws:sns/topic:Topic", "t", map[string]any{"kmsMasterKeyId": keyArn, "tags": tagged()})}
		}, nil},
		{"log group key without the logs principal", func(t *testing.T) []pulumimock.Resource {
			key := res2("aws:kms/key:Key", "k", map[string]any{"policy": policy(t, map[string]any{"Effect": "Allow",
				"Action": "kms:Decrypt", "Resource": "*", "Principal": map[string]any{"Service": "sns.amazonaws.com"}}),
				"tags": tagged()}, map[string]any{"arn": "arn:aws:kms:eu-central-1:123456789012:key/k"})
			return []pulumimock.Resource{key, res("aws:cloudwatch/logGroup:LogGroup", "lg", map[string]any{
				"name": "/x", "retentionInDays": 7, "kmsKeyId": "arn:aws:kms:eu-central-1:123456789012:key/k", "tags": tagged()})}
		}, []string{EncryptionAtRest}},
		{"method without authorizer, and a CORS preflight", func(t *testing.T) []pulumimock.Resource {
			return []pulumimock.Resource{
				res("aws:apigateway/method:Method", "post", map[string]any{"restApi": "a", "resourceId": "r", "httpMethod": "POST", "authorization": "NONE"}),
				res("aws:apigateway/method:Method", "options", map[string]any{"restApi": "a", "resourceId": "r", "httpMethod": "OPTIONS", "authorization": "NONE"}),
				res("aws:apigateway/integration:Integration", "options-integration", map[string]any{"restApi": "a", "resourceId": "r", "httpMethod": "OPTIONS", "type": "MOCK"}),
				res("aws:apigateway/method:Method", "get", map[string]any{"restApi": "a", "resourceId": "r", "httpMethod": "GET", "authorization": "COGNITO_USER_POOLS"}),
			}
		}, []string{APIAuthorized, APIAuthorized}},
		{"secrets in environment variables", func(t *testing.T) []pulumimock.Resource {
			fn := res2("aws:lambda/function:Function", "fn", map[string]any{
				"environment": map[string]any{"variables": map[string]any{
					"CLIENT_SECRET": "s3cr3t-value", "TOKEN_TTL_SECONDS": "300", "API_KEY_PARAM": "/inferstack/api-key",
					"ENDPOINT_NAME": "churn", "DEBUG_BLOB": "AKIAABCDEFGHIJKLMNOP"}},
				"tags": tagged()}, map[string]any{"name": "fn-1234567"})
			lg := res("aws:cloudwatch/logGroup:LogGroup", "lg", map[string]any{"name": "/aws/lambda/fn-1234567", "retentionInDays": 7, "tags": tagged()})
			return []pulumimock.Resource{fn, lg}
		}, []string{NoPlaintextSecret, NoPlaintextSecret}},
		{"log groups without retention, missing service log groups", func(t *testing.T) []pulumimock.Resource {
			return []pulumimock.Resource{
				res("aws:cloudwatch/logGroup:LogGroup", "lg", map[string]any{"name": "/aws/lambda/other", "tags": tagged()}),
				res2("aws:lambda/function:Function", "fn", map[string]any{"tags": tagged()}, map[string]any{"name": "fn-1"}),
				res2("aws:sagemaker/endpoint:Endpoint", "ep", map[string]any{"tags": tagged()}, map[string]any{"name": "churn"}),
				res("aws:apigateway/methodSettings:MethodSettings", "ms", map[string]any{"restApi": "abc", "stageName": "v1",
					"settings": map[string]any{"loggingLevel": "INFO"}}),
			}
		}, []string{LogRetention, LogRetention, LogRetention, LogRetention}},
		{"missing cost tags; untaggable types skipped", func(t *testing.T) []pulumimock.Resource {
			return []pulumimock.Resource{
				res("aws:sagemaker/model:Model", "m", map[string]any{"tags": map[string]any{"team": "ml"}}),
				res("aws:apigateway/resource:Resource", "r", map[string]any{}),
			}
		}, []string{CostTags}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Check(tc.rs(t), Options{Region: "eu-central-1", RequiredTags: costTags})
			var names []string
			for _, v := range got {
				names = append(names, v.Invariant)
			}
			assert.Equal(t, tc.want, names, "%v", got)
		})
	}
}

func TestCheckConfiguredKeys(t *testing.T) {
	key := "arn:aws:kms:eu-central-1:123456789012:key/cfg"
	rs := []pulumimock.Resource{
		res("aws:ecr/repository:Repository", "repo", map[string]any{"tags": tagged(),
			"encryptionConfigurations": []any{map[string]any{"encryptionType": "AES256"}}}),
		res("aws:sagemaker/endpointConfiguration:EndpointConfiguration", "cfg", map[string]any{"tags": tagged()}),
	}
	assert.Empty(t, Check(rs, Options{RequiredTags: costTags}), "AES256 is encryption at rest when no key is configured")
	got := Check(rs, Options{RequiredTags: costTags, ImageKMSKeyARN: key, EndpointKMSKeyARN: key})
	require.Len(t, got, 2)
	assert.Contains(t, got[0].Detail+got[1].Detail, "image.kmsKeyArn")
	assert.Contains(t, got[0].Detail+got[1].Detail, "endpoint.kmsKeyArn")
}

// The Monitoring component is held to the same invariants as the whole program.
func TestMonitoringComponentKeepsTheInvariants(t *testing.T) {
	mocks := pulumimock.New()
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := components.NewMonitoring(ctx, "churn-monitoring", &components.MonitoringArgs{
			EndpointName: pulumi.String("churn-dev"), FunctionName: pulumi.String("churn-proxy"),
			APIName: pulumi.String("churn-api"), StageName: pulumi.String("v1"),
			AlarmEmails: []string{"oncall@example.com"}, MonthlyBudgetUSD: 100,
			Tags: components.StandardTags("ml", "churn", "dev", "dev"),
		})
		return err
	}, pulumi.WithMocks("inferstack", "dev", mocks))
	require.NoError(t, err)
	assert.Empty(t, Check(mocks.Resources(), Options{Region: pulumimock.Region, RequiredTags: costTags}))
}

func TestCheckConfigFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "Pulumi.dev.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`config:
  aws:region: eu-central-1
  inferstack:api:
    requireApiKey: true
    clientSecret: hunter2-hunter2
  inferstack:model:
    environment:
      HF_TOKEN: hf_abcdefghijklmnop
      DB_PASSWORD:
        secure: AAABAKc2Zm9v
      LOG_LEVEL: info
  inferstack:team: ml
`), 0o600))
	got, err := CheckConfigFile(path)
	require.NoError(t, err)
	for _, v := range got {
		assert.Equal(t, NoPlaintextSecret, v.Invariant)
	}
	assert.Len(t, got, 2)
	assert.Contains(t, got[0].Detail, "inferstack:api.clientSecret")
	assert.Contains(t, got[1].Detail, "inferstack:model.environment.HF_TOKEN")
}
