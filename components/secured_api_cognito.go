package components

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cognito"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// apiUserPool is what the rest of SecuredAPI needs from Cognito.
type apiUserPool struct {
	id, arn                            pulumi.StringOutput
	userClientID, machineClientID      pulumi.StringOutput
	machineClientSecret, tokenEndpoint pulumi.StringOutput
}

// Token lifetimes. One hour keeps the number of billed client-credentials requests low for
// clients that cache tokens (docs/api.md), and a leaked token short-lived.
const (
	accessTokenMinutes = 60
	refreshTokenDays   = 30
)

// newAPIUserPool creates the user pool, the resource server with the invoke scope, the app
// clients and the domain that hosts the token endpoint.
func newAPIUserPool(ctx *pulumi.Context, name string, a *SecuredAPIArgs, parent pulumi.Resource) (*apiUserPool, error) {
	opt := pulumi.Parent(parent)
	poolArgs := &cognito.UserPoolArgs{
		// Email is the username; only administrators create users, so every pool user is a person
		// someone decided may call the model.
		UsernameAttributes:     pulumi.StringArray{pulumi.String("email")},
		AutoVerifiedAttributes: pulumi.StringArray{pulumi.String("email")},
		AdminCreateUserConfig:  &cognito.UserPoolAdminCreateUserConfigArgs{AllowAdminCreateUserOnly: pulumi.Bool(true)},
		PasswordPolicy: &cognito.UserPoolPasswordPolicyArgs{
			MinimumLength:                 pulumi.Int(14),
			RequireLowercase:              pulumi.Bool(true),
			RequireUppercase:              pulumi.Bool(true),
			RequireNumbers:                pulumi.Bool(true),
			RequireSymbols:                pulumi.Bool(true),
			TemporaryPasswordValidityDays: pulumi.Int(3),
		},
		AccountRecoverySetting: &cognito.UserPoolAccountRecoverySettingArgs{
			RecoveryMechanisms: cognito.UserPoolAccountRecoverySettingRecoveryMechanismArray{
				&cognito.UserPoolAccountRecoverySettingRecoveryMechanismArgs{Name: pulumi.String("verified_email"), Priority: pulumi.Int(1)},
			},
		},
		MfaConfiguration:   pulumi.String(map[string]string{MFAOff: "OFF", MFAOptional: "OPTIONAL", MFAOn: "ON"}[a.MFA]),
		DeletionProtection: pulumi.String(map[bool]string{true: "ACTIVE", false: "INACTIVE"}[a.DeletionProtection]),
		Tags:               tagsFor(a.Tags, name+"-users"),
	}
	if a.MFA != MFAOff {
		// TOTP apps need no SMS role or spend limit, unlike SMS MFA.
		poolArgs.SoftwareTokenMfaConfiguration = &cognito.UserPoolSoftwareTokenMfaConfigurationArgs{Enabled: pulumi.Bool(true)}
	}
	// A protected pool holds real users: destroy (or a replacement) drops it from the stack and
	// keeps it, rather than failing half-way on Cognito's deletion protection.
	pool, err := cognito.NewUserPool(ctx, name+"-users", poolArgs, opt, pulumi.RetainOnDelete(a.DeletionProtection))
	if err != nil {
		return nil, err
	}

	rs, err := cognito.NewResourceServer(ctx, name+"-resource-server", &cognito.ResourceServerArgs{
		UserPoolId: pool.ID(),
		Identifier: pulumi.String(ResourceServerIdentifier),
		Name:       pulumi.String(name),
		Scopes: cognito.ResourceServerScopeArray{&cognito.ResourceServerScopeArgs{
			ScopeName:        pulumi.String(strings.TrimPrefix(InvokeScope, ResourceServerIdentifier+"/")),
			ScopeDescription: pulumi.String("Call the model's /ping and /invocations"),
		}},
	}, opt)
	if err != nil {
		return nil, err
	}

	people, err := cognito.NewUserPoolClient(ctx, name+"-people", &cognito.UserPoolClientArgs{
		Name:                       pulumi.String(name + "-people"),
		UserPoolId:                 pool.ID(),
		GenerateSecret:             pulumi.Bool(false),
		ExplicitAuthFlows:          pulumi.ToStringArray([]string{"ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}),
		PreventUserExistenceErrors: pulumi.String("ENABLED"),
		EnableTokenRevocation:      pulumi.Bool(true),
		AccessTokenValidity:        pulumi.Int(accessTokenMinutes),
		IdTokenValidity:            pulumi.Int(accessTokenMinutes),
		RefreshTokenValidity:       pulumi.Int(refreshTokenDays),
		TokenValidityUnits: &cognito.UserPoolClientTokenValidityUnitsArgs{
			AccessToken: pulumi.String("minutes"), IdToken: pulumi.String("minutes"), RefreshToken: pulumi.String("days"),
		},
	}, opt)
	if err != nil {
		return nil, err
	}

	domain, err := cognito.NewUserPoolDomain(ctx, name+"-domain", &cognito.UserPoolDomainArgs{
		Domain:     pulumi.String(a.CognitoDomainPrefix),
		UserPoolId: pool.ID(),
	}, opt)
	if err != nil {
		return nil, err
	}

	out := &apiUserPool{
		id:                  pool.ID().ToStringOutput(),
		arn:                 pool.Arn,
		userClientID:        people.ID().ToStringOutput(),
		machineClientID:     pulumi.String("").ToStringOutput(),
		machineClientSecret: pulumi.ToSecret(pulumi.String("")).(pulumi.StringOutput),
		// The region comes from the pool's ID ("<region>_<id>") so the URL follows whichever
		// provider the caller passed, and it waits for the domain to exist.
		tokenEndpoint: pulumi.All(pool.ID(), domain.Domain).ApplyT(func(v []any) string {
			region, _, _ := strings.Cut(string(v[0].(pulumi.ID)), "_")
			return fmt.Sprintf("https://%s.auth.%s.amazoncognito.com/oauth2/token", v[1].(string), region)
		}).(pulumi.StringOutput),
	}

	if a.MachineClient {
		machine, err := cognito.NewUserPoolClient(ctx, name+"-machine", &cognito.UserPoolClientArgs{
			Name:                            pulumi.String(name + "-machine"),
			UserPoolId:                      pool.ID(),
			GenerateSecret:                  pulumi.Bool(true),
			AllowedOauthFlowsUserPoolClient: pulumi.Bool(true),
			AllowedOauthFlows:               pulumi.StringArray{pulumi.String("client_credentials")},
			// Built from the resource server's output so the client waits for the scope to exist.
			AllowedOauthScopes:         pulumi.StringArray{pulumi.Sprintf("%s/%s", rs.Identifier, strings.TrimPrefix(InvokeScope, ResourceServerIdentifier+"/"))},
			SupportedIdentityProviders: pulumi.StringArray{pulumi.String("COGNITO")},
			ExplicitAuthFlows:          pulumi.StringArray{pulumi.String("ALLOW_REFRESH_TOKEN_AUTH")},
			PreventUserExistenceErrors: pulumi.String("ENABLED"),
			EnableTokenRevocation:      pulumi.Bool(true),
			AccessTokenValidity:        pulumi.Int(accessTokenMinutes),
			TokenValidityUnits:         &cognito.UserPoolClientTokenValidityUnitsArgs{AccessToken: pulumi.String("minutes")},
		}, opt)
		if err != nil {
			return nil, err
		}
		out.machineClientID = machine.ID().ToStringOutput()
		out.machineClientSecret = pulumi.ToSecret(machine.ClientSecret).(pulumi.StringOutput)
	}
	return out, nil
}

// defaultDomainPrefix is unique per project, stack and component name, because Cognito domain
// prefixes are global per region, and free of the words Cognito reserves.
func defaultDomainPrefix(project, stack, name string) string {
	sum := sha256.Sum256([]byte(project + "/" + stack + "/" + name))
	base := strings.ToLower(name)
	// Repeat: removing one reserved word can join the letters of another ("aawsws").
	for changed := true; changed; {
		before := base
		for _, reserved := range []string{"aws", "amazon", "cognito"} {
			base = strings.ReplaceAll(base, reserved, "")
		}
		changed = base != before
	}
	base = strings.Map(func(r rune) rune {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			return r
		}
		return '-'
	}, base)
	for strings.Contains(base, "--") {
		base = strings.ReplaceAll(base, "--", "-")
	}
	base = strings.Trim(base, "-")
	if len(base) > 50 {
		base = strings.TrimRight(base[:50], "-")
	}
	if base == "" {
		base = "api"
	}
	return base + "-" + hex.EncodeToString(sum[:])[:8]
}
