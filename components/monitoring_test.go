package components

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/internal/pulumimock"
)

const (
	monTypeAlarm        = "aws:cloudwatch/metricAlarm:MetricAlarm"
	monTypeKey          = "aws:kms/key:Key"
	monTypeTopic        = "aws:sns/topic:Topic"
	monTypeTopicPolicy  = "aws:sns/topicPolicy:TopicPolicy"
	monTypeSubscription = "aws:sns/topicSubscription:TopicSubscription"
	monTypeDashboard    = "aws:cloudwatch/dashboard:Dashboard"
	monTypeBudget       = "aws:budgets/budget:Budget"
)

// monResult is what a test needs from one mocked run.
type monResult struct {
	mocks               *pulumimock.Mocks
	rollback, alarms    []string
	topicArn, dashboard string
	budgetName, keyArn  string
}

// monFullArgs is a real-time deployment with a proxy and an API, as ModelDeployment wires it.
func monFullArgs() *MonitoringArgs {
	return &MonitoringArgs{EndpointName: pulumi.String("churn-dev"), FunctionName: pulumi.String("churn-proxy-1a2b3c4"), APIName: pulumi.String("churn-api"), StageName: pulumi.String("v1"), MonitoringSettings: MonitoringSettings{AlarmEmails: []string{"oncall@example.com", "ml@example.com"}, MonthlyBudgetUSD: 100, BudgetEmails: []string{"finance@example.com"}, Tags: StandardTags("ml", "churn", "dev", "dev")}}
}

func monRun(t *testing.T, args *MonitoringArgs) monResult {
	t.Helper()
	res := monResult{mocks: pulumimock.New()}
	// Applies run on goroutines of their own, and RunErr does not wait for one on an output that
	// no resource backs (BudgetName without a budget): wait for each one, under a lock.
	var mu sync.Mutex
	var wg sync.WaitGroup
	record := func(set func()) { mu.Lock(); set(); mu.Unlock(); wg.Done() }
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		m, err := NewMonitoring(ctx, "churn-monitoring", args)
		if err != nil {
			return err
		}
		wg.Add(6)
		m.RollbackAlarmNames.ApplyT(func(v []string) []string { record(func() { res.rollback = v }); return v })
		m.AlarmNames.ApplyT(func(v []string) []string { record(func() { res.alarms = v }); return v })
		m.TopicARN.ApplyT(func(v string) string { record(func() { res.topicArn = v }); return v })
		m.KeyARN.ApplyT(func(v string) string { record(func() { res.keyArn = v }); return v })
		m.DashboardName.ApplyT(func(v string) string { record(func() { res.dashboard = v }); return v })
		m.BudgetName.ApplyT(func(v string) string { record(func() { res.budgetName = v }); return v })
		return nil
	}, pulumi.WithMocks("inferstack", "dev", res.mocks))
	require.NoError(t, err)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	return res
}

// monAlarmsByKey indexes the alarms by the suffix after the component name.
func monAlarmsByKey(t *testing.T, m *pulumimock.Mocks) map[string]pulumimock.Resource {
	t.Helper()
	out := map[string]pulumimock.Resource{}
	for _, r := range m.OfType(monTypeAlarm) {
		out[strings.TrimPrefix(r.Name, "churn-monitoring-")] = r
	}
	return out
}

func TestMonitoringCreatesAlarmsForEachPartThatExists(t *testing.T) {
	cases := []struct {
		name string
		args func() *MonitoringArgs
		want []string
	}{
		{
			name: "real-time endpoint with proxy and API",
			args: monFullArgs,
			want: []string{"endpoint-5xx-rate", "endpoint-4xx-rate", "model-latency-p99", "cpu-utilization",
				"memory-utilization", "lambda-error-rate", "lambda-throttles", "lambda-duration-p99",
				"api-5xx-rate", "api-4xx-rate", "api-latency-p99"},
		},
		{
			name: "serverless endpoint alone has no instance metrics",
			args: func() *MonitoringArgs {
				a := monFullArgs()
				a.Serverless, a.FunctionName, a.APIName, a.StageName = true, nil, nil, nil
				return a
			},
			want: []string{"endpoint-5xx-rate", "endpoint-4xx-rate", "model-latency-p99"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := monRun(t, tc.args())
			got := monAlarmsByKey(t, res.mocks)
			assert.ElementsMatch(t, tc.want, monKeys(got))
			assert.Len(t, res.alarms, len(tc.want))
			for key, alarm := range got {
				assert.Equal(t, []any{res.topicArn}, input(t, alarm, "alarmActions"), key)
				assert.Equal(t, []any{res.topicArn}, input(t, alarm, "okActions"), key)
				assert.Equal(t, "notBreaching", input(t, alarm, "treatMissingData"), key)
				assert.Contains(t, input(t, alarm, "alarmDescription"), "runbook.md", key)
			}
		})
	}
}

