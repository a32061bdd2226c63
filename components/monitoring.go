package components

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/budgets"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/inferstack/inferstack/internal/contract"
)

const monitoringType = "inferstack:components:Monitoring"

// Default alarm thresholds: the checklist's p99 latency under 500 ms and errors under 1%.
const (
	DefaultLatencyP99Ms             = contract.DefaultLatencyP99Ms
	DefaultErrorRatePercent         = contract.DefaultErrorRatePercent
	DefaultClientErrorRatePercent   = contract.DefaultClientErrorRatePercent
	DefaultCPUUtilizationPercent    = contract.DefaultUtilizationPercent
	DefaultMemoryUtilizationPercent = contract.DefaultUtilizationPercent
	DefaultLambdaDurationP99Ms      = 24000 // 80% of the proxy's default 30 s timeout
)

// maxBudgetEmails is AWS Budgets' limit of e-mail subscribers per notification.
const maxBudgetEmails = 10

// Monitoring alerts on an inference deployment: an SNS topic encrypted with its own KMS key,
// CloudWatch alarms on the endpoint, the proxy Lambda and the API stage, a dashboard, and a
// monthly AWS Budgets cost budget filtered by the stack's cost tag.
type Monitoring struct {
	pulumi.ResourceState

	// TopicARN is the SNS topic that receives alarm and budget notifications.
	TopicARN pulumi.StringOutput `pulumi:"topicArn"`
	// KeyARN is the customer-managed KMS key that encrypts the topic.
	KeyARN pulumi.StringOutput `pulumi:"keyArn"`
	// RollbackAlarmNames are the endpoint alarms (5XX error rate and p99 model latency) to give
	// SageMaker as auto-rollback alarms of a blue/green update.
	RollbackAlarmNames pulumi.StringArrayOutput `pulumi:"rollbackAlarmNames"`
	// AlarmNames are the names of every alarm the component created.
	AlarmNames pulumi.StringArrayOutput `pulumi:"alarmNames"`
	// DashboardName is the CloudWatch dashboard's name.
	DashboardName pulumi.StringOutput `pulumi:"dashboardName"`
	// BudgetName is the AWS Budgets budget's name; empty when no budget was asked for.
	BudgetName pulumi.StringOutput `pulumi:"budgetName"`
}

// MonitoringThresholds are the alarm thresholds; zero fields take the defaults.
type MonitoringThresholds struct {
	// LatencyP99Ms is the p99 latency limit of the model and the API in milliseconds (default 500).
	LatencyP99Ms float64 `pulumi:"latencyP99Ms,optional"`
	// ErrorRatePercent is the server error (5XX) rate limit in percent (default 1).
	ErrorRatePercent float64 `pulumi:"errorRatePercent,optional"`
	// ClientErrorRatePercent is the client error (4XX) rate limit in percent (default 5): client
	// errors are noisier than server errors, and a rise usually means a broken client release.
	ClientErrorRatePercent float64 `pulumi:"clientErrorRatePercent,optional"`
	// CPUUtilizationPercent is the endpoint CPU limit in percent of the whole instance (default
	// 80). SageMaker reports CPU summed over cores (0 to 100 × vCPUs): with a known
	// MonitoringArgs.InstanceType the alarm divides by the vCPU count; otherwise the limit
	// applies to the sum.
	CPUUtilizationPercent float64 `pulumi:"cpuUtilizationPercent,optional"`
	// MemoryUtilizationPercent is the endpoint memory limit in percent (default 80).
	MemoryUtilizationPercent float64 `pulumi:"memoryUtilizationPercent,optional"`
	// LambdaDurationP99Ms is the proxy Lambda's p99 duration limit in milliseconds (default 24000).
	LambdaDurationP99Ms float64 `pulumi:"lambdaDurationP99Ms,optional"`
}

