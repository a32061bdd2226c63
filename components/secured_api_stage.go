package components

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// apiStage is what the component exports from the stage and usage plan.
type apiStage struct {
	name, arn, invokeURL  pulumi.StringOutput
	usagePlanID, apiKeyID pulumi.StringOutput
	apiKeyValue           pulumi.StringOutput
}

// accessLogFormat is one JSON object per request; the keys are stable snake_case like our slog
// logs, so one CloudWatch Logs Insights query reads both.
var accessLogFormat = func() string {
	fields := map[string]string{
		"request_id":             "$context.requestId",
		"extended_request_id":    "$context.extendedRequestId",
		"ip":                     "$context.identity.sourceIp",
		"user_agent":             "$context.identity.userAgent",
		"request_time":           "$context.requestTime",
		"http_method":            "$context.httpMethod",
		"resource_path":          "$context.resourcePath",
		"status":                 "$context.status",
		"protocol":               "$context.protocol",
		"response_length":        "$context.responseLength",
		"latency_ms":             "$context.responseLatency",
		"integration_latency_ms": "$context.integration.latency",
		"integration_status":     "$context.integration.status",
		"error":                  "$context.error.message",
		"authorizer_error":       "$context.authorizer.error",
		"client_id":              "$context.authorizer.claims.client_id",
		"subject":                "$context.authorizer.claims.sub",
		"api_key_id":             "$context.identity.apiKeyId",
		"waf_status":             "$context.waf.status",
		"xray_trace_id":          "$context.xrayTraceId",
	}
	b, err := json.Marshal(fields)
	if err != nil {
		panic(err) // a map of strings always marshals
	}
	return string(b)
}()

// apiGatewayLogsPolicy is AWS's managed policy for the account-level API Gateway logs role.
const apiGatewayLogsPolicy = "policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"

