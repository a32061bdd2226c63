package main

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunServesABuiltinKFoldArtifact starts the server on the files of a k-fold model.tar.gz
// that SageMaker's built-in algorithm would have written (server/testdata/builtin, XGBoost
// 1.7.4): without any setting it answers as that container, CSV by default, the folds averaged.
func TestRunServesABuiltinKFoldArtifact(t *testing.T) {
	const fixture = "server/testdata/builtin/xgb-1.7.4/binary_logistic_3fold"
	f, err := os.Open(fixture + ".model.tar.gz")
	require.NoError(t, err)
	defer f.Close()
	gz, err := gzip.NewReader(f)
	require.NoError(t, err)
	dir := t.TempDir()
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		b, err := io.ReadAll(tr)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(h.Name)), b, 0o644))
	}
	var tc struct {
		Rows   [][]*float64      `json:"rows"`
		Bodies map[string]string `json:"bodies"`
	}
	data, err := os.ReadFile(fixture + ".cases.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &tc))
	var body strings.Builder
	for _, r := range tc.Rows {
		for i, v := range r {
			if i > 0 {
				body.WriteByte(',')
			}
			if v != nil {
				body.WriteString(strconv.FormatFloat(*v, 'g', -1, 64))
			}
		}
		body.WriteByte('\n')
	}

	base, logs, cancel, done := startRun(t, "serve", "-port", "0", "-drain-delay", "0s", "-model-dir", dir)
	loaded := logs.logLine("model loaded")
	require.NotNil(t, loaded)
	assert.Equal(t, true, loaded["builtin_artifact"])
	assert.EqualValues(t, 3, loaded["ensemble"])
	compat := logs.logLine("answering as SageMaker's built-in XGBoost container")
	require.NotNil(t, compat)
	assert.Equal(t, "text/csv", compat["default_accept"])

	resp, err := http.Post(base+"/invocations", "text/csv", strings.NewReader(body.String()))
	require.NoError(t, err)
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(got))
	assert.Equal(t, "text/csv", resp.Header.Get("Content-Type"))
	assert.Equal(t, tc.Bodies["text/csv"], string(got))
	cancel()
	require.NoError(t, <-done)
}
