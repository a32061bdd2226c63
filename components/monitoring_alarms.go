package components

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/inferstack/inferstack/internal/contract"
)

// CloudWatch namespaces the alarms and the dashboard read.
const (
	namespaceSageMaker         = "AWS/SageMaker"
	namespaceSageMakerInstance = "/aws/sagemaker/Endpoints" // CPU, memory and disk of real-time instances
	namespaceLambda            = "AWS/Lambda"
	namespaceAPIGateway        = "AWS/ApiGateway"
	// NamespaceProxy is the Embedded Metric Format namespace of the proxy's cache metrics.
	NamespaceProxy = contract.ProxyMetricNamespace
)

// microsecondsPerMs converts millisecond thresholds to the unit of SageMaker's ModelLatency and
// OverheadLatency (docs/design.md#latency-metrics-are-in-microseconds: a 500 "ms" threshold on those metrics is 0.5 ms and always fires).
const microsecondsPerMs = 1000

// runbookURL is where an alarm's description sends the person it wakes up.
const runbookURL = "https://github.com/inferstack/inferstack/blob/main/docs/runbook.md"

// Keys of the alarms SageMaker watches during a blue/green update.
const (
	alarmKeyEndpoint5xx  = "endpoint-5xx-rate"
	alarmKeyModelLatency = "model-latency-p99"
)

// maxAlarmNamePrefix leaves room for the longest alarm key within CloudWatch's 255 characters.
const maxAlarmNamePrefix = 255 - len("-memory-utilization")

// MonitoringRollbackAlarmNames returns the names of Monitoring's rollback-grade alarms (endpoint
// 5XX rate and p99 model latency) when MonitoringArgs.AlarmNamePrefix is prefix. A program that
// creates Monitoring before its endpoint may pass them as RollbackConfig.AlarmNames, with the
// endpoint depending on the Monitoring resource: SageMaker reads the alarms of a deployment config,
// so they must exist first. ModelDeployment cannot (its Monitoring also watches the proxy and API,
// which come after the endpoint), so there the endpoint creates its own.
func MonitoringRollbackAlarmNames(prefix string) []string {
	return []string{prefix + "-" + alarmKeyEndpoint5xx, prefix + "-" + alarmKeyModelLatency}
}

// alarmSpec is one alarm as plain Go values: either one metric and statistic, or a metric math
// expression over queries.
type alarmSpec struct {
	key         string // child name suffix, e.g. "model-latency-p99"
	description string
	namespace   string
	metric      string
	dims        pulumi.StringMap
	stat        string // Sum, Average, ... (exclusive with extended)
	extended    string // p99
	expression  string // metric math; when set, queries replace namespace/metric/stat
	queries     []metricQuery
	threshold   float64
	// rollback marks the alarms SageMaker watches to roll back a blue/green update.
	rollback bool
}

// metricQuery is one metric feeding a metric math expression.
type metricQuery struct {
	id, namespace, metric, stat string
	dims                        pulumi.StringMap
}

// Alarm evaluation: a 1-minute period, alarm when 3 of the last 5 minutes breach, so that one
// slow minute does not page anybody but a real regression does within 5 minutes.
const (
	alarmPeriodSeconds = 60
	alarmEvaluations   = 5
	alarmDatapoints    = 3
)

// rateExpression is a percentage of errors over requests that is 0, not missing, without traffic.
func rateExpression(errID, totalID string) string {
	return "IF(" + totalID + " > 0, 100 * " + errID + " / " + totalID + ", 0)"
}

