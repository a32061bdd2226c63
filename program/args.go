package program

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/inferstack/inferstack/components"
	"github.com/inferstack/inferstack/components/waf"
	"github.com/inferstack/inferstack/stackconfig"
)

// The mapping from stack config to component args: one function per component, so that a
// component joins by adding its function and one line in DeploymentArgs.

// DeploymentArgs maps the whole config to the composite's args.
func DeploymentArgs(c stackconfig.Config) components.ModelDeploymentArgs {
	return components.ModelDeploymentArgs{
		Image:      ImageArgs(c),
		Endpoint:   EndpointArgs(c),
		Proxy:      ProxyArgs(c),
		API:        APIArgs(c),
		Monitoring: MonitoringArgs(c),
		Tags:       Tags(c),
	}
}

// MonitoringArgs maps `monitoring` to the Monitoring args; the endpoint, proxy and API it watches
// are wired inside ModelDeployment.
func MonitoringArgs(c stackconfig.Config) *components.MonitoringSettings {
	m := c.Monitoring
	return &components.MonitoringSettings{
		Thresholds: &components.MonitoringThresholds{
			LatencyP99Ms:             m.LatencyP99Ms,
			ErrorRatePercent:         m.ErrorRatePercent,
			ClientErrorRatePercent:   m.ClientErrorRatePercent,
			CPUUtilizationPercent:    m.CPUUtilizationPercent,
			MemoryUtilizationPercent: m.MemoryUtilizationPercent,
			LambdaDurationP99Ms:      m.LambdaDurationP99Ms,
		},
		AlarmEmails:      m.AlarmEmails,
		MonthlyBudgetUSD: m.MonthlyBudgetUSD,
		BudgetEmails:     m.BudgetEmails,
		Tags:             Tags(c),
	}
}

// Tags are the cost tags of every resource of the stack.
func Tags(c stackconfig.Config) map[string]string {
	return components.StandardTags(c.Team, c.Model.Name, c.Environment, StackTag(c))
}

// StackTag is the value of the stack tag: "<model>/<stack>". Stack names alone ("dev", "prod")
// repeat across deployments in one account, and the cost budget filters on this tag, so it must
// name this deployment only.
func StackTag(c stackconfig.Config) string { return c.Model.Name + "/" + c.Stack }

// ModelDirBuildArg is the docker build argument that names model.dir for the Dockerfile to copy
// into /opt/ml/model.
const ModelDirBuildArg = "MODEL_DIR"

// ImageArgs maps `image` (and model.dir) to the ModelImage args.
func ImageArgs(c stackconfig.Config) components.ModelImageArgs {
	a := components.ModelImageArgs{
		Context:    c.Image.Context,
		Dockerfile: c.Image.Dockerfile,
		Platform:   components.PlatformFor(c.Endpoint.InstanceType, c.Endpoint.IsServerless()),
		KeepImages: c.Image.KeepImages,
		// A prod repository keeps its images even through `pulumi destroy`.
		ForceDelete: !c.IsProd(),
		Tags:        Tags(c),
		Variant:     c.Model.Variant,
	}
	if c.Model.Dir != "" {
		a.BuildArgs = map[string]string{ModelDirBuildArg: c.Model.Dir}
	}
	if c.Image.KMSKeyARN != "" {
		a.KMSKeyARN = pulumi.String(c.Image.KMSKeyARN)
	}
	return a
}

