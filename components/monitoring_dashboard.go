package components

import (
	"encoding/json"
	"fmt"

	"github.com/inferstack/inferstack/internal/contract"
)

// dashboardInput is what the dashboard shows, resolved to plain values; empty Function or API
// leaves their widgets out.
type dashboardInput struct {
	Region, Endpoint, Variant string
	Serverless                bool
	Function, API, Stage      string
	Thresholds                MonitoringThresholds
}

// dashboardDoc is the CloudWatch dashboard body (see the "Dashboard Body Structure and Syntax"
// reference); built from Go values so that it is valid JSON by construction.
type dashboardDoc struct {
	Widgets []dashboardWidget `json:"widgets"`
}

type dashboardWidget struct {
	Type       string      `json:"type"`
	X          int         `json:"x"`
	Y          int         `json:"y"`
	Width      int         `json:"width"`
	Height     int         `json:"height"`
	Properties widgetProps `json:"properties"`
}

type widgetProps struct {
	Title       string       `json:"title"`
	Region      string       `json:"region"`
	View        string       `json:"view"`
	Stacked     bool         `json:"stacked"`
	Period      int          `json:"period"`
	Metrics     [][]any      `json:"metrics"`
	Annotations *annotations `json:"annotations,omitempty"`
}

type annotations struct {
	Horizontal []annotation `json:"horizontal"`
}

type annotation struct {
	Label string  `json:"label"`
	Value float64 `json:"value"`
}

// metricRow is one metric line: namespace, name, dimension name/value pairs, then options.
func metricRow(namespace, metric string, dims []string, options map[string]any) []any {
	row := []any{namespace, metric}
	for _, d := range dims {
		row = append(row, d)
	}
	return append(row, options)
}

// expressionRow is one metric math line.
func expressionRow(id, expression, label string) []any {
	return []any{map[string]any{"id": id, "expression": expression, "label": label}}
}

func threshold(label string, value float64) *annotations {
	return &annotations{Horizontal: []annotation{{Label: label, Value: value}}}
}