// MonitoringArgs configures Monitoring.
type MonitoringArgs struct {
	// EndpointName is the SageMaker endpoint's name (required). It must be known before the
	// endpoint exists when the rollback alarms feed the endpoint's own deployment config.
	EndpointName pulumi.StringInput `pulumi:"endpointName"`
	// VariantName is the production variant (optional, default "primary").
	VariantName pulumi.StringInput `pulumi:"variantName,optional"`
	// Serverless skips the CPU and memory alarms: serverless endpoints do not publish them.
	Serverless bool `pulumi:"serverless,optional"`
	// InstanceType is the endpoint's ml.* instance type (optional): its vCPU count turns
	// SageMaker's per-core CPU sum into a percentage of the instance.
	InstanceType string `pulumi:"instanceType,optional"`
	// FunctionName is the proxy Lambda's name (optional: nil skips the Lambda alarms).
	FunctionName pulumi.StringInput `pulumi:"functionName,optional"`
	// APIName and StageName name the REST API stage (optional: nil skips the API alarms).
	APIName pulumi.StringInput `pulumi:"apiName,optional"`
	// StageName is the stage of APIName; set both or neither.
	StageName pulumi.StringInput `pulumi:"stageName,optional"`
	// AlarmNamePrefix (optional) names the alarms "<prefix>-<alarm>" instead of autonaming them, so
	// that their names are known before the endpoint exists: see MonitoringRollbackAlarmNames. It
	// must be unique in the account and region (include the stack).
	AlarmNamePrefix string `pulumi:"alarmNamePrefix,optional"`

	// MonitoringSettings are the settings a user chooses.
	MonitoringSettings
}

// MonitoringSettings are the settings of Monitoring that a user chooses; ModelDeployment takes them and wires what it watches.
type MonitoringSettings struct {
	// Thresholds of the alarms (nil, or zero fields, take the defaults).
	Thresholds *MonitoringThresholds `pulumi:"thresholds,optional"`
	// AlarmEmails are subscribed to the topic (optional). Each address must confirm once.
	AlarmEmails []string `pulumi:"alarmEmails,optional"`
	// MonthlyBudgetUSD is the cost budget's monthly limit (optional: 0 creates no budget).
	MonthlyBudgetUSD float64 `pulumi:"monthlyBudgetUsd,optional"`
	// BudgetEmails receive the budget notifications directly, besides the topic (optional, at most 10).
	BudgetEmails []string `pulumi:"budgetEmails,optional"`
	// Tags are the cost tags (see StandardTags). The budget filters on the stack tag, so it is
	// required when MonthlyBudgetUSD is set.
	Tags map[string]string `pulumi:"tags,optional"`
}

// NewMonitoring creates the topic, alarms, dashboard and budget of one deployment.
func NewMonitoring(ctx *pulumi.Context, name string, args *MonitoringArgs,
	opts ...pulumi.ResourceOption) (*Monitoring, error) {
	if args == nil {
		return nil, fmt.Errorf("monitoring %q: args are required", name)
	}
	a := args.WithDefaults()
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("monitoring %q: %w", name, err)
	}

	c := &Monitoring{}
	if err := ctx.RegisterComponentResource(monitoringType, name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)

	caller, err := aws.GetCallerIdentity(ctx, nil, parent)
	if err != nil {
		return nil, fmt.Errorf("monitoring %q: look up the account: %w", name, err)
	}
	region, err := aws.GetRegion(ctx, nil, parent)
	if err != nil {
		return nil, fmt.Errorf("monitoring %q: look up the region: %w", name, err)
	}
	partition, err := aws.GetPartition(ctx, nil, parent)
	if err != nil {
		return nil, fmt.Errorf("monitoring %q: look up the partition: %w", name, err)
	}

	keyPolicy, err := notificationKeyPolicy(partition.Partition, caller.AccountId, region.Name).JSON()
	if err != nil {
		return nil, err
	}
	key, err := kms.NewKey(ctx, name+"-key", &kms.KeyArgs{
		Description:          pulumi.Sprintf("Encrypts the alarm and budget notifications of %s", name),
		Policy:               pulumi.String(keyPolicy),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(30),
		Tags:                 tagsFor(a.Tags, name+"-key"),
	}, parent)
	if err != nil {
		return nil, err
	}
	topic, err := sns.NewTopic(ctx, name+"-alerts", &sns.TopicArgs{
		DisplayName:    pulumi.Sprintf("inferstack alerts %s", name),
		KmsMasterKeyId: key.Arn,
		Tags:           tagsFor(a.Tags, name+"-alerts"),
	}, parent)
	if err != nil {
		return nil, err
	}
	topicPolicy := topic.Arn.ApplyT(func(arn string) (string, error) {
		return notificationTopicPolicy(arn, caller.AccountId).JSON()
	}).(pulumi.StringOutput)
	if _, err := sns.NewTopicPolicy(ctx, name+"-alerts-policy", &sns.TopicPolicyArgs{
		Arn:    topic.Arn,
		Policy: topicPolicy,
	}, parent); err != nil {
		return nil, err
	}
	for i, email := range a.AlarmEmails {
		if _, err := sns.NewTopicSubscription(ctx, fmt.Sprintf("%s-email-%d", name, i), &sns.TopicSubscriptionArgs{
			Topic:    topic.Arn,
			Protocol: pulumi.String("email"),
			Endpoint: pulumi.String(email),
		}, parent); err != nil {
			return nil, err
		}
	}

	var rollback, all pulumi.StringArray
	for _, spec := range alarmSpecs(&a) {
		alarm, err := newAlarm(ctx, name, a.AlarmNamePrefix, spec, topic.Arn, a.Tags, parent)
		if err != nil {
			return nil, err
		}
		all = append(all, alarm.Name)
		if spec.rollback {
			rollback = append(rollback, alarm.Name)
		}
	}

	dashboardName := dashboardNameFor(name, ctx.Stack())
	body := pulumi.All(a.EndpointName, a.VariantName, optional(a.FunctionName), optional(a.APIName),
		optional(a.StageName)).ApplyT(func(v []any) (string, error) {
		return dashboardBody(dashboardInput{
			Region: region.Name, Endpoint: v[0].(string), Variant: v[1].(string), Serverless: a.Serverless,
			Function: v[2].(string), API: v[3].(string), Stage: v[4].(string), Thresholds: a.thresholds(),
		})
	}).(pulumi.StringOutput)
	dashboard, err := cloudwatch.NewDashboard(ctx, name+"-dashboard", &cloudwatch.DashboardArgs{
		DashboardName: pulumi.String(dashboardName),
		DashboardBody: body,
	}, parent)
	if err != nil {
		return nil, err
	}

	budgetName := pulumi.String("").ToStringOutput()
	if a.MonthlyBudgetUSD > 0 {
		b, err := newCostBudget(ctx, name, &a, topic.Arn, parent)
		if err != nil {
			return nil, err
		}
		budgetName = b.Name
	}

	c.TopicARN = topic.Arn
	c.KeyARN = key.Arn
	c.RollbackAlarmNames = rollback.ToStringArrayOutput()
	c.AlarmNames = all.ToStringArrayOutput()
	c.DashboardName = dashboard.DashboardName
	c.BudgetName = budgetName
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"topicArn":           c.TopicARN,
		"keyArn":             c.KeyARN,
		"rollbackAlarmNames": c.RollbackAlarmNames,
		"alarmNames":         c.AlarmNames,
		"dashboardName":      c.DashboardName,
		"budgetName":         c.BudgetName,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// newCostBudget creates the monthly cost budget: it counts only costs tagged with this stack,
