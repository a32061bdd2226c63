package server

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/inferstack/inferstack/inference/model"
)

// obj keeps the document literal below readable.
type obj = map[string]any

// openAPIDocument describes the routes for the loaded model: its input (feature count and
// names) and its output shape. It is built once at start-up.
func openAPIDocument(info model.Info, maxBody, maxResponse int64, compat *Compat, base LibSVMIndexBase) ([]byte, error) {
	nf := info.NumFeatures
	value := obj{"type": []string{"number", "null"}, "description": "a feature value; null is a missing value"}
	arrayRow := obj{
		"type": "array", "items": value, "minItems": nf, "maxItems": nf,
		"description": fmt.Sprintf("the %d feature values in model order%s", nf, featureList(info.Features)),
	}
	if hasCategories(info) {
		arrayRow["items"] = obj{"type": []string{"number", "string", "null"},
			"description": "a feature value; null is a missing value; a categorical feature takes its category code or name"}
	}
	rowSchemas := []any{arrayRow}
	if len(info.Features) > 0 {
		props := obj{}
		for i, f := range info.Features {
			props[f] = featureSchema(info, i, value)
		}
		rowSchemas = append(rowSchemas, obj{
			"type": "object", "properties": props, "additionalProperties": false, "minProperties": 1,
			"description": "feature values by name; an absent feature is a missing value, but a row needs at least one",
		})
	}
	rowSchemas = append(rowSchemas, tensorRowSchemas(info.Inputs, value)...) // tensor.go
	jsonRequest := obj{
		"type": "object", "required": []string{"instances"}, "additionalProperties": false,
		"properties": obj{"instances": obj{"type": "array", "minItems": 1, "items": obj{"oneOf": rowSchemas}}},
	}

	label := obj{"type": "integer", "minimum": 0, "description": "the class index"}
	if len(info.Classes) > 0 {
		label = obj{"type": "string", "enum": info.Classes, "description": "the class name"}
	}
	var prediction obj
	switch info.Task {
	case model.Binary:
		prediction = obj{"type": "object", "required": []string{"label", "probability"}, "properties": obj{
			"label":       label,
			"probability": obj{"type": "number", "description": "the probability of the positive class"},
		}}
	case model.MultiProba:
		prediction = obj{"type": "object", "required": []string{"label", "probabilities"}, "properties": obj{
			"label": label,
			"probabilities": obj{"type": "array", "items": obj{"type": "number"},
				"minItems": info.OutputWidth, "maxItems": info.OutputWidth, "description": "one probability per class, by class index"},
		}}
	case model.MultiClass:
		prediction = obj{"type": "object", "required": []string{"label"}, "properties": obj{"label": label}}
	case model.Values:
		prediction = obj{"type": "object", "required": []string{"values"}, "properties": obj{
			"values": obj{"type": "array", "items": obj{"type": []string{"number", "null"}},
				"minItems": info.OutputWidth, "maxItems": info.OutputWidth, "description": "the model's output values for the row; null when not finite"},
		}}
	case model.Regression:
		if info.OutputWidth > 1 {
			prediction = obj{"type": "object", "required": []string{"values"}, "properties": obj{
				"values": obj{"type": "array", "items": obj{"type": []string{"number", "null"}},
					"minItems": info.OutputWidth, "maxItems": info.OutputWidth, "description": "one output per target or quantile, in model order; null when not finite"},
			}}
			break
		}
		fallthrough
	default:
		prediction = obj{"type": "object", "required": []string{"value"}, "properties": obj{
			"value": obj{"type": []string{"number", "null"}, "description": "the model's output; null when not finite"},
		}}
	}
	csvOut := "one line per row holding exactly what the training library's predict() returns for it"
	switch {
	case info.Task == model.Values:
		csvOut += fmt.Sprintf(": %d comma-separated values", info.OutputWidth)
	case info.Task == model.Regression && info.OutputWidth > 1:
		csvOut += fmt.Sprintf(": %d comma-separated outputs (one per target or quantile)", info.OutputWidth)
	case info.OutputWidth > 1:
		csvOut += fmt.Sprintf(": %d comma-separated class probabilities", info.OutputWidth)
	}

	errorResponse := func(desc string) obj {
		return obj{"description": desc, "content": obj{"application/json": obj{"schema": obj{"$ref": "#/components/schemas/Error"}}}}
	}
	status := func(s string) obj {
		return obj{"type": "object", "properties": obj{"status": obj{"const": s}}}
	}
	otherErrors := errorResponse("400, 431 or 501 for a request net/http cannot parse; 404 for another path, 405 for another method")
	desc := info.Description
	if desc == "" {
		desc = fmt.Sprintf("Serves a %s model (%s, %s).", info.Format, info.Objective, info.Task)
	}
	doc := obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":       "inferstack inference server",
			"version":     "1",
			"description": desc,
		},
		"paths": obj{
			"/ping": obj{"get": obj{
				"summary": "Health check (SageMaker calls it every few seconds).",
				"responses": obj{
					"200":     obj{"description": "the model is loaded", "content": obj{"application/json": obj{"schema": status("UP")}}},
					"503":     obj{"description": "the server is shutting down", "content": obj{"application/json": obj{"schema": status("DOWN")}}},
					"default": otherErrors,
				},
			}},
			"/invocations": obj{"post": obj{
				"summary": "Predict a batch of rows.",
				"parameters": []any{
					obj{"name": "Accept", "in": "header", "required": false,
						"description": "application/json or text/csv; wildcards (*/*, text/*, application/*) and q-values are honoured, JSON on ties and when absent",
						"schema":      obj{"type": "string", "default": "*/*", "examples": []string{"application/json", "text/csv", "*/*", "text/csv, */*;q=0.1"}}},
					obj{"name": "Content-Encoding", "in": "header", "required": false,
						"description": "gzip (x-gzip) once, or identity; the decompressed body is held to the same limits",
						"schema":      obj{"type": "string", "enum": []string{"gzip", "x-gzip", "identity"}}},
				},
				"requestBody": obj{
					"required":    true,
					"description": fmt.Sprintf("at most %d bytes", maxBody),
					"content": builtinInputContent(obj{
						"application/json": obj{"schema": jsonRequest},
						"text/csv": obj{"schema": obj{"type": "string",
							"description": fmt.Sprintf("no header; one row of %d comma-separated values per line; an empty field is a missing value", nf)}},
					}, nf, base),
				},
				"responses": obj{
					"200": obj{"description": "one prediction per row, in order", "content": obj{
						"application/json": obj{"schema": obj{"type": "object", "required": []string{"predictions"},
							"properties": obj{"predictions": obj{"type": "array", "items": obj{"$ref": "#/components/schemas/Prediction"}}}}},
						"text/csv": obj{"schema": obj{"type": "string", "description": csvOut}},
					}},
					"400": errorResponse("malformed body, wrong feature count, non-numeric or unknown feature, invalid gzip, or a request net/http cannot parse"),
					"406": errorResponse("Accept allows neither application/json nor text/csv"),
					"408": errorResponse("the body stopped arriving and the server's read timeout passed"),
					"413": errorResponse(fmt.Sprintf("body (or decompressed body) larger than %d bytes, or more rows than fit in the %d-byte response limit (too_many_rows, which says how many fit)", maxBody, maxResponse)),
					"415": errorResponse("Content-Type is not one listed in requestBody (or text/csv with a label_size other than 1), or Content-Encoding is neither gzip nor identity"),
					"431": errorResponse("the request header is too large"),
					"500": errorResponse("internal error; details are in the server log"),
					"501": errorResponse("a Transfer-Encoding the server does not implement"),
					"503": errorResponse("prediction exceeded the per-request deadline"),
				},
			}},
			"/openapi.json": obj{"get": obj{"summary": "This document.",
				"responses": obj{"200": obj{"description": "OpenAPI 3.1", "content": obj{"application/json": obj{}}}, "default": otherErrors}}},
			"/docs": obj{"get": obj{"summary": "This document as a page that works offline.",
				"responses": obj{"200": obj{"description": "HTML", "content": obj{"text/html": obj{}}}, "default": otherErrors}}},
			"/metrics": obj{"get": obj{"summary": "Prometheus metrics.",
				"responses": obj{"200": obj{"description": "Prometheus text format", "content": obj{"text/plain": obj{}}}, "default": otherErrors}}},
		},
		"components": obj{"schemas": obj{
			"Prediction": prediction,
			"Error": obj{"type": "object", "required": []string{"error"}, "properties": obj{"error": obj{
				"type": "object", "required": []string{"code", "message"},
				"properties": obj{"code": obj{"type": "string"}, "message": obj{"type": "string"}},
			}}},
		}},
		"x-model": obj{
			"format": info.Format, "source": info.Source, "objective": info.Objective, "task": info.Task.String(),
			"numFeatures": nf, "features": info.Features, "featureTypes": info.FeatureTypes, "categories": info.Categories,
			"numClasses": info.NumClasses, "classes": info.Classes,
			"outputWidth": info.OutputWidth,
		},
	}
	paths := doc["paths"].(obj)
	paths["/execution-parameters"] = obj{"get": obj{
		"summary": "Batch Transform's start-up question, answered as SageMaker's built-in XGBoost container does.",
		"responses": obj{"200": obj{"description": "MaxConcurrentTransforms is the CPU count, MaxPayloadInMB the body limit in whole MB",
			"content": obj{"application/json": obj{"schema": obj{"type": "object", "properties": obj{
				"MaxConcurrentTransforms": obj{"type": "integer"}, "BatchStrategy": obj{"const": "MULTI_RECORD"},
				"MaxPayloadInMB": obj{"type": "integer"}}}}}}, "default": otherErrors},
	}}
	inv := paths["/invocations"].(obj)["post"].(obj)
	inv["parameters"] = append(inv["parameters"].([]any),
		obj{"name": customAttributesHeader, "in": "header", "required": false,
			"description": "up to 1024 visible US-ASCII characters, echoed in the response (InvokeEndpoint's CustomAttributes); in sagemaker-xgboost mode " +
				OutputAttribute + "=k1,k2 among ';'-separated attributes selects this request's outputs, as SAGEMAKER_INFERENCE_OUTPUT does",
			"schema": obj{"type": "string", "maxLength": maxCustomAttributes, "examples": []string{OutputAttribute + "=predicted_label,probability"}}},
		obj{"name": inferenceIDHeader, "in": "header", "required": false,
			"description": "logged with the request (inference_id), so that data capture joins the logs", "schema": obj{"type": "string"}})
	mode := "inferstack"
	if compat != nil {
		mode = "sagemaker-xgboost"
		inv["parameters"].([]any)[0] = obj{"name": "Accept", "in": "header", "required": false,
			"description": "the media type before any ';' is one of " + strings.Join(CompatAccepts, ", ") + "; absent or */* is " + compat.DefaultAccept +
				" (SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT); a list or another type is 406, as in SageMaker's built-in XGBoost container",
			"schema": obj{"type": "string", "enum": append([]string{"*/*"}, CompatAccepts...), "default": compat.DefaultAccept}}
		score := "the prediction: a number, or a list of numbers for multi:softprob"
		outputs := "raw predictions"
		if compat.OutputKeys != nil {
			outputs = "the outputs " + strings.Join(compat.OutputKeys, ", ") + " (SAGEMAKER_INFERENCE_OUTPUT); a key the objective has not is NaN"
		}
		batch := ""
		if compat.Batch {
			batch = "; SAGEMAKER_BATCH is set, so every type is one line per row, Python's str() of the prediction"
		}
		resp := inv["responses"].(obj)
		resp["200"] = obj{"description": "one prediction per row, in order, written as SageMaker's built-in XGBoost container writes " + outputs + batch,
			"content": obj{
				"text/csv":              obj{"schema": obj{"type": "string", "description": "one line per row: the score(s), comma-separated; with selected outputs the keys in the order asked, lists quoted"}},
				"application/json":      obj{"schema": obj{"type": "object", "description": `{"predictions": [{"score": ...}, ...]}, or the selected keys per prediction; ` + score}},
				"application/jsonlines": obj{"schema": obj{"type": "string", "description": `one JSON object per line: {"score": ...} or the selected keys`}},
				"application/x-recordio-protobuf": obj{"schema": obj{"type": "string", "format": "binary",
					"description": "one RecordIO-framed Record per row; each output (score, or each selected key) a float32 tensor under label"}},
			}}
		resp["204"] = obj{"description": "the body was empty"}
		resp["406"] = errorResponse("Accept is not one of " + strings.Join(CompatAccepts, ", "))
	}
	doc["x-mode"] = mode
	return json.MarshalIndent(doc, "", "  ")
}

func featureList(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return ": " + strings.Join(names, ", ")
}

func hasCategories(info model.Info) bool {
	for _, c := range info.Categories {
		if len(c) > 0 {
			return true
		}
	}
	return false
}

// featureSchema describes feature i by name: a number, or for a categorical feature its code
// or, when the names are known, one of them.
func featureSchema(info model.Info, i int, value obj) obj {
	categorical := i < len(info.FeatureTypes) && info.FeatureTypes[i] == "c"
	if i < len(info.Categories) && len(info.Categories[i]) > 0 {
		return obj{"description": "a categorical feature: a category name, its code (0 for the first name), or null for a missing value",
			"oneOf": []any{obj{"type": "string", "enum": info.Categories[i]}, obj{"type": "integer", "minimum": 0}, obj{"type": "null"}}}
	}
	if categorical {
		return obj{"type": []string{"integer", "null"}, "minimum": 0, "description": "a categorical feature: the category code; null is a missing value"}
	}
	return value
}
