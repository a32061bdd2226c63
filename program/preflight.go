package program

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/smithy-go"

	"github.com/inferstack/inferstack/stackconfig"
)

// Preflight: what the account must already have for this stack to deploy, asked before any
// resource is registered, so that a first `pulumi up` in a fresh account stops with one message
// instead of failing halfway with resources half created.

// AccountGetter is the one API Gateway call the preflight makes; *apigateway.Client implements it.
type AccountGetter interface {
	GetAccount(ctx context.Context, in *apigateway.GetAccountInput, optFns ...func(*apigateway.Options)) (*apigateway.GetAccountOutput, error)
}

var _ AccountGetter = (*apigateway.Client)(nil)

// ErrNoAccountLogsRole is what the preflight returns when API Gateway logging is on and the
// account has no CloudWatch Logs role in the stack's region.
var ErrNoAccountLogsRole = errors.New("API Gateway has no CloudWatch Logs role in this account and region")

// preflightTimeout bounds the whole check: credentials, the call and the SDK's retries. A check
// that cannot answer in time warns instead of holding up a preview.
const preflightTimeout = 20 * time.Second

// credentialsTimeout bounds finding credentials within the preflight.
const credentialsTimeout = 5 * time.Second

// NewAccountGetter makes the API Gateway client of the stack's region from the standard AWS
// configuration (environment, shared config and credentials files, SSO, the instance role), as
// the AWS provider does. AWS_ENDPOINT_URL_API_GATEWAY or AWS_ENDPOINT_URL point it elsewhere,
// e.g. at a fake in tests. It is a variable so that other programs can swap it.
var NewAccountGetter = func(ctx context.Context, region string) (AccountGetter, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region))
	if err != nil {
		return nil, err
	}
	// Without credentials the chain ends at the instance metadata service, which off EC2 answers
	// only with a timeout: bound it, so that an offline preview waits seconds, not more.
	credCtx, cancel := context.WithTimeout(ctx, credentialsTimeout)
	defer cancel()
	if _, err := cfg.Credentials.Retrieve(credCtx); err != nil {
		return nil, fmt.Errorf("%w: %w", errNoCredentials, err)
	}
	return apigateway.NewFromConfig(cfg), nil
}

var errNoCredentials = errors.New("no AWS credentials")

// CheckAccountLogsRole asks API Gateway (GetAccount) whether the account has the CloudWatch Logs
// role that stage logging needs, when the stack logs and does not create the role itself. The
// error, when the role is missing, names both fixes. When the question cannot be answered (no
// credentials, as under `pulumi preview` on a machine without AWS access, no permission, no
// network), it returns a warning and no error: the deploy then finds out itself, as it did before
// the check, and the warning says what to look for.
func CheckAccountLogsRole(ctx context.Context, c stackconfig.Config, client AccountGetter) (warning string, err error) {
	if c.API.LoggingLevel == "OFF" || c.API.CreateAccountLogsRole {
		return "", nil
	}
	out, err := client.GetAccount(ctx, &apigateway.GetAccountInput{})
	if err != nil {
		return cannotCheck(c, err), nil
	}
	if aws.ToString(out.CloudwatchRoleArn) != "" {
		return "", nil
	}
	return "", fmt.Errorf("%w (%s): stage logging (%s: %s) would fail halfway through the deploy with "+
		"\"CloudWatch Logs role ARN must be set in account settings to enable logging\". Fix one of: "+
		"set %s.createAccountLogsRole: true in exactly one stack per account and region (it creates and sets the role); "+
		"or set %s.loggingLevel: OFF to deploy without API Gateway logs until the role exists (docs/api.md)",
		ErrNoAccountLogsRole, c.Region, stackconfig.KeyAPI+".loggingLevel", c.API.LoggingLevel,
		stackconfig.KeyAPI, stackconfig.KeyAPI)
}

func cannotCheck(c stackconfig.Config, err error) string {
	why := err.Error()
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		why = apiErr.ErrorCode() + ": " + apiErr.ErrorMessage()
	}
	return fmt.Sprintf("could not check the API Gateway account settings in %s (%s); if the account has no "+
		"CloudWatch Logs role there, the deploy fails at the stage with \"CloudWatch Logs role ARN must be set in "+
		"account settings\": then set %s.createAccountLogsRole: true once per account and region, or %s.loggingLevel: OFF",
		c.Region, why, stackconfig.KeyAPI, stackconfig.KeyAPI)
}

// preflight runs every account check for the stack; warn receives what could not be checked.
func preflight(parent context.Context, c stackconfig.Config, warn func(string)) error {
	if c.API.LoggingLevel == "OFF" || c.API.CreateAccountLogsRole {
		return nil
	}
	ctx, cancel := context.WithTimeout(parent, preflightTimeout)
	defer cancel()
	client, err := NewAccountGetter(ctx, c.Region)
	if err != nil {
		warn(cannotCheck(c, err))
		return nil
	}
	warning, err := CheckAccountLogsRole(ctx, c, client)
	if warning != "" {
		warn(warning)
	}
	return err
}
