package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/inferstack/inferstack/inference/model"
	"github.com/inferstack/inferstack/inference/server"
)

// SageMaker's environment, as the built-in XGBoost container reads it
// (aws/sagemaker-xgboost-container@cb8df91cd44c7b01c53ccf321fd3fdf3eb78adae:
// src/sagemaker_xgboost_container/algorithm_mode/serve.py:30-35, serve_utils.py:56-57, 551-552).
const (
	// maxBatchPayload is Batch Transform's largest MaxPayloadInMB.
	maxBatchPayload = 100 << 20
	// batchPredictTimeout is Batch Transform's default InvocationsTimeoutInSeconds.
	batchPredictTimeout    = 600 * time.Second
	compatSageMakerXGBoost = "sagemaker-xgboost"
)

// sageMakerConfig is what the SageMaker environment adds to config.
type sageMakerConfig struct {
	compatEnv  string // INFERSTACK_COMPAT: "", "sagemaker-xgboost" or "off"
	compat     server.Compat
	noEnsemble bool
}

// applySageMakerEnv reads SageMaker's variables into c. The server's own variables and flags
// win over them: MAX_BODY_BYTES over SAGEMAKER_MAX_PAYLOAD_IN_MB and MAX_CONTENT_LENGTH,
// PREDICT_TIMEOUT over SAGEMAKER_BATCH's 600 s.
func applySageMakerEnv(c *config, getenv func(string) string, explicit map[string]bool) []error {
	var problems []error
	sm := &c.sagemaker
	switch sm.compatEnv = getenv("INFERSTACK_COMPAT"); sm.compatEnv {
	case "", compatSageMakerXGBoost, "off":
	default:
		problems = append(problems, fmt.Errorf("INFERSTACK_COMPAT %q: want %s (answer as SageMaker's built-in XGBoost container), off, or unset (on for a built-in artifact, xgboost-model or xgboost-model-0..k)",
			sm.compatEnv, compatSageMakerXGBoost))
	}
	sm.compat.DefaultAccept = getenv("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT")
	if v, ok := lookup(getenv, "SAGEMAKER_INFERENCE_OUTPUT"); ok {
		keys, err := server.ParseOutputKeys(v)
		if err != nil {
			problems = append(problems, fmt.Errorf("SAGEMAKER_INFERENCE_OUTPUT %q: %w", v, err))
		}
		sm.compat.OutputKeys = keys
	}
	// The container tests truthiness: any non-empty value is on (serve.py:30, 241).
	sm.compat.Batch = getenv("SAGEMAKER_BATCH") != ""
	// Only "true" keeps the ensemble (serve_utils.py:551-552); unset is "true".
	if v, ok := lookup(getenv, "SAGEMAKER_INFERENCE_ENSEMBLE"); ok && v != "true" {
		sm.noEnsemble = true
	}

	if !explicit["max-body-bytes"] && getenv("MAX_BODY_BYTES") == "" {
		for _, key := range []string{"MAX_CONTENT_LENGTH", "SAGEMAKER_MAX_PAYLOAD_IN_MB"} {
			v := getenv(key)
			if v == "" {
				continue
			}
			n, err := strconv.ParseInt(v, 10, 64)
			unit := int64(1)
			if key == "SAGEMAKER_MAX_PAYLOAD_IN_MB" {
				unit = 1 << 20
			}
			if err != nil || n <= 0 || n > maxBatchPayload/unit {
				problems = append(problems, fmt.Errorf("%s %q: want a whole number from 1 to %d (100 MB, Batch Transform's largest payload)", key, v, maxBatchPayload/unit))
				break
			}
			c.maxBodyBytes = n * unit
			break // MAX_CONTENT_LENGTH, the container's own, wins over SageMaker's
		}
	}
	if sm.compat.Batch {
		if !explicit["predict-timeout"] && getenv("PREDICT_TIMEOUT") == "" {
			c.predictTimeout = batchPredictTimeout
		}
		if !explicit["max-response-bytes"] && getenv("MAX_RESPONSE_BYTES") == "" {
			c.maxRespBytes = max(c.maxRespBytes, c.maxBodyBytes)
		}
	}
	return problems
}

func lookup(getenv func(string) string, key string) (string, bool) {
	v := getenv(key)
	return v, v != ""
}

// compatFor says whether the server answers as the built-in container: INFERSTACK_COMPAT
// decides when set, else a built-in artifact turns it on.
func (sm *sageMakerConfig) compatFor(info model.Info) *server.Compat {
	switch {
	case sm.compatEnv == "off":
		return nil
	case sm.compatEnv == compatSageMakerXGBoost || info.Builtin:
		c := sm.compat
		if c.DefaultAccept == "" {
			c.DefaultAccept = "text/csv" // serve.py:174
		}
		return &c
	}
	return nil
}
