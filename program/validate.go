package program

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/inferstack/inferstack/components"
	"github.com/inferstack/inferstack/stackconfig"
)

// The components own every rule about what a value may be (their Args' Validate); stackconfig
// owns what is about stacks (presets, prod rules, unknown keys, placeholders). This file joins
// the two: it maps the config to every Args, validates them, and names each problem by the stack
// key the field comes from, so that a preview reports every problem once, by key, before any
// resource is registered.

// wafField is the prefix of the web ACL's fields in the problems Validate maps: the web ACL is a
// component of its own (package waf), created next to ModelDeployment.
const wafField = "WAF"

// FieldKeys maps the field path of every ModelDeploymentArgs (and WAF) field that DeploymentArgs
// and WebACLArgs fill from the stack config to the stack key it comes from. A field that several
// keys decide names the one a user changes to fix it. TestEveryArgsFieldFromConfigNamesItsKey
// fails for a field that is filled from config but missing here.
var FieldKeys = map[string]string{
	"Image.Context":     stackconfig.KeyImage + ".context",
	"Image.Dockerfile":  stackconfig.KeyImage + ".dockerfile",
	"Image.KeepImages":  stackconfig.KeyImage + ".keepImages",
	"Image.KMSKeyARN":   stackconfig.KeyImage + ".kmsKeyArn",
	"Image.BuildArgs":   stackconfig.KeyModel + ".dir",
	"Image.Platform":    stackconfig.KeyEndpoint + ".instanceType",
	"Image.ForceDelete": stackconfig.KeyEnvironment,
	"Image.Tags":        stackconfig.KeyTeam,
	"Image.Variant":     stackconfig.KeyModel + ".variant",

	"Endpoint.ModelDataURL":                             stackconfig.KeyModel + ".dataUrl",
	"Endpoint.Environment":                              stackconfig.KeyModel + ".environment",
	"Endpoint.InstanceType":                             stackconfig.KeyEndpoint + ".instanceType",
	"Endpoint.InstanceCount":                            stackconfig.KeyEndpoint + ".instanceCount",
	"Endpoint.VolumeSizeGB":                             stackconfig.KeyEndpoint + ".volumeSizeGb",
	"Endpoint.Serverless.MemorySizeMB":                  stackconfig.KeyEndpoint + ".serverless.memorySizeMb",
	"Endpoint.Serverless.MaxConcurrency":                stackconfig.KeyEndpoint + ".serverless.maxConcurrency",
	"Endpoint.Autoscaling":                              stackconfig.KeyEndpoint + ".autoscaling.enabled",
	"Endpoint.Autoscaling.MinCapacity":                  stackconfig.KeyEndpoint + ".autoscaling.minCapacity",
	"Endpoint.Autoscaling.MaxCapacity":                  stackconfig.KeyEndpoint + ".autoscaling.maxCapacity",
	"Endpoint.Autoscaling.TargetInvocationsPerInstance": stackconfig.KeyEndpoint + ".autoscaling.targetInvocationsPerInstance",
	"Endpoint.Autoscaling.ScaleInCooldownSeconds":       stackconfig.KeyEndpoint + ".autoscaling.scaleInCooldownSeconds",
	"Endpoint.Autoscaling.ScaleOutCooldownSeconds":      stackconfig.KeyEndpoint + ".autoscaling.scaleOutCooldownSeconds",
	"Endpoint.DataCapture":                              stackconfig.KeyEndpoint + ".dataCapture.enabled",
	"Endpoint.DataCapture.DestinationS3URI":             stackconfig.KeyEndpoint + ".dataCapture.destinationS3Uri",
	"Endpoint.DataCapture.SamplingPercentage":           stackconfig.KeyEndpoint + ".dataCapture.samplingPercentage",
	"Endpoint.KMSKeyARN":                                stackconfig.KeyEndpoint + ".kmsKeyArn",
	"Endpoint.VPC":                                      stackconfig.KeyEndpoint + ".vpc",
	"Endpoint.VPC.SubnetIDs":                            stackconfig.KeyEndpoint + ".vpc.subnetIds",
	"Endpoint.VPC.SecurityGroupIDs":                     stackconfig.KeyEndpoint + ".vpc.securityGroupIds",
	"Endpoint.NetworkIsolation":                         stackconfig.KeyEndpoint + ".networkIsolation",
	"Endpoint.Rollback.AlarmNames":                      stackconfig.KeyEndpoint + ".rollback.alarmNames",
	"Endpoint.Rollback.TrafficRouting":                  stackconfig.KeyEndpoint + ".rollback.trafficRouting",
	"Endpoint.Rollback.CanaryPercent":                   stackconfig.KeyEndpoint + ".rollback.canaryPercent",
	"Endpoint.Rollback.WaitIntervalSeconds":             stackconfig.KeyEndpoint + ".rollback.waitIntervalSeconds",
	"Endpoint.Rollback.TerminationWaitSeconds":          stackconfig.KeyEndpoint + ".rollback.terminationWaitSeconds",
	"Endpoint.Rollback.LatencyP99Ms":                    stackconfig.KeyMonitoring + ".latencyP99Ms",
	"Endpoint.LogRetentionDays":                         stackconfig.KeyEndpoint + ".logRetentionDays",
	"Endpoint.Tags":                                     stackconfig.KeyTeam,

	"Proxy.MemoryMB":            stackconfig.KeyProxy + ".memoryMb",
	"Proxy.TimeoutSeconds":      stackconfig.KeyProxy + ".timeoutSeconds",
	"Proxy.ReservedConcurrency": stackconfig.KeyProxy + ".reservedConcurrency",
	"Proxy.LogRetentionDays":    stackconfig.KeyProxy + ".logRetentionDays",
	"Proxy.DisableTracing":      stackconfig.KeyProxy + ".tracing",
	"Proxy.Cache.Disabled":      stackconfig.KeyProxy + ".cache.enabled",
	"Proxy.Cache.TTLSeconds":    stackconfig.KeyProxy + ".cache.ttlSeconds",
	"Proxy.Cache.MaxEntries":    stackconfig.KeyProxy + ".cache.maxEntries",
	"Proxy.Cache.MaxMB":         stackconfig.KeyProxy + ".cache.maxMb",
	"Proxy.CORSOrigins":         stackconfig.KeyAPI + ".corsOrigins",
	// The invoke timeout follows the function timeout (below the API's integration timeout).
	"Proxy.InvokeTimeoutSeconds": stackconfig.KeyProxy + ".timeoutSeconds",
	"Proxy.Tags":                 stackconfig.KeyTeam,

	"API.StageName":             stackconfig.KeyAPI + ".stageName",
	"API.RequireAPIKey":         stackconfig.KeyAPI + ".requireApiKey",
	"API.AcceptUserTokens":      stackconfig.KeyAPI + ".userTokens",
	"API.MFA":                   stackconfig.KeyAPI + ".mfa",
	"API.MachineClient":         stackconfig.KeyAPI + ".machineClient",
	"API.CORSOrigins":           stackconfig.KeyAPI + ".corsOrigins",
	"API.Throttle.RateLimit":    stackconfig.KeyAPI + ".throttle.rateLimit",
	"API.Throttle.BurstLimit":   stackconfig.KeyAPI + ".throttle.burstLimit",
	"API.Quota.Limit":           stackconfig.KeyAPI + ".quota.limit",
	"API.Quota.Period":          stackconfig.KeyAPI + ".quota.period",
	"API.CreateAccountLogsRole": stackconfig.KeyAPI + ".createAccountLogsRole",
	"API.LogRetentionDays":      stackconfig.KeyAPI + ".logRetentionDays",
	"API.LoggingLevel":          stackconfig.KeyAPI + ".loggingLevel",
	"API.CognitoDomainPrefix":   stackconfig.KeyAPI + ".cognitoDomainPrefix",
	"API.DeletionProtection":    stackconfig.KeyEnvironment,
	"API.Tags":                  stackconfig.KeyTeam,

	"Monitoring.Thresholds.LatencyP99Ms":             stackconfig.KeyMonitoring + ".latencyP99Ms",
	"Monitoring.Thresholds.ErrorRatePercent":         stackconfig.KeyMonitoring + ".errorRatePercent",
	"Monitoring.Thresholds.ClientErrorRatePercent":   stackconfig.KeyMonitoring + ".clientErrorRatePercent",
	"Monitoring.Thresholds.CPUUtilizationPercent":    stackconfig.KeyMonitoring + ".cpuUtilizationPercent",
	"Monitoring.Thresholds.MemoryUtilizationPercent": stackconfig.KeyMonitoring + ".memoryUtilizationPercent",
	"Monitoring.Thresholds.LambdaDurationP99Ms":      stackconfig.KeyMonitoring + ".lambdaDurationP99Ms",
	"Monitoring.AlarmEmails":                         stackconfig.KeyMonitoring + ".alarmEmails",
	"Monitoring.MonthlyBudgetUSD":                    stackconfig.KeyMonitoring + ".monthlyBudgetUsd",
	"Monitoring.BudgetEmails":                        stackconfig.KeyMonitoring + ".budgetEmails",
	"Monitoring.Tags":                                stackconfig.KeyTeam,

	wafField + ".RateLimit": stackconfig.KeyAPI + ".wafRateLimit",
	wafField + ".Tags":      stackconfig.KeyTeam,
}

