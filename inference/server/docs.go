package server

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"html/template"
	"strings"

	"github.com/inferstack/inferstack/inference/model"
)

//go:embed docs.html.tmpl
var docsTemplate string

var docsPage = template.Must(template.New("docs").Funcs(template.FuncMap{"join": strings.Join}).Parse(docsTemplate))

// docsHTML renders the offline documentation page: everything inline, nothing from a CDN.
func docsHTML(info model.Info, maxBody int64, limits rowLimits, openapi []byte, compat *Compat, base LibSVMIndexBase) ([]byte, error) {
	row := make([]any, info.NumFeatures)
	for i := range row {
		row[i] = 0
	}
	jsonExample, err := json.Marshal(map[string]any{"instances": []any{row}})
	if err != nil {
		return nil, err
	}
	var objectExample []byte
	if len(info.Features) > 0 {
		named := make(map[string]any, len(info.Features))
		for _, f := range info.Features {
			named[f] = 0
		}
		if objectExample, err = json.Marshal(map[string]any{"instances": []any{named}}); err != nil {
			return nil, err
		}
	}
	csvRow := strings.TrimSuffix(strings.Repeat("0,", info.NumFeatures), ",")
	desc := info.Description
	if desc == "" {
		desc = "Serves a " + info.Format + " model."
	}
	var b bytes.Buffer
	err = docsPage.Execute(&b, map[string]any{
		"Info": info, "Description": desc, "Compat": compat, "LibSVMIndex": base.describe(info.NumFeatures), "CompatAccepts": CompatAccepts, "OutputKeys": OutputKeys,
		"InputTypes": acceptedContentTypes, "OutputAttribute": OutputAttribute, "MaxBody": maxBody, "OpenAPI": string(openapi),
		"RowsJSON": limits.rows[formatJSON], "RowsCSV": limits.rows[formatCSV],
		"JSONExample": string(jsonExample), "ObjectExample": string(objectExample), "CSVExample": csvRow + `\n` + csvRow,
	})
	return b.Bytes(), err
}