// dashboardBody renders the dashboard JSON.
func dashboardBody(in dashboardInput) (string, error) {
	if in.Region == "" || in.Endpoint == "" || in.Variant == "" {
		return "", fmt.Errorf("dashboard needs a region, an endpoint and a variant; got %q, %q, %q",
			in.Region, in.Endpoint, in.Variant)
	}
	t := in.Thresholds
	variant := []string{"EndpointName", in.Endpoint, "VariantName", in.Variant}
	var panels []widgetProps
	panels = append(panels,
		widgetProps{
			Title: "Endpoint invocations and errors",
			Metrics: [][]any{
				metricRow(namespaceSageMaker, "Invocations", variant, map[string]any{"stat": "Sum"}),
				metricRow(namespaceSageMaker, "Invocation4XXErrors", variant, map[string]any{"stat": "Sum"}),
				metricRow(namespaceSageMaker, "Invocation5XXErrors", variant, map[string]any{"stat": "Sum"}),
			},
		},
		widgetProps{
			// ModelLatency is in microseconds; the lines are converted to ms to match the threshold.
			Title: "Model latency (ms)",
			Metrics: [][]any{
				metricRow(namespaceSageMaker, "ModelLatency", variant, map[string]any{"stat": "p50", "id": "model50", "visible": false}),
				metricRow(namespaceSageMaker, "ModelLatency", variant, map[string]any{"stat": "p99", "id": "model99", "visible": false}),
				metricRow(namespaceSageMaker, "OverheadLatency", variant, map[string]any{"stat": "p99", "id": "overhead99", "visible": false}),
				expressionRow("model50ms", "model50 / 1000", "ModelLatency p50"),
				expressionRow("model99ms", "model99 / 1000", "ModelLatency p99"),
				expressionRow("overhead99ms", "overhead99 / 1000", "OverheadLatency p99"),
			},
			Annotations: threshold("p99 threshold", t.LatencyP99Ms),
		})
	if !in.Serverless {
		panels = append(panels, widgetProps{
			Title: "Endpoint instances: CPU (summed over cores) and memory (%)",
			Metrics: [][]any{
				metricRow(namespaceSageMakerInstance, "CPUUtilization", variant, map[string]any{"stat": "Average"}),
				metricRow(namespaceSageMakerInstance, "MemoryUtilization", variant, map[string]any{"stat": "Average"}),
			},
			Annotations: threshold("memory threshold", t.MemoryUtilizationPercent),
		})
	}
	if in.Function != "" {
		fn := []string{"FunctionName", in.Function}
		proxy := []string{contract.ProxyDimensionEndpointName, in.Endpoint}
		panels = append(panels,
			widgetProps{
				Title: "Proxy Lambda invocations, errors and throttles",
				Metrics: [][]any{
					metricRow(namespaceLambda, "Invocations", fn, map[string]any{"stat": "Sum"}),
					metricRow(namespaceLambda, "Errors", fn, map[string]any{"stat": "Sum"}),
					metricRow(namespaceLambda, "Throttles", fn, map[string]any{"stat": "Sum"}),
				},
			},
			widgetProps{
				Title: "Proxy latency p99 (ms)",
				Metrics: [][]any{
					metricRow(namespaceLambda, "Duration", fn, map[string]any{"stat": "p99"}),
					metricRow(NamespaceProxy, contract.ProxyMetricLatency, proxy, map[string]any{"stat": "p99"}),
					metricRow(NamespaceProxy, contract.ProxyMetricEndpointLatency, proxy, map[string]any{"stat": "p99"}),
				},
				Annotations: threshold("duration threshold", t.LambdaDurationP99Ms),
			},
			widgetProps{
				Title: "Proxy cache hit rate (%)",
				Metrics: [][]any{
					metricRow(NamespaceProxy, contract.ProxyMetricCacheHits, proxy, map[string]any{"stat": "Sum", "id": "h", "visible": false}),
					metricRow(NamespaceProxy, contract.ProxyMetricCacheMisses, proxy, map[string]any{"stat": "Sum", "id": "m", "visible": false}),
					expressionRow("hitrate", "100*h/(h+m)", "Cache hit rate (%)"),
				},
			})
	}
	if in.API != "" {
		stage := []string{"ApiName", in.API, "Stage", in.Stage}
		panels = append(panels,
			widgetProps{
				Title: "API requests and errors",
				Metrics: [][]any{
					metricRow(namespaceAPIGateway, "Count", stage, map[string]any{"stat": "Sum"}),
					metricRow(namespaceAPIGateway, "4XXError", stage, map[string]any{"stat": "Sum"}),
					metricRow(namespaceAPIGateway, "5XXError", stage, map[string]any{"stat": "Sum"}),
				},
			},
			widgetProps{
				Title: "API latency p99 (ms)",
				Metrics: [][]any{
					metricRow(namespaceAPIGateway, "Latency", stage, map[string]any{"stat": "p99"}),
					metricRow(namespaceAPIGateway, "IntegrationLatency", stage, map[string]any{"stat": "p99"}),
				},
				Annotations: threshold("p99 threshold", t.LatencyP99Ms),
			})
	}

	// Two 12-unit columns on CloudWatch's 24-unit grid.
	doc := dashboardDoc{Widgets: make([]dashboardWidget, 0, len(panels))}
	for i, p := range panels {
		p.Region, p.View, p.Period = in.Region, "timeSeries", alarmPeriodSeconds
		doc.Widgets = append(doc.Widgets, dashboardWidget{
			Type: "metric", X: (i % 2) * 12, Y: (i / 2) * 6, Width: 12, Height: 6, Properties: p,
		})
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("render dashboard: %w", err)
	}
	return string(b), nil
}
