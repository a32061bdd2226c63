//go:build !onnx

package onnx

import "errors"

// ErrNotBuilt is returned by Parse in a server built without the onnx tag.
var ErrNotBuilt = errors.New("this is the pure-Go build of the server, which cannot run ONNX models: " +
	"serve the model with the onnx image variant (inference/Dockerfile, `docker build --target onnx`; " +
	"ModelImage builds it when the model directory holds an .onnx model), " +
	"or locally with `CGO_ENABLED=1 go run -tags onnx ./inference` and ONNXRUNTIME_SHARED_LIBRARY_PATH " +
	"set to the library scripts/fetch-onnxruntime.sh prints")

func newSession([]byte, graphInfo, Options) (Model, error) { return nil, ErrNotBuilt }