// and warns at 80% and 100% of actual spend and when the forecast passes 100%.
func newCostBudget(ctx *pulumi.Context, name string, a *MonitoringArgs, topicArn pulumi.StringOutput,
	opts ...pulumi.ResourceOption) (*budgets.Budget, error) {
	notify := func(kind string, percent float64) budgets.BudgetNotificationInput {
		n := budgets.BudgetNotificationArgs{
			ComparisonOperator:     pulumi.String("GREATER_THAN"),
			NotificationType:       pulumi.String(kind),
			Threshold:              pulumi.Float64(percent),
			ThresholdType:          pulumi.String("PERCENTAGE"),
			SubscriberSnsTopicArns: pulumi.StringArray{topicArn},
		}
		if len(a.BudgetEmails) > 0 {
			n.SubscriberEmailAddresses = pulumi.ToStringArray(a.BudgetEmails)
		}
		return n
	}
	return budgets.NewBudget(ctx, name+"-budget", &budgets.BudgetArgs{
		BudgetType:  pulumi.String("COST"),
		TimeUnit:    pulumi.String("MONTHLY"),
		LimitAmount: pulumi.String(fmt.Sprintf("%.2f", a.MonthlyBudgetUSD)),
		LimitUnit:   pulumi.String("USD"),
		CostFilters: budgets.BudgetCostFilterArray{budgets.BudgetCostFilterArgs{
			Name:   pulumi.String("TagKeyValue"),
			Values: pulumi.StringArray{pulumi.String(CostTagFilter(TagStack, a.Tags[TagStack]))},
		}},
		Notifications: budgets.BudgetNotificationArray{
			notify("ACTUAL", 80),
			notify("ACTUAL", 100),
			notify("FORECASTED", 100),
		},
		Tags: tagsFor(a.Tags, name+"-budget"),
	}, opts...)
}

// CostTagFilter returns the AWS Budgets TagKeyValue filter value of a user-defined cost
// allocation tag: "user:<key>$<value>". The tag must be activated as a cost allocation tag in
// the billing console, or the budget stays at zero.
func CostTagFilter(key, value string) string { return "user:" + key + "$" + value }

