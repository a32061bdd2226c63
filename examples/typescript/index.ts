// The inferstack components composed from TypeScript, as main.go's ModelDeployment does in Go:
// image -> endpoint -> Lambda proxy -> Cognito-secured REST API -> WAF, with monitoring.
// `@inferstack/inferstack` is the SDK that `pulumi package add` generates from the provider's
// schema (scripts/check-ts-example.sh generates it and type-checks this file).
import * as pulumi from "@pulumi/pulumi";
import * as inferstack from "@inferstack/inferstack";

const config = new pulumi.Config();
const model = config.get("model") ?? "churn";
const tags = { team: "ml-platform", model, environment: pulumi.getStack(), "managed-by": "pulumi" };

// The provider runs in its own directory: give the Docker build context as an absolute path.
const image = new inferstack.components.ModelImage(`${model}-image`, {
    context: config.require("imageContext"),
    platform: "linux/arm64",
    tags,
});

const endpoint = new inferstack.components.SageMakerEndpoint(`${model}-endpoint`, {
    imageUri: image.imageUri,
    repositoryArn: image.repositoryArn,
    instanceType: "ml.m7g.large",
    instanceCount: 2,
    autoscaling: { minCapacity: 2, maxCapacity: 4, targetInvocationsPerInstance: 100 },
    tags,
});

// No archivePath and no handlerPackage: the handler embedded in the package, no Go toolchain.
const proxy = new inferstack.components.LambdaProxy(`${model}-proxy`, {
    endpointName: endpoint.endpointName,
    endpointArn: endpoint.endpointArn,
    endpointConfigName: endpoint.endpointConfigName,
    cache: { ttlSeconds: 300 },
    tags,
});

const api = new inferstack.components.SecuredApi(`${model}-api`, {
    proxyInvokeArn: proxy.invokeArn,
    proxyFunctionArn: proxy.functionArn,
    proxyFunctionName: proxy.functionName,
    requireApiKey: true,
    throttle: { rateLimit: 50, burstLimit: 100 },
    tags,
});

const firewall = new inferstack.components.WebAcl(`${model}-waf`, {
    stageArn: api.stageArn,
    tags,
});

const monitoring = new inferstack.components.Monitoring(`${model}-monitoring`, {
    endpointName: endpoint.endpointName,
    variantName: endpoint.variantName,
    functionName: proxy.functionName,
    apiName: api.restApiName,
    stageName: api.stageName,
    alarmEmails: config.getObject<string[]>("alarmEmails") ?? [],
    monthlyBudgetUsd: 2000,
    thresholds: { latencyP99Ms: 500 },
    tags,
});

export const invokeUrl = api.invokeUrl;
export const tokenEndpoint = api.tokenEndpoint;
export const endpointName = endpoint.endpointName;
export const webAclArn = firewall.arn;
export const dashboardName = monitoring.dashboardName;
