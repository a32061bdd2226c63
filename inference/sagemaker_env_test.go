package main

import (
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model"
)

// The variables are those the built-in container reads
// (aws/sagemaker-xgboost-container@cb8df91: algorithm_mode/serve.py:30-35, serve_utils.py:56-57, 551-552)
// and Batch Transform's (SAGEMAKER_MAX_PAYLOAD_IN_MB, SAGEMAKER_BATCH).
func TestSageMakerEnvironment(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		body    int64
		resp    int64
		timeout time.Duration
		batch   bool
		noEns   bool
	}{
		{name: "none", body: 6 << 20, resp: 6 << 20, timeout: 60 * time.Second},
		{name: "Batch Transform payload", env: map[string]string{"SAGEMAKER_MAX_PAYLOAD_IN_MB": "100", "SAGEMAKER_BATCH": "true"},
			body: 100 << 20, resp: 100 << 20, timeout: 600 * time.Second, batch: true},
		{name: "the container's MAX_CONTENT_LENGTH wins", env: map[string]string{"SAGEMAKER_MAX_PAYLOAD_IN_MB": "50", "MAX_CONTENT_LENGTH": "20971520"},
			body: 20 << 20, resp: 6 << 20, timeout: 60 * time.Second},
		{name: "the server's own wins", env: map[string]string{"SAGEMAKER_MAX_PAYLOAD_IN_MB": "50", "MAX_BODY_BYTES": "1000", "SAGEMAKER_BATCH": "1", "PREDICT_TIMEOUT": "90s"},
			body: 1000, resp: 6 << 20, timeout: 90 * time.Second, batch: true},
		{name: "flags win", args: []string{"-max-body-bytes", "2000", "-predict-timeout", "5s"}, env: map[string]string{"SAGEMAKER_MAX_PAYLOAD_IN_MB": "50", "SAGEMAKER_BATCH": "x"},
			body: 2000, resp: 6 << 20, timeout: 5 * time.Second, batch: true},
		{name: "ensemble off only by a value other than true", env: map[string]string{"SAGEMAKER_INFERENCE_ENSEMBLE": "false"},
			body: 6 << 20, resp: 6 << 20, timeout: 60 * time.Second, noEns: true},
		{name: "ensemble true", env: map[string]string{"SAGEMAKER_INFERENCE_ENSEMBLE": "true"},
			body: 6 << 20, resp: 6 << 20, timeout: 60 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseConfig(append([]string{"server"}, tc.args...), env(tc.env), io.Discard)
			require.NoError(t, err)
			assert.Equal(t, tc.body, c.maxBodyBytes)
			assert.Equal(t, tc.resp, c.maxRespBytes)
			assert.Equal(t, tc.timeout, c.predictTimeout)
			assert.Equal(t, tc.batch, c.sagemaker.compat.Batch)
			assert.Equal(t, tc.noEns, c.sagemaker.noEnsemble)
		})
	}
}

func TestSageMakerEnvironmentErrors(t *testing.T) {
	for key, vars := range map[string]map[string]string{
		"SAGEMAKER_MAX_PAYLOAD_IN_MB": {"SAGEMAKER_MAX_PAYLOAD_IN_MB": "101"},
		"MAX_CONTENT_LENGTH":          {"MAX_CONTENT_LENGTH": "lots"},
		"INFERSTACK_COMPAT":           {"INFERSTACK_COMPAT": "sagemaker"},
		"SAGEMAKER_INFERENCE_OUTPUT":  {"SAGEMAKER_INFERENCE_OUTPUT": "predicted_label,probabilty"},
	} {
		_, err := parseConfig([]string{"server"}, env(vars), io.Discard)
		require.Error(t, err, key)
		assert.Contains(t, err.Error(), key)
	}
}

func TestCompatSwitch(t *testing.T) {
	builtin := model.Info{Builtin: true}
	for _, tc := range []struct {
		compat string
		info   model.Info
		on     bool
	}{{"", model.Info{}, false}, {"", builtin, true}, {"sagemaker-xgboost", model.Info{}, true}, {"off", builtin, false}} {
		c, err := parseConfig([]string{"server"}, env(map[string]string{"INFERSTACK_COMPAT": tc.compat, "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "application/json"}), io.Discard)
		require.NoError(t, err)
		got := c.sagemaker.compatFor(tc.info)
		assert.Equal(t, tc.on, got != nil, "INFERSTACK_COMPAT=%q builtin=%v", tc.compat, tc.info.Builtin)
		if got != nil {
			assert.Equal(t, "application/json", got.DefaultAccept)
		}
	}
}
