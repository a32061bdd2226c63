package components

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/lambda/proxy"
)

// The dashboard reads the metrics the proxy writes: same namespace, dimension and metric names,
// taken from the proxy's own constants so that a rename on either side fails here.
func TestMonitoringDashboardReadsTheProxysEMFMetrics(t *testing.T) {
	assert.Equal(t, proxy.MetricNamespace, NamespaceProxy)
	res := monRun(t, monFullArgs())
	d, err := res.mocks.One(monTypeDashboard)
	require.NoError(t, err)
	metrics, _, _ := monDashboardMetrics(t, input(t, d, "dashboardBody").(string))
	for _, name := range []string{proxy.MetricCacheHits, proxy.MetricCacheMisses, proxy.MetricLatency, proxy.MetricEndpointLatency} {
		row, ok := metrics[proxy.MetricNamespace+"/"+name]
		if assert.True(t, ok, "dashboard lacks %s", name) {
			assert.Equal(t, []any{proxy.DimensionEndpointName, "churn-dev"}, row[2:4], name)
		}
	}
}
