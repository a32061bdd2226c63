// Package components holds inferstack's Pulumi components, importable by any Pulumi Go program:
//
//   - ModelImage: an ECR repository and the inference image built and pushed into it, pinned by digest.
//   - SageMakerEndpoint: the execution role, model, endpoint configuration and endpoint, real-time
//     (with autoscaling) or serverless, with blue/green rollback on alarms.
//   - ModelDeployment: all parts of one model's deployment from one Args struct.
//
// The other parts (the Lambda proxy, the secured REST API and monitoring) live in this package as
// well. Components connect only through Inputs and Outputs, so a program may use ModelDeployment
// or wire the parts itself; every taggable child carries the tags from StandardTags.
package components
