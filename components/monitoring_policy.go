package components

import (
	"fmt"
	"strings"
)

// notificationPublishers are the services that publish to the alerts topic. SNS encrypts each
// message with a data key, so a publisher needs the key as well as the topic (docs/design.md#notification-topics-need-their-own-key: with
// the AWS-managed alias/aws/sns key these services are refused and notifications are dropped
// without an error anywhere but the alarm history).
var notificationPublishers = []string{"cloudwatch.amazonaws.com", "budgets.amazonaws.com"}

// keyAdminActions are the key administration actions kept by the account; listing them rather
// than "kms:*" keeps the account in control of the key without handing it every data action.
var keyAdminActions = []string{
	"kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
	"kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
	"kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
}

// notificationKeyPolicy is the key policy of the topic's customer-managed key. In a key policy
// "Resource": "*" means the key itself.
func notificationKeyPolicy(partition, account, region string) PolicyDocument {
	root := fmt.Sprintf("arn:%s:iam::%s:root", partition, account)
	admin := Allow("KeyAdministration", keyAdminActions, "*")
	admin.Principal = map[string]any{"AWS": root}
	// Principals of this account (operators testing the topic, the SNS console) publish through SNS.
	use := Allow("AccountPublishThroughSNS", []string{"kms:Decrypt", "kms:GenerateDataKey*"}, "*")
	use.Principal = map[string]any{"AWS": root}
	// Through SNS only: without kms:ViaService any principal of the account with KMS permissions
	// in IAM could decrypt with the key directly.
	use.Condition = map[string]any{"StringEquals": map[string]any{
		"kms:CallerAccount": account,
		"kms:ViaService":    fmt.Sprintf("sns.%s.amazonaws.com", region),
	}}
	// No aws:SourceAccount condition here: the AWS guides for both services grant the key
	// without one, and a condition the service does not send would silently drop every alert.
	publish := Allow("AlarmsAndBudgetsPublish", []string{"kms:Decrypt", "kms:GenerateDataKey*"}, "*")
	publish.Principal = map[string]any{"Service": notificationPublishers}
	return NewPolicy(admin, use, publish)
}

// notificationTopicPolicy lets this account's CloudWatch alarms and budgets publish to the topic.
func notificationTopicPolicy(topicArn, account string) PolicyDocument {
	partition := "aws"
	var region string
	// arn:<partition>:sns:<region>:<account>:<name>
	if parts := strings.SplitN(topicArn, ":", 6); len(parts) == 6 {
		partition, region = parts[1], parts[3]
	}
	alarms := Allow("CloudWatchAlarmsPublish", []string{"sns:Publish"}, topicArn)
	alarms.Principal = map[string]any{"Service": "cloudwatch.amazonaws.com"}
	alarms.Condition = map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": account},
		"ArnLike":      map[string]any{"aws:SourceArn": fmt.Sprintf("arn:%s:cloudwatch:%s:%s:alarm:*", partition, region, account)},
	}
	budget := Allow("BudgetsPublish", []string{"sns:Publish"}, topicArn)
	budget.Principal = map[string]any{"Service": "budgets.amazonaws.com"}
	budget.Condition = map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": account},
		"ArnLike":      map[string]any{"aws:SourceArn": fmt.Sprintf("arn:%s:budgets::%s:*", partition, account)},
	}
	return NewPolicy(alarms, budget)
}