// EndpointArgs maps `endpoint` (and model.dataUrl, model.environment) to the SageMakerEndpoint
// args; ImageURI and RepositoryARN come from the image inside ModelDeployment.
func EndpointArgs(c stackconfig.Config) components.SageMakerEndpointSettings {
	e := c.Endpoint
	a := components.SageMakerEndpointSettings{
		ModelDataURL:     c.Model.DataURL,
		Environment:      pulumi.ToStringMap(c.Model.Environment),
		InstanceType:     e.InstanceType,
		InstanceCount:    e.InstanceCount,
		VolumeSizeGB:     e.VolumeSizeGB,
		KMSKeyARN:        e.KMSKeyARN,
		NetworkIsolation: e.NetworkIsolation,
		LogRetentionDays: e.LogRetentionDays,
		Tags:             Tags(c),
	}
	if s := e.Serverless; s != nil {
		a.Serverless = &components.ServerlessConfig{MemorySizeMB: s.MemorySizeMB, MaxConcurrency: s.MaxConcurrency}
		// The presets' real-time sizing does not apply; a KMS key does not either, and the
		// component says so.
		a.InstanceType, a.InstanceCount, a.VolumeSizeGB = "", 0, 0
	}
	if s := e.Autoscaling; s.Enabled {
		a.Autoscaling = &components.AutoscalingConfig{MinCapacity: s.MinCapacity, MaxCapacity: s.MaxCapacity,
			TargetInvocationsPerInstance: s.TargetInvocationsPerInstance,
			ScaleInCooldownSeconds:       s.ScaleInCooldownSeconds, ScaleOutCooldownSeconds: s.ScaleOutCooldownSeconds}
	}
	if d := e.DataCapture; d.Enabled {
		a.DataCapture = &components.DataCaptureConfig{DestinationS3URI: d.DestinationS3URI, SamplingPercentage: d.SamplingPercentage}
	}
	if e.VPC.IsSet() {
		a.VPC = &components.VPCConfig{SubnetIDs: e.VPC.SubnetIDs, SecurityGroupIDs: e.VPC.SecurityGroupIDs}
	}
	if r := e.Rollback; r.Enabled {
		a.Rollback = &components.RollbackConfig{AlarmNames: r.AlarmNames, TrafficRouting: r.TrafficRouting,
			CanaryPercent: r.CanaryPercent, WaitIntervalSeconds: r.WaitIntervalSeconds,
			TerminationWaitSeconds: r.TerminationWaitSeconds, LatencyP99Ms: c.Monitoring.LatencyP99Ms}
	}
	return a
}

// ProxyArgs maps `proxy` to the LambdaProxy args; the endpoint is wired inside ModelDeployment.
func ProxyArgs(c stackconfig.Config) *components.LambdaProxySettings {
	p := c.Proxy
	return &components.LambdaProxySettings{
		MemoryMB:            p.MemoryMB,
		TimeoutSeconds:      p.TimeoutSeconds,
		ReservedConcurrency: p.ReservedConcurrency,
		LogRetentionDays:    p.LogRetentionDays,
		DisableTracing:      !p.Tracing,
		Cache: &components.ProxyCacheArgs{
			Disabled:   !p.Cache.Enabled,
			TTLSeconds: p.Cache.TTLSeconds,
			MaxEntries: p.Cache.MaxEntries,
			MaxMB:      p.Cache.MaxMB,
		},
		// The API answers preflights; the proxy's answers need the header as well.
		CORSOrigins: c.API.CORSOrigins,
		Tags:        Tags(c),
	}
}

// APIArgs maps `api` to the SecuredAPI args; the proxy is wired inside ModelDeployment. The WAF is
// a component of its own (WebACLArgs).
func APIArgs(c stackconfig.Config) *components.SecuredAPISettings {
	a := c.API
	return &components.SecuredAPISettings{
		StageName:             a.StageName,
		RequireAPIKey:         a.RequireAPIKey,
		AcceptUserTokens:      a.UserTokens,
		MFA:                   a.MFA,
		MachineClient:         a.MachineClient,
		CORSOrigins:           a.CORSOrigins,
		Throttle:              &components.APIThrottle{RateLimit: a.Throttle.RateLimit, BurstLimit: a.Throttle.BurstLimit},
		Quota:                 &components.APIQuota{Limit: a.Quota.Limit, Period: a.Quota.Period},
		CreateAccountLogsRole: a.CreateAccountLogsRole,
		LogRetentionDays:      a.LogRetentionDays,
		LoggingLevel:          a.LoggingLevel,
		CognitoDomainPrefix:   a.CognitoDomainPrefix,
		// A prod user pool holds real users; deleting it must take a deliberate step.
		DeletionProtection: c.IsProd(),
		Tags:               Tags(c),
	}
}

// WebACLArgs maps `api.waf*` to the web ACL args, or nil when WAF is off. The stage is wired in
// deploy, from the API that ModelDeployment created. The WAF lives in package waf, so the wafv2
// SDK is compiled into this program only, not into components.
func WebACLArgs(c stackconfig.Config) *waf.WebACLArgs {
	if !c.API.WAF {
		return nil
	}
	return &waf.WebACLArgs{RateLimit: c.API.WAFRateLimit, Tags: Tags(c)}
}