// alarmSpecs lists the alarms for the parts of the deployment that exist.
func alarmSpecs(a *MonitoringArgs) []alarmSpec {
	t := a.thresholds()
	variant := pulumi.StringMap{"EndpointName": a.EndpointName, "VariantName": a.VariantName}
	invocationRate := func(errMetric string) []metricQuery {
		return []metricQuery{
			{id: "errors", namespace: namespaceSageMaker, metric: errMetric, stat: "Sum", dims: variant},
			{id: "invocations", namespace: namespaceSageMaker, metric: "Invocations", stat: "Sum", dims: variant},
		}
	}
	specs := []alarmSpec{
		{
			key: alarmKeyEndpoint5xx, rollback: true,
			description: "SageMaker endpoint 5XX error rate (%) above threshold: the model container fails requests.",
			expression:  rateExpression("errors", "invocations"), queries: invocationRate("Invocation5XXErrors"),
			threshold: t.ErrorRatePercent,
		},
		{
			key:         "endpoint-4xx-rate",
			description: "SageMaker endpoint 4XX error rate (%) above threshold: clients send requests the model rejects.",
			expression:  rateExpression("errors", "invocations"), queries: invocationRate("Invocation4XXErrors"),
			threshold: t.ClientErrorRatePercent,
		},
		{
			key: alarmKeyModelLatency, rollback: true,
			description: "SageMaker ModelLatency p99 above threshold (microseconds).",
			namespace:   namespaceSageMaker, metric: "ModelLatency", dims: variant, extended: "p99",
			threshold: t.LatencyP99Ms * microsecondsPerMs,
		},
	}
	if !a.Serverless {
		specs = append(specs,
			cpuAlarm(variant, a.InstanceType, t.CPUUtilizationPercent),
			alarmSpec{
				key:         "memory-utilization",
				description: "Endpoint instance MemoryUtilization (%) above threshold: the model may be OOM-killed.",
				namespace:   namespaceSageMakerInstance, metric: "MemoryUtilization", dims: variant, stat: "Average",
				threshold: t.MemoryUtilizationPercent,
			})
	}
	if a.FunctionName != nil {
		fn := pulumi.StringMap{"FunctionName": a.FunctionName}
		specs = append(specs,
			alarmSpec{
				key:         "lambda-error-rate",
				description: "Proxy Lambda error rate (%) above threshold.",
				expression:  rateExpression("errors", "invocations"),
				queries: []metricQuery{
					{id: "errors", namespace: namespaceLambda, metric: "Errors", stat: "Sum", dims: fn},
					{id: "invocations", namespace: namespaceLambda, metric: "Invocations", stat: "Sum", dims: fn},
				},
				threshold: t.ErrorRatePercent,
			},
			alarmSpec{
				key:         "lambda-throttles",
				description: "Proxy Lambda throttled: raise its reserved concurrency or the account's concurrency quota.",
				namespace:   namespaceLambda, metric: "Throttles", dims: fn, stat: "Sum", threshold: 0,
			},
			alarmSpec{
				key:         "lambda-duration-p99",
				description: "Proxy Lambda Duration p99 (ms) above threshold: requests approach the proxy timeout.",
				namespace:   namespaceLambda, metric: "Duration", dims: fn, extended: "p99",
				threshold: t.LambdaDurationP99Ms,
			})
	}
	if a.APIName != nil {
		stage := pulumi.StringMap{"ApiName": a.APIName, "Stage": a.StageName}
		// API Gateway's 5XXError and 4XXError are 0 or 1 per request: their Average is the error
		// rate as a fraction, so the percentage thresholds are divided by 100.
		specs = append(specs,
			alarmSpec{
				key:         "api-5xx-rate",
				description: "API Gateway 5XXError rate above threshold (fraction of requests).",
				namespace:   namespaceAPIGateway, metric: "5XXError", dims: stage, stat: "Average",
				threshold: t.ErrorRatePercent / 100,
			},
			alarmSpec{
				key:         "api-4xx-rate",
				description: "API Gateway 4XXError rate above threshold (fraction of requests): auth, quota or bad requests.",
				namespace:   namespaceAPIGateway, metric: "4XXError", dims: stage, stat: "Average",
				threshold: t.ClientErrorRatePercent / 100,
			},
			alarmSpec{
				key:         "api-latency-p99",
				description: "API Gateway Latency p99 (ms) above threshold: end-to-end latency seen by clients.",
				namespace:   namespaceAPIGateway, metric: "Latency", dims: stage, extended: "p99",
				threshold: t.LatencyP99Ms,
			})
	}
	return specs
}

