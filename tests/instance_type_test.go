package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/program"
)

// TestAutoscaledInstanceTypeChangeMovesEverythingToANewEndpoint is docs/design.md#instance-type-changes-of-autoscaled-endpoints end to end:
// SageMaker refuses to change the instance type of a variant registered for autoscaling, so in
// prod a new instance type means a new endpoint (created before the old one goes), and every part
// that names the endpoint (scaling target, proxy, alarms, logs) follows it in the same update.
func TestAutoscaledInstanceTypeChangeMovesEverythingToANewEndpoint(t *testing.T) {
	values := readStackConfig(t, stackFiles(t)["prod"])
	names := map[string]string{}
	for _, instanceType := range []string{"ml.c6g.xlarge", "ml.c6g.2xlarge"} {
		t.Run(instanceType, func(t *testing.T) {
			values["inferstack:endpoint.instanceType"] = instanceType
			run, err := runProgram(t, "prod", values)
			require.NoError(t, err)
			m := run.mocks
			name := run.outputs[program.OutEndpointName].(string)
			names[instanceType] = name
			assert.Equal(t, name, input(t, one(t, m, "aws:sagemaker/endpoint:Endpoint"), "name"))
			assert.Equal(t, "endpoint/"+name+"/variant/primary",
				input(t, one(t, m, "aws:appautoscaling/target:Target"), "resourceId"))
			assert.Equal(t, name, input(t, one(t, m, "aws:lambda/function:Function"), "environment.variables.ENDPOINT_NAME"))
			logs, ok := m.Named("aws:cloudwatch/logGroup:LogGroup", "churn-endpoint-logs")
			require.True(t, ok)
			assert.Equal(t, "/aws/sagemaker/Endpoints/"+name, input(t, logs, "name"))
			for _, a := range m.OfType("aws:cloudwatch/metricAlarm:MetricAlarm") {
				for _, e := range alarmEndpoints(a) {
					assert.Equal(t, name, e, "alarm %s watches another endpoint", a.Name)
				}
			}
		})
	}
	require.Len(t, names, 2)
	assert.NotEqual(t, names["ml.c6g.xlarge"], names["ml.c6g.2xlarge"])
}