// KeyOf returns the stack key of an Args field path, or "" when no key fills it.
func KeyOf(field string) string { return FieldKeys[field] }

// Validate maps the config to every component's Args and returns their problems by stack key, in
// the components' order; nil when all are valid.
func Validate(c stackconfig.Config) stackconfig.Problems {
	var all components.FieldErrors
	collect := func(prefix string, err error) {
		if err == nil {
			return
		}
		var fe components.FieldErrors
		if !errors.As(err, &fe) {
			all = append(all, components.FieldError{Field: prefix, Allowed: err.Error()})
			return
		}
		for _, e := range fe {
			if prefix != "" {
				e.Field = prefix + "." + e.Field
				e.Allowed = strings.ReplaceAll(e.Allowed, "{", "{"+prefix+".")
			}
			all = append(all, e)
		}
	}
	args := DeploymentArgs(c)
	collect("", args.WithDefaults().Validate())
	if w := WebACLArgs(c); w != nil {
		a := w.WithDefaults()
		a.StageARN = pulumi.String("wired") // from the API, once it exists
		collect(wafField, a.Validate())
	}
	var ps stackconfig.Problems
	for _, e := range all {
		ps = append(ps, Problem(e))
	}
	return ps
}

// Problem names a field error by stack keys: its own field's and every field it refers to.
func Problem(e components.FieldError) stackconfig.Problem {
	name := func(field string) string {
		if k := KeyOf(field); k != "" {
			return k
		}
		return field
	}
	return stackconfig.Problem{Key: name(e.Field), Value: components.ShowValue(e.Value), Allowed: e.AllowedWith(name)}
}

// CheckConfig is what a preview reports before it registers anything: the stack problems
// stackconfig found (err, from Load or Parse) and the components' problems of the config, each
// once, by key. It returns nil when there are none, and err itself when err is not a Problems.
func CheckConfig(c stackconfig.Config, err error) error {
	var ps stackconfig.Problems
	if err != nil && !errors.As(err, &ps) {
		return err
	}
	seen := map[string]bool{}
	var out stackconfig.Problems
	for _, p := range append(ps, Validate(c)...) {
		// Two layers may refuse one value (a prod rule and an AWS limit on instanceCount): say
		// it once, the first reason given.
		id := p.Key + "\x00" + p.Value
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// describe is the error text of the problems of one stack file.
func describe(stack string, err error) error { return fmt.Errorf("Pulumi.%s.yaml: %w", stack, err) }
