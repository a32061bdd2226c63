package onnx

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// The ONNX file is a protobuf ModelProto. What this file reads of it needs no ONNX Runtime, so
// that the pure-Go server can recognise an ONNX model, and so that class names, which ONNX
// Runtime's C API does not expose, can be read from the classifier's attributes. Field numbers
// are those of onnx/onnx.proto3 (github.com/onnx/onnx, onnx/onnx.proto3, ONNX 1.12+): they are
// part of the file format and never change.
const (
	modelIRVersion    = 1 // int64
	modelProducerName = 2 // string
	modelGraph        = 7 // GraphProto
	modelOpsetImport  = 8 // repeated OperatorSetIdProto

	graphNode = 1 // repeated NodeProto

	nodeOpType    = 4 // string
	nodeAttribute = 5 // repeated AttributeProto
	nodeDomain    = 7 // string

	attrName    = 1 // string
	attrInts    = 8 // repeated int64 (packed or not)
	attrStrings = 9 // repeated bytes
)

// mlDomain is the domain of the ONNX-ML operators (TreeEnsembleClassifier, ZipMap, ...).
const mlDomain = "ai.onnx.ml"

// Sniff reports whether head, the first bytes of a file, look like an ONNX ModelProto: the
// ir_version field first, as every ONNX writer serialises it (fields in number order), with a
// plausible version, followed by well-formed fields of ModelProto's numbers.
func Sniff(head []byte) bool {
	num, typ, n := protowire.ConsumeTag(head)
	if n < 0 || num != modelIRVersion || typ != protowire.VarintType {
		return false
	}
	v, m := protowire.ConsumeVarint(head[n:])
	if m < 0 || v < 3 || v > 64 { // IR version 3 is ONNX 1.0; 10 is ONNX 1.16
		return false
	}
	b := head[n+m:]
	fields := 0
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false
		}
		if !knownModelField(num, typ) {
			return false
		}
		fields++
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			// A field cut off by the end of head is still evidence; anything else is not ONNX.
			return fields > 0 && typ == protowire.BytesType
		}
		b = b[n+m:]
	}
	return fields > 0
}

func knownModelField(num protowire.Number, typ protowire.Type) bool {
	switch num {
	case 1, 5: // ir_version, model_version
		return typ == protowire.VarintType
	case 2, 3, 4, 6, 7, 8, 14, 20, 25: // strings, graph, opset_import, metadata_props, training_info, functions
		return typ == protowire.BytesType
	}
	return false
}

// graphInfo is what is read from the ModelProto without ONNX Runtime.
type graphInfo struct {
	producer string
	// classifier is the op type of the graph's classifier node ("TreeEnsembleClassifier", ...)
	// and classes its class labels, as strings (int64 labels are written in decimal).
	classifier string
	classes    []string
	// zipMap reports whether the probabilities leave the graph through a ZipMap, as a sequence
	// of maps from class label to probability.
	zipMap bool
}

// classifierOps are the ONNX-ML operators whose classlabels_* attributes give the classes.
var classifierOps = map[string]bool{
	"TreeEnsembleClassifier": true,
	"LinearClassifier":       true,
	"SVMClassifier":          true,
}

// inspect reads the producer and the classifier's class labels from an ONNX file.
func inspect(data []byte) (graphInfo, error) {
	var gi graphInfo
	var graph []byte
	err := forEachField(data, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch {
		case num == modelProducerName && typ == protowire.BytesType:
			gi.producer = string(v)
		case num == modelGraph && typ == protowire.BytesType:
			graph = v
		}
		return nil
	})
	if err != nil {
		return gi, fmt.Errorf("not a readable ONNX model: %w", err)
	}
	if graph == nil {
		return gi, errors.New("not a readable ONNX model: it has no graph")
	}
	var zipClasses []string
	classifiers := 0
	err = forEachField(graph, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num != graphNode || typ != protowire.BytesType {
			return nil
		}
		op, domain, labels, err := readNode(v)
		if err != nil {
			return err
		}
		if domain != mlDomain {
			return nil
		}
		switch {
		case op == "ZipMap":
			gi.zipMap = true
			zipClasses = labels
		case classifierOps[op]:
			classifiers++
			gi.classifier, gi.classes = op, labels
		}
		return nil
	})
	if err != nil {
		return gi, fmt.Errorf("not a readable ONNX model: graph: %w", err)
	}
	if classifiers > 1 {
		// Which node's labels the outputs carry is then a matter of the graph's wiring; the
		// manifest's classes can name them.
		gi.classes = nil
	}
	if zipClasses != nil {
		gi.classes = zipClasses
	}
	return gi, nil
}

// readNode returns a node's op type and domain and its class labels, from the attribute
// classlabels_strings or classlabels_int64s.
func readNode(node []byte) (op, domain string, labels []string, err error) {
	err = forEachField(node, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case nodeOpType:
			op = string(v)
		case nodeDomain:
			domain = string(v)
		case nodeAttribute:
			name, l, err := readLabels(v)
			if err != nil {
				return fmt.Errorf("node attribute %q: %w", name, err)
			}
			if l != nil {
				labels = l
			}
		}
		return nil
	})
	return op, domain, labels, err
}

func readLabels(attr []byte) (name string, labels []string, err error) {
	var ints []int64
	var strs []string
	err = forEachField(attr, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == attrName && typ == protowire.BytesType:
			name = string(v)
		case num == attrStrings && typ == protowire.BytesType:
			strs = append(strs, string(v))
		case num == attrInts && typ == protowire.VarintType:
			ints = append(ints, int64(x))
		case num == attrInts && typ == protowire.BytesType: // packed
			for len(v) > 0 {
				x, n := protowire.ConsumeVarint(v)
				if n < 0 {
					return protowire.ParseError(n)
				}
				ints = append(ints, int64(x))
				v = v[n:]
			}
		}
		return nil
	})
	if err != nil {
		return name, nil, err
	}
	switch name {
	case "classlabels_strings":
		return name, strs, nil
	case "classlabels_int64s", "classlabels_ints": // TreeEnsembleClassifier and ZipMap; LinearClassifier and SVMClassifier
		labels = make([]string, len(ints))
		for i, v := range ints {
			labels[i] = fmt.Sprint(v)
		}
		return name, labels, nil
	}
	return name, nil, nil
}

// forEachField calls f for each top-level field of the protobuf message b: v is the payload of
// a length-delimited field, x the value of a varint.
func forEachField(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if err := f(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}
