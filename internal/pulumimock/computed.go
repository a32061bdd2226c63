package pulumimock

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// suffix imitates Pulumi's autonaming suffix: stable per logical name, 7 hex characters.
func suffix(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:])[:7]
}

func str(state resource.PropertyMap, key string) string {
	v, ok := state[resource.PropertyKey(key)]
	if !ok {
		return ""
	}
	v = unwrap(v)
	if v.IsString() {
		return v.StringValue()
	}
	return ""
}

func set(state resource.PropertyMap, key, value string) {
	if _, ok := state[resource.PropertyKey(key)]; !ok {
		state[resource.PropertyKey(key)] = resource.NewProperty(value)
	}
}

// computed fills in the outputs that AWS (or the provider) computes and that components read,
// shaped like the real values so that tests can check ARNs and URLs built from them.
func computed(typ, name string, state resource.PropertyMap) {
	const acct, region = AccountID, Region
	// Autonamed physical name, as the provider would pick it when no name is given.
	physical := str(state, "name")
	if physical == "" {
		physical = name + "-" + suffix(name)
	}
	nameKey := func() { set(state, "name", physical) }

	switch typ {
	case "aws:iam/role:Role":
		nameKey()
		set(state, "arn", "arn:aws:iam::"+acct+":role/"+physical)
		set(state, "uniqueId", "AROA"+strings.ToUpper(suffix(name)))
	case "aws:iam/policy:Policy":
		nameKey()
		set(state, "arn", "arn:aws:iam::"+acct+":policy/"+physical)
	case "aws:ecr/repository:Repository":
		nameKey()
		set(state, "arn", "arn:aws:ecr:"+region+":"+acct+":repository/"+physical)
		set(state, "repositoryUrl", acct+".dkr.ecr."+region+".amazonaws.com/"+physical)
		set(state, "registryId", acct)
	case "aws:sagemaker/model:Model", "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
		"aws:sagemaker/endpoint:Endpoint":
		nameKey()
		kind := map[string]string{
			"aws:sagemaker/model:Model":                                 "model",
			"aws:sagemaker/endpointConfiguration:EndpointConfiguration": "endpoint-config",
			"aws:sagemaker/endpoint:Endpoint":                           "endpoint",
		}[typ]
		set(state, "arn", "arn:aws:sagemaker:"+region+":"+acct+":"+kind+"/"+strings.ToLower(physical))
	case "aws:lambda/function:Function":
		nameKey()
		arn := "arn:aws:lambda:" + region + ":" + acct + ":function:" + physical
		set(state, "arn", arn)
		set(state, "qualifiedArn", arn+":$LATEST")
		set(state, "invokeArn", "arn:aws:apigateway:"+region+":lambda:path/2015-03-31/functions/"+arn+"/invocations")
		set(state, "version", "$LATEST")
	case "aws:cloudwatch/logGroup:LogGroup":
		nameKey()
		set(state, "arn", "arn:aws:logs:"+region+":"+acct+":log-group:"+physical)
	case "aws:apigateway/restApi:RestApi":
		nameKey()
		id := suffix(name) + "abc"
		set(state, "id", id)
		set(state, "rootResourceId", "root"+suffix(name)[:4])
		set(state, "executionArn", "arn:aws:execute-api:"+region+":"+acct+":"+id)
		set(state, "arn", "arn:aws:apigateway:"+region+"::/restapis/"+id)
	case "aws:apigateway/resource:Resource":
		set(state, "id", "res"+suffix(name))
		set(state, "path", "/"+str(state, "pathPart"))
	case "aws:apigateway/stage:Stage":
		api := str(state, "restApi")
		stage := str(state, "stageName")
		set(state, "invokeUrl", "https://"+api+".execute-api."+region+".amazonaws.com/"+stage)
		set(state, "executionArn", "arn:aws:execute-api:"+region+":"+acct+":"+api+"/"+stage)
		set(state, "arn", "arn:aws:apigateway:"+region+"::/restapis/"+api+"/stages/"+stage)
	case "aws:apigateway/apiKey:ApiKey":
		set(state, "id", "key"+suffix(name))
		set(state, "value", "generated-api-key-"+suffix(name))
		set(state, "arn", "arn:aws:apigateway:"+region+"::/apikeys/key"+suffix(name))
	case "aws:apigateway/usagePlan:UsagePlan":
		set(state, "id", "plan"+suffix(name))
		set(state, "arn", "arn:aws:apigateway:"+region+"::/usageplans/plan"+suffix(name))
	case "aws:apigateway/authorizer:Authorizer":
		set(state, "id", "auth"+suffix(name))
	case "aws:apigateway/deployment:Deployment":
		set(state, "id", "dep"+suffix(name))
	case "aws:cognito/userPool:UserPool":
		id := region + "_" + strings.ToUpper(suffix(name))
		set(state, "id", id)
		set(state, "arn", "arn:aws:cognito-idp:"+region+":"+acct+":userpool/"+id)
		set(state, "endpoint", "cognito-idp."+region+".amazonaws.com/"+id)
	case "aws:cognito/userPoolClient:UserPoolClient":
		set(state, "id", "client"+suffix(name))
		set(state, "clientSecret", "secret-"+suffix(name))
	case "aws:sns/topic:Topic":
		nameKey()
		set(state, "arn", "arn:aws:sns:"+region+":"+acct+":"+physical)
	case "aws:kms/key:Key":
		id := "1234abcd-12ab-34cd-56ef-" + suffix(name) + "12345"
		set(state, "id", id)
		set(state, "keyId", id)
		set(state, "arn", "arn:aws:kms:"+region+":"+acct+":key/"+id)
	case "aws:cloudwatch/metricAlarm:MetricAlarm":
		nameKey()
		set(state, "arn", "arn:aws:cloudwatch:"+region+":"+acct+":alarm:"+physical)
	case "aws:budgets/budget:Budget":
		nameKey()
		set(state, "arn", "arn:aws:budgets::"+acct+":budget/"+physical)
	case "aws:cloudwatch/dashboard:Dashboard":
		set(state, "dashboardArn", "arn:aws:cloudwatch::"+acct+":dashboard/"+str(state, "dashboardName"))
	case "aws:wafv2/webAcl:WebAcl":
		nameKey()
		set(state, "arn", "arn:aws:wafv2:"+region+":"+acct+":regional/webacl/"+physical+"/"+suffix(name))
	case "docker:index/image:Image":
		img := str(state, "imageName")
		if i := strings.LastIndex(img, ":"); i > strings.LastIndex(img, "/") {
			img = img[:i]
		}
		sum := sha256.Sum256([]byte(name + str(state, "imageName")))
		set(state, "repoDigest", img+"@sha256:"+hex.EncodeToString(sum[:]))
	default:
		if str(state, "arn") == "" && strings.HasPrefix(typ, "aws:") {
			service := strings.SplitN(strings.TrimPrefix(typ, "aws:"), "/", 2)[0]
			set(state, "arn", "arn:aws:"+service+":"+region+":"+acct+":"+name)
		}
	}
}