func monKeys(m map[string]pulumimock.Resource) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestMonitoringAlarmThresholdsAndUnits(t *testing.T) {
	cases := []struct {
		name       string
		thresholds MonitoringThresholds
		want       map[string]float64
	}{
		{
			name: "defaults: p99 500 ms, errors 1%",
			want: map[string]float64{
				"model-latency-p99": 500000, // microseconds (docs/design.md#latency-metrics-are-in-microseconds)
				"endpoint-5xx-rate": 1, "endpoint-4xx-rate": 5,
				"cpu-utilization": 80, "memory-utilization": 80,
				"lambda-error-rate": 1, "lambda-throttles": 0, "lambda-duration-p99": 24000,
				"api-5xx-rate": 0.01, "api-4xx-rate": 0.05, "api-latency-p99": 500,
			},
		},
		{
			name: "from config",
			thresholds: MonitoringThresholds{LatencyP99Ms: 250, ErrorRatePercent: 2, CPUUtilizationPercent: 320,
				MemoryUtilizationPercent: 90, LambdaDurationP99Ms: 8000},
			want: map[string]float64{
				"model-latency-p99": 250000, "endpoint-5xx-rate": 2, "cpu-utilization": 320,
				"memory-utilization": 90, "lambda-duration-p99": 8000, "api-5xx-rate": 0.02, "api-latency-p99": 250,
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := monFullArgs()
			args.Thresholds = &tc.thresholds
			alarms := monAlarmsByKey(t, monRun(t, args).mocks)
			for key, want := range tc.want {
				require.Contains(t, alarms, key)
				assert.InDelta(t, want, input(t, alarms[key], "threshold"), 1e-9, key)
			}
		})
	}
}

func TestMonitoringAlarmMetrics(t *testing.T) {
	alarms := monAlarmsByKey(t, monRun(t, monFullArgs()).mocks)

	latency := alarms["model-latency-p99"]
	assert.Equal(t, "AWS/SageMaker", input(t, latency, "namespace"))
	assert.Equal(t, "ModelLatency", input(t, latency, "metricName"))
	assert.Equal(t, "p99", input(t, latency, "extendedStatistic"))
	assert.Equal(t, map[string]any{"EndpointName": "churn-dev", "VariantName": "primary"}, input(t, latency, "dimensions"))

	for _, key := range []string{"cpu-utilization", "memory-utilization"} {
		assert.Equal(t, "/aws/sagemaker/Endpoints", input(t, alarms[key], "namespace"), key)
	}

	// The 5XX rate is metric math over the two SageMaker counters, safe without traffic.
	rate := alarms["endpoint-5xx-rate"]
	_, hasMetric := rate.Input("metricName")
	assert.False(t, hasMetric, "a metric math alarm must not also name a metric")
	queries := input(t, rate, "metricQueries").([]any)
	require.Len(t, queries, 3)
	byID := map[string]map[string]any{}
	for _, q := range queries {
		byID[q.(map[string]any)["id"].(string)] = q.(map[string]any)
	}
	assert.Equal(t, "IF(invocations > 0, 100 * errors / invocations, 0)", byID["rate"]["expression"])
	assert.Equal(t, true, byID["rate"]["returnData"])
	assert.Equal(t, "Invocation5XXErrors", byID["errors"]["metric"].(map[string]any)["metricName"])
	assert.Equal(t, "Invocations", byID["invocations"]["metric"].(map[string]any)["metricName"])
	assert.Equal(t, "churn-dev", byID["errors"]["metric"].(map[string]any)["dimensions"].(map[string]any)["EndpointName"])

	assert.Equal(t, "Invocation4XXErrors",
		monQuery(t, alarms["endpoint-4xx-rate"], "errors")["metric"].(map[string]any)["metricName"])
	assert.Equal(t, "Errors",
		monQuery(t, alarms["lambda-error-rate"], "errors")["metric"].(map[string]any)["metricName"])

	api := alarms["api-latency-p99"]
	assert.Equal(t, "AWS/ApiGateway", input(t, api, "namespace"))
	assert.Equal(t, map[string]any{"ApiName": "churn-api", "Stage": "v1"}, input(t, api, "dimensions"))
	assert.Equal(t, "5XXError", input(t, alarms["api-5xx-rate"], "metricName"))
	assert.Equal(t, "Average", input(t, alarms["api-5xx-rate"], "statistic"))
	assert.Equal(t, map[string]any{"FunctionName": "churn-proxy-1a2b3c4"}, input(t, alarms["lambda-throttles"], "dimensions"))
}

