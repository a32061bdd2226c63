package stackconfig

import "github.com/inferstack/inferstack/internal/contract"

// Defaults shared by every environment: the values a stack gets when neither its preset nor its
// file says otherwise. Those the components default as well are internal/contract's.
const (
	DefaultDockerfile                              = "inference/Dockerfile"
	DefaultServerlessMemoryMB                      = 2048
	DefaultServerlessConcurrency                   = 5
	DefaultInvocationsPerInstance                  = 100
	DefaultRollbackWaitSeconds                     = 300
	DefaultSamplingPercentage                      = 100
	lambdaDurationShareOfTimeout                   = 0.8
	defaultRealtimeInstanceType                    = "ml.m5.large"
	defaultProdInstanceType                        = "ml.m5.xlarge"
	trafficAllAtOnce, trafficCanary, trafficLinear = "ALL_AT_ONCE", "CANARY", "LINEAR"
)

// Preset returns the configuration an environment starts from; the stack file overrides it field
// by field. The second result is false for an unknown environment, in which case the dev preset
// is returned so that validation can still check everything else.
func Preset(environment string) (Config, bool) {
	c := base()
	switch environment {
	case EnvDev:
		// Cheapest: serverless bills per request and scales to zero.
		c.Endpoint.Serverless = &Serverless{MemorySizeMB: DefaultServerlessMemoryMB, MaxConcurrency: DefaultServerlessConcurrency}
		c.Proxy.LogRetentionDays = 7
		c.Endpoint.LogRetentionDays = 7
		c.API.LogRetentionDays = 7
		c.API.RequireAPIKey = true
		c.API.UserTokens = true
		c.API.Throttle = Throttle{RateLimit: 10, BurstLimit: 20}
		c.API.Quota = Quota{Limit: 10000, Period: "DAY"}
		c.Monitoring.MonthlyBudgetUSD = 100
	case EnvQA:
		// One real instance, so that qa exercises the real-time path prod uses.
		c.Proxy.LogRetentionDays = 14
		c.Endpoint.LogRetentionDays = 14
		c.API.LogRetentionDays = 14
		c.API.RequireAPIKey = true
		c.API.UserTokens = true
		c.API.Throttle = Throttle{RateLimit: 50, BurstLimit: 100}
		c.API.Quota = Quota{Limit: 50000, Period: "DAY"}
		c.Monitoring.MonthlyBudgetUSD = 300
	case EnvStaging:
		// A rehearsal of prod: same shape (2 instances, autoscaling, rollback), smaller bounds.
		c.Endpoint.InstanceType = defaultProdInstanceType
		c.Endpoint.InstanceCount = 2
		c.Endpoint.Autoscaling = Autoscaling{Enabled: true, MinCapacity: 2, MaxCapacity: 4,
			TargetInvocationsPerInstance: DefaultInvocationsPerInstance, ScaleInCooldownSeconds: 300, ScaleOutCooldownSeconds: 60}
		c.Endpoint.Rollback = Rollback{Enabled: true, TrafficRouting: trafficCanary, CanaryPercent: 50,
			WaitIntervalSeconds: DefaultRollbackWaitSeconds, TerminationWaitSeconds: DefaultRollbackWaitSeconds}
		c.Proxy.LogRetentionDays = 30
		c.Endpoint.LogRetentionDays = 30
		c.API.LogRetentionDays = 30
		c.API.MFA = "optional"
		c.API.WAF = true
		c.API.Throttle = Throttle{RateLimit: 200, BurstLimit: 400}
		c.Monitoring.MonthlyBudgetUSD = 1000
	case EnvProd:
		c.Endpoint.InstanceType = defaultProdInstanceType
		c.Endpoint.InstanceCount = 2
		c.Endpoint.Autoscaling = Autoscaling{Enabled: true, MinCapacity: 2, MaxCapacity: 8,
			TargetInvocationsPerInstance: DefaultInvocationsPerInstance, ScaleInCooldownSeconds: 300, ScaleOutCooldownSeconds: 60}
		c.Endpoint.Rollback = Rollback{Enabled: true, TrafficRouting: trafficCanary, CanaryPercent: 50,
			WaitIntervalSeconds: DefaultRollbackWaitSeconds, TerminationWaitSeconds: 600}
		c.Proxy.LogRetentionDays = 90
		c.Endpoint.LogRetentionDays = 90
		c.API.LogRetentionDays = 90
		// Users sign in through Cognito; API keys are for metering dev clients only.
		c.API.RequireAPIKey = false
		c.API.MFA = "optional"
		c.API.WAF = true
		c.API.Throttle = Throttle{RateLimit: 1000, BurstLimit: 2000}
		// Execution logs at INFO cost per request; errors are what prod needs.
		c.API.LoggingLevel = "ERROR"
		c.Monitoring.MonthlyBudgetUSD = 2000
	default:
		c, _ = Preset(EnvDev)
		c.Environment = environment
		return c, false
	}
	c.Environment = environment
	return c, true
}

// base holds the values common to all environments.
func base() Config {
	return Config{
		Image: Image{Context: ".", Dockerfile: DefaultDockerfile, KeepImages: contract.DefaultKeepImages},
		Endpoint: Endpoint{
			InstanceType:  defaultRealtimeInstanceType,
			InstanceCount: 1,
			Autoscaling: Autoscaling{MinCapacity: 1, MaxCapacity: 2,
				TargetInvocationsPerInstance: DefaultInvocationsPerInstance, ScaleInCooldownSeconds: 300, ScaleOutCooldownSeconds: 60},
			DataCapture: DataCapture{SamplingPercentage: DefaultSamplingPercentage},
			Rollback: Rollback{TrafficRouting: trafficAllAtOnce, CanaryPercent: 10,
				WaitIntervalSeconds: DefaultRollbackWaitSeconds, TerminationWaitSeconds: DefaultRollbackWaitSeconds},
		},
		Proxy: Proxy{
			MemoryMB: contract.DefaultProxyMemoryMB, TimeoutSeconds: contract.DefaultProxyTimeoutSeconds, ReservedConcurrency: -1,
			Tracing: true,
			Cache:   Cache{Enabled: true, TTLSeconds: contract.DefaultCacheTTLSeconds, MaxEntries: contract.DefaultCacheMaxEntries, MaxMB: contract.DefaultCacheMaxMB},
		},
		API: API{
			StageName: contract.DefaultStageName, MFA: "off", MachineClient: true,
			Quota: Quota{Period: "MONTH"}, WAFRateLimit: contract.DefaultWAFRateLimit, LoggingLevel: "INFO",
		},
		Monitoring: Monitoring{
			LatencyP99Ms: contract.DefaultLatencyP99Ms, ErrorRatePercent: contract.DefaultErrorRatePercent,
			ClientErrorRatePercent: contract.DefaultClientErrorRatePercent,
			CPUUtilizationPercent:  contract.DefaultUtilizationPercent, MemoryUtilizationPercent: contract.DefaultUtilizationPercent,
		},
	}
}