// newAPIStage creates the logs, the stage, its method settings, the usage plan and the API key.
func newAPIStage(ctx *pulumi.Context, name string, a *SecuredAPIArgs, rest *apiRest,
	parent pulumi.Resource) (*apiStage, error) {
	opt := pulumi.Parent(parent)
	logging := a.LoggingLevel != "OFF"
	// Stage and method settings with logging fail until the account has a logs role; when this
	// stack creates it, they must wait for it.
	var needsRole []pulumi.Resource
	if a.CreateAccountLogsRole {
		account, err := newAccountLogsRole(ctx, name, a, opt)
		if err != nil {
			return nil, err
		}
		needsRole = append(needsRole, account)
	}

	stageArgs := &apigateway.StageArgs{
		RestApi:            rest.api.ID(),
		Deployment:         rest.deployment.ID(),
		StageName:          pulumi.String(a.StageName),
		XrayTracingEnabled: pulumi.Bool(true),
		Tags:               tagsFor(a.Tags, name+"-stage"),
	}
	var executionLogs []pulumi.Resource
	if logging {
		access, err := cloudwatch.NewLogGroup(ctx, name+"-access-logs", &cloudwatch.LogGroupArgs{
			RetentionInDays: pulumi.Int(a.LogRetentionDays),
			Tags:            tagsFor(a.Tags, name+"-access-logs"),
		}, opt)
		if err != nil {
			return nil, err
		}
		stageArgs.AccessLogSettings = &apigateway.StageAccessLogSettingsArgs{
			DestinationArn: access.Arn, Format: pulumi.String(accessLogFormat),
		}
		// API Gateway creates its execution log group on first use with no retention; owning
		// it first keeps the retention and deletes it with the stack.
		exec, err := cloudwatch.NewLogGroup(ctx, name+"-execution-logs", &cloudwatch.LogGroupArgs{
			Name:            pulumi.Sprintf("API-Gateway-Execution-Logs_%s/%s", rest.api.ID(), a.StageName),
			RetentionInDays: pulumi.Int(a.LogRetentionDays),
			Tags:            tagsFor(a.Tags, name+"-execution-logs"),
		}, opt)
		if err != nil {
			return nil, err
		}
		executionLogs = append(executionLogs, exec)
	}
	stage, err := apigateway.NewStage(ctx, name+"-stage", stageArgs, opt, pulumi.DependsOn(needsRole))
	if err != nil {
		return nil, err
	}

	settings := &apigateway.MethodSettingsSettingsArgs{
		MetricsEnabled:   pulumi.Bool(true),
		LoggingLevel:     pulumi.String(a.LoggingLevel),
		DataTraceEnabled: pulumi.Bool(false), // full request logging would write tokens and payloads to logs
	}
	if a.throttle().RateLimit > 0 {
		settings.ThrottlingRateLimit = pulumi.Float64(a.throttle().RateLimit)
	}
	if a.throttle().BurstLimit > 0 {
		settings.ThrottlingBurstLimit = pulumi.Int(a.throttle().BurstLimit)
	}
	if _, err := apigateway.NewMethodSettings(ctx, name+"-method-settings", &apigateway.MethodSettingsArgs{
		RestApi:    rest.api.ID(),
		StageName:  stage.StageName,
		MethodPath: pulumi.String("*/*"),
		Settings:   settings,
	}, opt, pulumi.DependsOn(append(needsRole, executionLogs...))); err != nil {
		return nil, err
	}

	planArgs := &apigateway.UsagePlanArgs{
		Description: pulumi.String("inferstack " + name),
		// From the Stage's outputs, not the plain name: the plan is created after the stage
		// exists ("Invalid API Stage" otherwise).
		ApiStages: apigateway.UsagePlanApiStageArray{&apigateway.UsagePlanApiStageArgs{
			ApiId: stage.RestApi, Stage: stage.StageName,
		}},
		Tags: tagsFor(a.Tags, name+"-usage-plan"),
	}
	if a.throttle().RateLimit > 0 || a.throttle().BurstLimit > 0 {
		t := &apigateway.UsagePlanThrottleSettingsArgs{}
		if a.throttle().RateLimit > 0 {
			t.RateLimit = pulumi.Float64(a.throttle().RateLimit)
		}
		if a.throttle().BurstLimit > 0 {
			t.BurstLimit = pulumi.Int(a.throttle().BurstLimit)
		}
		planArgs.ThrottleSettings = t
	}
	if a.quota().Limit > 0 {
		planArgs.QuotaSettings = &apigateway.UsagePlanQuotaSettingsArgs{
			Limit: pulumi.Int(a.quota().Limit), Period: pulumi.String(a.quota().Period),
		}
	}
	plan, err := apigateway.NewUsagePlan(ctx, name+"-usage-plan", planArgs, opt)
	if err != nil {
		return nil, err
	}

	out := &apiStage{
		name: stage.StageName, arn: stage.Arn, invokeURL: stage.InvokeUrl,
		usagePlanID: plan.ID().ToStringOutput(),
		apiKeyID:    pulumi.String("").ToStringOutput(),
		apiKeyValue: pulumi.ToSecret(pulumi.String("")).(pulumi.StringOutput),
	}
	if a.RequireAPIKey {
		key, err := apigateway.NewApiKey(ctx, name+"-api-key", &apigateway.ApiKeyArgs{
			Description: pulumi.String("inferstack " + name + " client key"),
			Enabled:     pulumi.Bool(true),
			Tags:        tagsFor(a.Tags, name+"-api-key"),
		}, opt)
		if err != nil {
			return nil, err
		}
		if _, err := apigateway.NewUsagePlanKey(ctx, name+"-usage-plan-key", &apigateway.UsagePlanKeyArgs{
			KeyId: key.ID(), KeyType: pulumi.String("API_KEY"), UsagePlanId: plan.ID(),
		}, opt); err != nil {
			return nil, err
		}
		out.apiKeyID = key.ID().ToStringOutput()
		out.apiKeyValue = pulumi.ToSecret(key.Value).(pulumi.StringOutput)
	}
	return out, nil
}

// newAccountLogsRole sets the region's account-level API Gateway CloudWatch Logs role. Destroying
// the stack resets the setting instead of leaving it pointing at a deleted role.
func newAccountLogsRole(ctx *pulumi.Context, name string, a *SecuredAPIArgs,
	opt pulumi.ResourceOrInvokeOption) (*apigateway.Account, error) {
	partition, err := aws.GetPartition(ctx, nil, opt)
	if err != nil {
		return nil, fmt.Errorf("look up partition: %w", err)
	}
	trust, err := AssumeRolePolicy("apigateway.amazonaws.com", "").JSON()
	if err != nil {
		return nil, err
	}
	role, err := iam.NewRole(ctx, name+"-account-logs-role", &iam.RoleArgs{
		Description:      pulumi.String("API Gateway account-level CloudWatch Logs role (one per account and region)"),
		AssumeRolePolicy: pulumi.String(trust),
		Tags:             tagsFor(a.Tags, name+"-account-logs-role"),
	}, opt)
	if err != nil {
		return nil, err
	}
	attach, err := iam.NewRolePolicyAttachment(ctx, name+"-account-logs-policy", &iam.RolePolicyAttachmentArgs{
		Role:      role.Name,
		PolicyArn: pulumi.String(fmt.Sprintf("arn:%s:iam::aws:%s", partition.Partition, apiGatewayLogsPolicy)),
	}, opt)
	if err != nil {
		return nil, err
	}
	// AWS checks the role's permissions when the setting is made, so wait for the attachment.
	return apigateway.NewAccount(ctx, name+"-account", &apigateway.AccountArgs{
		CloudwatchRoleArn: role.Arn,
		ResetOnDelete:     pulumi.Bool(true),
	}, opt, pulumi.DependsOn([]pulumi.Resource{attach}))
}