func monQuery(t *testing.T, alarm pulumimock.Resource, id string) map[string]any {
	t.Helper()
	for _, q := range input(t, alarm, "metricQueries").([]any) {
		if q.(map[string]any)["id"] == id {
			return q.(map[string]any)
		}
	}
	require.Failf(t, "no query", "%s has no metric query %q", alarm, id)
	return nil
}

func TestMonitoringRollbackAlarmsAreTheEndpointErrorAndLatencyAlarms(t *testing.T) {
	res := monRun(t, monFullArgs())
	alarms := monAlarmsByKey(t, res.mocks)
	var want []string
	for _, key := range []string{"endpoint-5xx-rate", "model-latency-p99"} {
		want = append(want, alarms[key].State["name"].StringValue())
	}
	assert.Equal(t, want, res.rollback)
}

func TestMonitoringTopicUsesACustomerManagedKeyThatAlarmsAndBudgetsCanUse(t *testing.T) {
	res := monRun(t, monFullArgs())
	key, err := res.mocks.One(monTypeKey)
	require.NoError(t, err)
	topic, err := res.mocks.One(monTypeTopic)
	require.NoError(t, err)

	assert.Equal(t, res.keyArn, input(t, topic, "kmsMasterKeyId"), "alias/aws/sns drops alarm notifications (docs/design.md#notification-topics-need-their-own-key)")
	assert.Equal(t, true, input(t, key, "enableKeyRotation"))

	var policy PolicyDocument
	require.NoError(t, json.Unmarshal([]byte(input(t, key, "policy").(string)), &policy))
	granted := map[string][]string{} // principal -> actions
	for _, st := range policy.Statement {
		require.Equal(t, "Allow", st.Effect)
		for _, a := range st.Action {
			assert.NotEqual(t, "kms:*", a, "no service-wide wildcard in the key policy")
		}
		switch p := st.Principal["Service"].(type) {
		case []any:
			for _, s := range p {
				granted[s.(string)] = append(granted[s.(string)], st.Action...)
			}
		case nil:
			assert.Equal(t, "arn:aws:iam::"+pulumimock.AccountID+":root", st.Principal["AWS"])
			if st.Sid == "AccountPublishThroughSNS" {
				// The account's principals use the key through SNS only, not directly.
				assert.Equal(t, "sns."+pulumimock.Region+".amazonaws.com", st.Condition["StringEquals"].(map[string]any)["kms:ViaService"])
			}
		}
	}
	for _, service := range []string{"cloudwatch.amazonaws.com", "budgets.amazonaws.com"} {
		assert.ElementsMatch(t, []string{"kms:Decrypt", "kms:GenerateDataKey*"}, granted[service], service)
	}

	tp, err := res.mocks.One(monTypeTopicPolicy)
	require.NoError(t, err)
	assert.Equal(t, res.topicArn, input(t, tp, "arn"))
	var topicPolicy PolicyDocument
	require.NoError(t, json.Unmarshal([]byte(input(t, tp, "policy").(string)), &topicPolicy))
	sources := map[string]any{}
	for _, st := range topicPolicy.Statement {
		assert.Equal(t, []string{"sns:Publish"}, st.Action)
		assert.Equal(t, []string{res.topicArn}, st.Resource)
		sources[st.Principal["Service"].(string)] = st.Condition["ArnLike"].(map[string]any)["aws:SourceArn"]
	}
	assert.Equal(t, map[string]any{
		"cloudwatch.amazonaws.com": "arn:aws:cloudwatch:" + pulumimock.Region + ":" + pulumimock.AccountID + ":alarm:*",
		"budgets.amazonaws.com":    "arn:aws:budgets::" + pulumimock.AccountID + ":*",
	}, sources)

	subs := res.mocks.OfType(monTypeSubscription)
	require.Len(t, subs, 2)
	var emails []any
	for _, s := range subs {
		assert.Equal(t, "email", input(t, s, "protocol"))
		assert.Equal(t, res.topicArn, input(t, s, "topic"))
		emails = append(emails, input(t, s, "endpoint"))
	}
	assert.ElementsMatch(t, []any{"oncall@example.com", "ml@example.com"}, emails)
}