// WithDefaults returns the args with every unset optional field at its default.
func (a MonitoringArgs) WithDefaults() MonitoringArgs {
	t := a.thresholds().withDefaults() // a copy: the caller's Thresholds stay as they were
	a.Thresholds = &t
	if a.VariantName == nil {
		a.VariantName = pulumi.String(DefaultVariantName)
	}
	return a
}

// Validate reports every problem of defaulted args (WithDefaults) at once, each naming the field,
// the value and what is allowed.
func (a MonitoringArgs) Validate() error {
	var es FieldErrors
	if a.EndpointName == nil {
		es.add("EndpointName", nil, "the SageMaker endpoint's name (required)")
	}
	switch {
	case a.APIName != nil && a.StageName == nil:
		es.add("StageName", nil, "set together with {APIName}, or neither")
	case a.APIName == nil && a.StageName != nil:
		es.add("APIName", nil, "set together with {StageName}, or neither")
	}
	t := a.thresholds()
	positive := func(field string, v float64, unit string) {
		if v <= 0 {
			es.add("Thresholds."+field, v, "a positive %s", unit)
		}
	}
	percent := func(field string, v float64) {
		if v <= 0 || v > 100 {
			es.add("Thresholds."+field, v, "a percentage above 0 and at most 100")
		}
	}
	positive("LatencyP99Ms", t.LatencyP99Ms, "number of milliseconds")
	percent("ErrorRatePercent", t.ErrorRatePercent)
	percent("ClientErrorRatePercent", t.ClientErrorRatePercent)
	positive("CPUUtilizationPercent", t.CPUUtilizationPercent, "percentage of the instance's vCPUs")
	percent("MemoryUtilizationPercent", t.MemoryUtilizationPercent)
	positive("LambdaDurationP99Ms", t.LambdaDurationP99Ms, "number of milliseconds")
	for _, e := range a.AlarmEmails {
		if !ValidEmail(e) {
			es.add("AlarmEmails", e, "bare email addresses like oncall@example.com")
		}
	}
	for _, e := range a.BudgetEmails {
		if !ValidEmail(e) {
			es.add("BudgetEmails", e, "bare email addresses like finance@example.com")
		}
	}
	if len(a.BudgetEmails) > maxBudgetEmails {
		es.add("BudgetEmails", a.BudgetEmails, "at most %d addresses (AWS Budgets' limit per notification)", maxBudgetEmails)
	}
	if len(a.AlarmNamePrefix) > maxAlarmNamePrefix {
		es.add("AlarmNamePrefix", a.AlarmNamePrefix, "at most %d characters: CloudWatch alarm names allow 255", maxAlarmNamePrefix)
	}
	if a.MonthlyBudgetUSD < 0 {
		es.add("MonthlyBudgetUSD", a.MonthlyBudgetUSD, "a positive amount, or 0 for no budget")
	}
	if a.MonthlyBudgetUSD > 0 && a.Tags[TagStack] == "" {
		es.add("Tags", a.Tags, "a %q tag with {MonthlyBudgetUSD}: the budget filters costs by it", TagStack)
	}
	return es.err()
}

func (t MonitoringThresholds) withDefaults() MonitoringThresholds {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&t.LatencyP99Ms, DefaultLatencyP99Ms)
	def(&t.ErrorRatePercent, DefaultErrorRatePercent)
	def(&t.ClientErrorRatePercent, DefaultClientErrorRatePercent)
	def(&t.CPUUtilizationPercent, DefaultCPUUtilizationPercent)
	def(&t.MemoryUtilizationPercent, DefaultMemoryUtilizationPercent)
	def(&t.LambdaDurationP99Ms, DefaultLambdaDurationP99Ms)
	return t
}

// optional turns a nil input into an empty string so that it can join pulumi.All.
func optional(in pulumi.StringInput) pulumi.StringInput {
	if in == nil {
		return pulumi.String("")
	}
	return in
}

var notDashboardChar = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// dashboardNameFor names the dashboard after the component and the stack: dashboard names are
// account-wide per region, and dev and prod stacks often share an account.
func dashboardNameFor(name, stack string) string {
	n := notDashboardChar.ReplaceAllString(name+"-"+stack, "-")
	if len(n) > 255 {
		n = n[:255]
	}
	return strings.Trim(n, "-")
}

// thresholds are the set thresholds: the zero MonitoringThresholds when Thresholds is nil (each
// zero field then takes its default in WithDefaults).
func (s MonitoringSettings) thresholds() MonitoringThresholds {
	if s.Thresholds == nil {
		return MonitoringThresholds{}
	}
	return *s.Thresholds
}
