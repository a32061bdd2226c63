package server_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model"
	"github.com/inferstack/inferstack/inference/server"
)

// legacyDir holds the XGBoost binary models and pickled Boosters written by gen_legacy.py with
// XGBoost 1.7.4, and what its predict() returned for rows with missing values.
const legacyDir = "../model/xgboost/testdata/legacy"

// TestLegacyModelsThroughHTTP serves every legacy fixture as SageMaker would hand it over (a
// file named xgboost-model) and checks that CSV and JSON requests answer what XGBoost did.
func TestLegacyModelsThroughHTTP(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(legacyDir, "*.cases.json"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	served := 0
	for _, p := range paths {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		var c struct {
			Booster string              `json:"booster"`
			Forms   map[string][]string `json:"forms"`
			Rows    [][]*float64        `json:"rows"`
			Want    [][]float64         `json:"want"`
		}
		require.NoError(t, json.Unmarshal(data, &c))
		var csvBody strings.Builder
		var rows []string
		for _, row := range c.Rows {
			fields := make([]string, len(row))
			js := make([]string, len(row))
			for i, v := range row {
				js[i] = "null"
				if v != nil {
					fields[i] = strconv.FormatFloat(*v, 'g', -1, 64) // an empty field is missing
					js[i] = fields[i]
				}
			}
			csvBody.WriteString(strings.Join(fields, ",") + "\n")
			rows = append(rows, "["+strings.Join(js, ",")+"]")
		}
		jsonBody := `{"instances":[` + strings.Join(rows, ",") + `]}`

		files := make([]string, 0, len(c.Forms))
		for f := range c.Forms {
			files = append(files, f)
		}
		sort.Strings(files)
		for _, file := range files {
			t.Run(file, func(t *testing.T) {
				src, err := os.ReadFile(filepath.Join(legacyDir, file))
				require.NoError(t, err)
				dir := t.TempDir()
				require.NoError(t, os.WriteFile(filepath.Join(dir, "xgboost-model"), src, 0o644))
				m, err := model.Load(dir)
				require.NoError(t, err)
				served++
				s := newServer(t, m, server.Options{})
				for _, req := range []struct{ contentType, body string }{
					{"text/csv", csvBody.String()}, {"application/json", jsonBody},
				} {
					w := request(s, http.MethodPost, "/invocations", req.contentType, "text/csv", req.body)
					require.Equal(t, http.StatusOK, w.Code, w.Body.String())
					lines := strings.Split(strings.TrimSuffix(w.Body.String(), "\n"), "\n")
					require.Len(t, lines, len(c.Want), req.contentType)
					for r, line := range lines {
						fields := strings.Split(line, ",")
						require.Len(t, fields, len(c.Want[r]))
						for k, f := range fields {
							got, err := strconv.ParseFloat(f, 64)
							require.NoError(t, err)
							assert.InDelta(t, c.Want[r][k], got, 1e-5, "%s row %d output %d", req.contentType, r, k)
						}
					}
				}
			})
		}
	}
	assert.GreaterOrEqual(t, served, 30, "the gbtree and dart fixtures in every form are served")
}