func TestMonitoringBudgetFiltersByTheStackCostTag(t *testing.T) {
	res := monRun(t, monFullArgs())
	budget, err := res.mocks.One(monTypeBudget)
	require.NoError(t, err)
	assert.Equal(t, "COST", input(t, budget, "budgetType"))
	assert.Equal(t, "MONTHLY", input(t, budget, "timeUnit"))
	assert.Equal(t, "100.00", input(t, budget, "limitAmount"))
	assert.Equal(t, "USD", input(t, budget, "limitUnit"))
	assert.Equal(t, []any{map[string]any{"name": "TagKeyValue", "values": []any{"user:stack$dev"}}},
		input(t, budget, "costFilters"))
	assert.Equal(t, budget.State["name"].StringValue(), res.budgetName)

	type notification struct {
		kind      string
		threshold float64
	}
	var got []notification
	for _, n := range input(t, budget, "notifications").([]any) {
		n := n.(map[string]any)
		assert.Equal(t, "GREATER_THAN", n["comparisonOperator"])
		assert.Equal(t, "PERCENTAGE", n["thresholdType"])
		assert.Equal(t, []any{res.topicArn}, n["subscriberSnsTopicArns"])
		assert.Equal(t, []any{"finance@example.com"}, n["subscriberEmailAddresses"])
		got = append(got, notification{n["notificationType"].(string), n["threshold"].(float64)})
	}
	assert.Equal(t, []notification{{"ACTUAL", 80}, {"ACTUAL", 100}, {"FORECASTED", 100}}, got)
}

func TestMonitoringWithoutBudgetCreatesNone(t *testing.T) {
	args := monFullArgs()
	args.MonthlyBudgetUSD = 0
	res := monRun(t, args)
	assert.Empty(t, res.mocks.OfType(monTypeBudget))
	assert.Empty(t, res.budgetName)
}