// cpuAlarm alarms on CPU as a percentage of the instance when its vCPU count is known, because
// SageMaker sums CPUUtilization over cores: 80 on a 4-vCPU instance would be 20% per core.
func cpuAlarm(variant pulumi.StringMap, instanceType string, threshold float64) alarmSpec {
	s := alarmSpec{
		key:         "cpu-utilization",
		description: "Endpoint instance CPUUtilization above threshold: scale out or up.",
		namespace:   namespaceSageMakerInstance, metric: "CPUUtilization", dims: variant, stat: "Average",
		threshold: threshold,
	}
	n := InstanceVCPUs(instanceType)
	if n <= 1 {
		s.description = "Endpoint instance CPUUtilization (summed over cores) above threshold: scale out or up."
		return s
	}
	s.description = fmt.Sprintf("Endpoint instance CPU (%% of all %d vCPUs) above threshold: scale out or up.", n)
	s.expression = fmt.Sprintf("cpu / %d", n)
	s.queries = []metricQuery{{id: "cpu", namespace: namespaceSageMakerInstance, metric: "CPUUtilization", stat: "Average", dims: variant}}
	return s
}

// InstanceVCPUs returns the vCPU count of an ml.* instance type from its size, or 0 when the size
// does not say (metal, unknown): medium and large have 2, xlarge 4, and Nxlarge 4×N, which holds
// for the SageMaker families (t, m, c, r, g, p, inf, trn).
func InstanceVCPUs(instanceType string) int {
	parts := strings.Split(instanceType, ".")
	if len(parts) != 3 || parts[0] != "ml" {
		return 0
	}
	size := parts[2]
	switch size {
	case "medium", "large":
		return 2
	case "xlarge":
		return 4
	}
	if n, ok := strings.CutSuffix(size, "xlarge"); ok {
		if k, err := strconv.Atoi(n); err == nil && k > 0 {
			return 4 * k
		}
	}
	return 0
}

// newAlarm creates one alarm that notifies the topic on ALARM and on OK.
func newAlarm(ctx *pulumi.Context, name, prefix string, s alarmSpec, topicArn pulumi.StringOutput,
	tags map[string]string, opts ...pulumi.ResourceOption) (*cloudwatch.MetricAlarm, error) {
	child := name + "-" + s.key
	args := &cloudwatch.MetricAlarmArgs{
		AlarmDescription:   pulumi.String(s.description + " Runbook: " + runbookURL),
		ComparisonOperator: pulumi.String("GreaterThanThreshold"),
		EvaluationPeriods:  pulumi.Int(alarmEvaluations),
		DatapointsToAlarm:  pulumi.Int(alarmDatapoints),
		Threshold:          pulumi.Float64(s.threshold),
		// No traffic is not an outage: without this a quiet dev endpoint would sit in ALARM.
		TreatMissingData: pulumi.String("notBreaching"),
		AlarmActions:     pulumi.Array{topicArn},
		OkActions:        pulumi.Array{topicArn},
		Tags:             tagsFor(tags, child),
	}
	if prefix != "" {
		args.Name = pulumi.String(prefix + "-" + s.key)
	}
	if s.expression != "" {
		queries := cloudwatch.MetricAlarmMetricQueryArray{cloudwatch.MetricAlarmMetricQueryArgs{
			Id: pulumi.String("rate"), Expression: pulumi.String(s.expression),
			Label: pulumi.String(s.key), ReturnData: pulumi.Bool(true),
		}}
		for _, q := range s.queries {
			queries = append(queries, cloudwatch.MetricAlarmMetricQueryArgs{
				Id:         pulumi.String(q.id),
				ReturnData: pulumi.Bool(false),
				Metric: cloudwatch.MetricAlarmMetricQueryMetricArgs{
					Namespace: pulumi.String(q.namespace), MetricName: pulumi.String(q.metric),
					Stat: pulumi.String(q.stat), Period: pulumi.Int(alarmPeriodSeconds), Dimensions: q.dims,
				},
			})
		}
		args.MetricQueries = queries
	} else {
		args.Namespace = pulumi.String(s.namespace)
		args.MetricName = pulumi.String(s.metric)
		args.Dimensions = s.dims
		args.Period = pulumi.Int(alarmPeriodSeconds)
		if s.extended != "" {
			args.ExtendedStatistic = pulumi.String(s.extended)
			// A quiet minute has too few samples for a meaningful p99: ignore it.
			args.EvaluateLowSampleCountPercentiles = pulumi.String("ignore")
		} else {
			args.Statistic = pulumi.String(s.stat)
		}
	}
	return cloudwatch.NewMetricAlarm(ctx, child, args, opts...)
}
