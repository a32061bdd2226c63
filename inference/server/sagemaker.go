package server

import (
	"net/http"
	"runtime"
	"strconv"
	"strings"
)

// SageMaker's request headers (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html).
const (
	customAttributesHeader = "X-Amzn-SageMaker-Custom-Attributes"
	inferenceIDHeader      = "X-Amzn-SageMaker-Inference-Id"
	// maxCustomAttributes is InvokeEndpoint's limit: up to 1024 visible US-ASCII characters.
	maxCustomAttributes = 1024
	// OutputAttribute is the custom attribute that selects a request's outputs in compat mode,
	// e.g. "inferstack-output=predicted_label,probability", as SAGEMAKER_INFERENCE_OUTPUT does
	// for every request.
	OutputAttribute = "inferstack-output"
)

// customAttributes returns the request's custom attributes, checked as InvokeEndpoint checks
// them, so that a direct caller gets the same 400 that SageMaker would give.
func customAttributes(r *http.Request) (string, error) {
	v := r.Header.Get(customAttributesHeader)
	if v == "" {
		return "", nil
	}
	if len(v) > maxCustomAttributes {
		return "", errorf(http.StatusBadRequest, CodeBadRequest,
			"%s is %d characters long; at most %d are allowed", customAttributesHeader, len(v), maxCustomAttributes)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e {
			return "", errorf(http.StatusBadRequest, CodeBadRequest,
				"%s has a byte 0x%02x at offset %d; only visible US-ASCII characters are allowed", customAttributesHeader, c, i)
		}
	}
	return v, nil
}

// outputAttribute finds inferstack-output=keys among attrs, attributes separated by ';'.
func outputAttribute(attrs string) (string, bool) {
	for part := range strings.SplitSeq(attrs, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), OutputAttribute) {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// forRequest returns c with the outputs a request's custom attributes select, or c itself.
func (c *Compat) forRequest(attrs, objective string) (*Compat, error) {
	v, ok := outputAttribute(attrs)
	if !ok {
		return c, nil
	}
	if _, ok := validKeys[objective]; !ok {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "%s %s: objective %q has no selectable outputs",
			customAttributesHeader, OutputAttribute, objective)
	}
	keys, err := ParseOutputKeys(v)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "%s %s: %s", customAttributesHeader, OutputAttribute, err.Error())
	}
	rc := *c
	rc.OutputKeys = keys
	return &rc, nil
}

// handleExecutionParameters answers Batch Transform's question before a job starts, as the
// built-in container does (aws/sagemaker-xgboost-container@cb8df91:
// src/sagemaker_xgboost_container/algorithm_mode/serve.py:145-160): one transform per CPU,
// MULTI_RECORD batches, and the body limit in whole MB.
func (s *Server) handleExecutionParameters() http.Handler {
	body := []byte(`{"MaxConcurrentTransforms": ` + strconv.Itoa(runtime.NumCPU()) +
		`, "BatchStrategy": "MULTI_RECORD", "MaxPayloadInMB": ` + strconv.FormatInt(s.opts.MaxBodyBytes>>20, 10) + "}")
	return s.handleStatic(jsonContentType, body)
}