// monDashboardMetrics flattens the dashboard's metric rows to "namespace/metric" and expressions.
func monDashboardMetrics(t *testing.T, body string) (metrics map[string][]any, expressions []string, regions []string) {
	t.Helper()
	var doc struct {
		Widgets []struct {
			Type       string `json:"type"`
			Properties struct {
				Region  string  `json:"region"`
				Metrics [][]any `json:"metrics"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &doc), "dashboard body must be valid JSON")
	metrics = map[string][]any{}
	for _, w := range doc.Widgets {
		assert.Equal(t, "metric", w.Type)
		regions = append(regions, w.Properties.Region)
		for _, row := range w.Properties.Metrics {
			if len(row) == 1 {
				expressions = append(expressions, row[0].(map[string]any)["expression"].(string))
				continue
			}
			metrics[row[0].(string)+"/"+row[1].(string)] = row
		}
	}
	return metrics, expressions, regions
}

func TestMonitoringDashboard(t *testing.T) {
	cases := []struct {
		name        string
		args        func() *MonitoringArgs
		present     []string
		absent      []string
		expressions []string
	}{
		{
			name: "everything",
			args: monFullArgs,
			present: []string{"AWS/SageMaker/Invocation5XXErrors", "AWS/SageMaker/ModelLatency",
				"/aws/sagemaker/Endpoints/CPUUtilization", "AWS/Lambda/Throttles", "AWS/ApiGateway/Latency",
				"Inferstack/Proxy/CacheHits", "Inferstack/Proxy/CacheMisses", "Inferstack/Proxy/EndpointLatency"},
			expressions: []string{"100*h/(h+m)", "model99 / 1000"},
		},
		{
			name: "serverless endpoint alone",
			args: func() *MonitoringArgs {
				a := monFullArgs()
				a.Serverless, a.FunctionName, a.APIName, a.StageName = true, nil, nil, nil
				return a
			},
			present:     []string{"AWS/SageMaker/Invocations", "AWS/SageMaker/ModelLatency"},
			absent:      []string{"/aws/sagemaker/Endpoints/CPUUtilization", "AWS/Lambda/Errors", "AWS/ApiGateway/Count", "Inferstack/Proxy/CacheHits"},
			expressions: []string{"model99 / 1000"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := monRun(t, tc.args())
			d, err := res.mocks.One(monTypeDashboard)
			require.NoError(t, err)
			assert.Equal(t, "churn-monitoring-dev", input(t, d, "dashboardName"))
			assert.Equal(t, "churn-monitoring-dev", res.dashboard)
			metrics, expressions, regions := monDashboardMetrics(t, input(t, d, "dashboardBody").(string))
			for _, m := range tc.present {
				assert.Contains(t, metrics, m)
			}
			for _, m := range tc.absent {
				assert.NotContains(t, metrics, m)
			}
			for _, e := range tc.expressions {
				assert.Contains(t, expressions, e)
			}
			for _, r := range regions {
				assert.Equal(t, pulumimock.Region, r)
			}
			assert.Equal(t, []any{"AWS/SageMaker", "ModelLatency", "EndpointName", "churn-dev", "VariantName", "primary",
				map[string]any{"stat": "p99", "id": "model99", "visible": false}}, monMetricsRow(t, input(t, d, "dashboardBody").(string), "model99"))
		})
	}
}

// monMetricsRow finds the metric row whose options carry this id.
func monMetricsRow(t *testing.T, body, id string) []any {
	t.Helper()
	var doc struct {
		Widgets []struct {
			Properties struct {
				Metrics [][]any `json:"metrics"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &doc))
	for _, w := range doc.Widgets {
		for _, row := range w.Properties.Metrics {
			if opts, ok := row[len(row)-1].(map[string]any); ok && opts["id"] == id && len(row) > 1 {
				return row
			}
		}
	}
	return nil
}

func TestMonitoringCacheHitRateUsesTheProxyMetricsContract(t *testing.T) {
	res := monRun(t, monFullArgs())
	d, err := res.mocks.One(monTypeDashboard)
	require.NoError(t, err)
	body := input(t, d, "dashboardBody").(string)
	assert.Equal(t, []any{"Inferstack/Proxy", "CacheHits", "EndpointName", "churn-dev",
		map[string]any{"stat": "Sum", "id": "h", "visible": false}}, monMetricsRow(t, body, "h"))
	assert.Equal(t, []any{"Inferstack/Proxy", "CacheMisses", "EndpointName", "churn-dev",
		map[string]any{"stat": "Sum", "id": "m", "visible": false}}, monMetricsRow(t, body, "m"))
}

func TestMonitoringTagsEveryTaggableChild(t *testing.T) {
	res := monRun(t, monFullArgs())
	for _, r := range res.mocks.Resources() {
		if !r.Custom || r.Type == monTypeTopicPolicy || r.Type == monTypeSubscription || r.Type == monTypeDashboard {
			continue // these AWS resources take no tags
		}
		for k, want := range StandardTags("ml", "churn", "dev", "dev") {
			got, ok := r.Input("tags." + k)
			assert.True(t, ok, "%s lacks tag %s", r, k)
			assert.Equal(t, want, got, "%s tag %s", r, k)
		}
		assert.Equal(t, r.Name, input(t, r, "tags.Name"))
		assert.Contains(t, r.Parent, monitoringType, "%s must be parented to the component", r)
	}
}

func TestMonitoringValidation(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(a *MonitoringArgs)
		want   []string
	}{
		{"endpoint required", func(a *MonitoringArgs) { a.EndpointName = nil }, []string{"EndpointName unset: want the SageMaker endpoint's name (required)"}},
		{"api without stage", func(a *MonitoringArgs) { a.StageName = nil }, []string{"StageName unset: want set together with APIName"}},
		{"negative threshold", func(a *MonitoringArgs) { a.Thresholds = &MonitoringThresholds{LatencyP99Ms: -1} }, []string{"Thresholds.LatencyP99Ms -1: want a positive"}},
		{"error rate over 100", func(a *MonitoringArgs) { a.Thresholds = &MonitoringThresholds{ErrorRatePercent: 150} }, []string{"Thresholds.ErrorRatePercent 150: want a percentage"}},
		{"bad email", func(a *MonitoringArgs) { a.AlarmEmails = []string{"Ops <ops@example.com>"} }, []string{`AlarmEmails "Ops <ops@example.com>": want bare email`}},
		{"too many budget emails", func(a *MonitoringArgs) {
			a.BudgetEmails = strings.Split("a@x.io b@x.io c@x.io d@x.io e@x.io f@x.io g@x.io h@x.io i@x.io j@x.io k@x.io", " ")
		}, []string{"want at most 10 addresses"}},
		{"budget needs the stack tag", func(a *MonitoringArgs) { delete(a.Tags, TagStack) }, []string{`want a "stack" tag with MonthlyBudgetUSD`}},
		{"all errors at once", func(a *MonitoringArgs) { a.EndpointName = nil; a.MonthlyBudgetUSD = -5 },
			[]string{"EndpointName unset: want the SageMaker endpoint's name (required)", "MonthlyBudgetUSD -5: want a positive amount"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := monFullArgs()
			tc.mutate(args)
			err := pulumi.RunErr(func(ctx *pulumi.Context) error {
				_, err := NewMonitoring(ctx, "churn-monitoring", args)
				return err
			}, pulumi.WithMocks("inferstack", "dev", pulumimock.New()))
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := NewMonitoring(ctx, "m", nil)
		return err
	}, pulumi.WithMocks("inferstack", "dev", pulumimock.New()))
	assert.ErrorContains(t, err, "args are required")
}

func TestMonitoringDashboardNameIsSafeAndStackScoped(t *testing.T) {
	assert.Equal(t, "churn-monitoring-prod", dashboardNameFor("churn-monitoring", "prod"))
	assert.Equal(t, "org-churn-dev", dashboardNameFor("org/churn", "dev."))
	assert.Len(t, dashboardNameFor(strings.Repeat("a", 300), "dev"), 255)
}

func TestMonitoringAlarmNamePrefixGivesRollbackNamesBeforeTheEndpointExists(t *testing.T) {
	args := monFullArgs()
	args.AlarmNamePrefix = "churn-dev"
	res := monRun(t, args)
	want := MonitoringRollbackAlarmNames("churn-dev")
	assert.Equal(t, []string{"churn-dev-endpoint-5xx-rate", "churn-dev-model-latency-p99"}, want)
	assert.Equal(t, want, res.rollback)
	alarms := monAlarmsByKey(t, res.mocks)
	assert.Equal(t, "churn-dev-model-latency-p99", input(t, alarms["model-latency-p99"], "name"))
	assert.Equal(t, "churn-dev-lambda-throttles", input(t, alarms["lambda-throttles"], "name"))
	assert.Contains(t, res.alarms, "churn-dev-api-latency-p99")

	args.AlarmNamePrefix = strings.Repeat("x", 240)
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := NewMonitoring(ctx, "churn-monitoring", args)
		return err
	}, pulumi.WithMocks("inferstack", "dev", pulumimock.New()))
	assert.ErrorContains(t, err, "AlarmNamePrefix \"")
}

func TestMonitoringCPUAlarmIsAPercentageOfTheInstance(t *testing.T) {
	cases := []struct {
		instanceType string
		expression   string // "" for the raw per-core sum
	}{
		{"ml.m5.xlarge", "cpu / 4"},
		{"ml.c6g.large", "cpu / 2"},
		{"ml.g5.12xlarge", "cpu / 48"},
		{"", ""},
		{"ml.m5.metal", ""},
	}
	for _, tc := range cases {
		t.Run(tc.instanceType, func(t *testing.T) {
			args := monFullArgs()
			args.InstanceType = tc.instanceType
			cpu := monAlarmsByKey(t, monRun(t, args).mocks)["cpu-utilization"]
			assert.InDelta(t, 80, input(t, cpu, "threshold"), 1e-9)
			if tc.expression == "" {
				assert.Equal(t, "CPUUtilization", input(t, cpu, "metricName"))
				return
			}
			assert.Equal(t, tc.expression, monQuery(t, cpu, "rate")["expression"])
			metric := monQuery(t, cpu, "cpu")["metric"].(map[string]any)
			assert.Equal(t, "/aws/sagemaker/Endpoints", metric["namespace"])
			assert.Equal(t, "CPUUtilization", metric["metricName"])
		})
	}
}

func TestInstanceVCPUs(t *testing.T) {
	for in, want := range map[string]int{"ml.t2.medium": 2, "ml.m5.large": 2, "ml.m5.xlarge": 4, "ml.c5.9xlarge": 36,
		"ml.p4d.24xlarge": 96, "ml.m5.metal": 0, "m5.xlarge": 0, "": 0, "ml.m5.0xlarge": 0} {
		assert.Equal(t, want, InstanceVCPUs(in), in)
	}
}
