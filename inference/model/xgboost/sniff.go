package xgboost

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// Parse reads every form an XGBoost model file takes by its content, whatever the file's name:
//
//	'{' then '"' (after spaces)     JSON                       Booster.save_model("m.json")
//	'{' then a UBJSON type marker   UBJSON                     "m.ubj"; 2.1+ for other names
//	"binf", or learner parameters   the legacy binary format   1.x for other names, 0.90 always
//	  then an objective and a booster name
//	0x80 then 2..5 (PROTO)          a pickled Booster          pickle.dump(booster)
//
// The binary check comes first: it tests the structure and not just a byte or two, and a
// binary model without "binf" starts with a float32 whose low byte may be anything.

// DetectFormat names the form of an XGBoost model file from its first bytes (Format,
// FormatUBJSON, FormatBinary or FormatPickle), or returns "" when head is none of them.
func DetectFormat(head []byte) string {
	switch {
	case SniffBinary(head):
		return FormatBinary
	case SniffPickle(head):
		return FormatPickle
	case SniffUBJSON(head):
		return FormatUBJSON
	case Sniff(head):
		return Format
	}
	return ""
}

// toJSON turns a model file of any form Parse reads into XGBoost's JSON schema text.
func toJSON(data []byte) ([]byte, error) {
	if _, err := legacyPrefix(data); err == nil {
		return binaryToJSON(data)
	}
	if isPickle(data) {
		return pickleToJSON(data)
	}
	if isUBJSON(data) {
		out, err := ubjsonToJSON(data)
		if err != nil {
			return nil, fmt.Errorf("not XGBoost UBJSON: %w", err)
		}
		return out, nil
	}
	if bytes.HasPrefix(data, binaryHeader) {
		// "binf" and nothing a binary model holds after it: say why rather than "not JSON".
		_, err := legacyPrefix(data)
		return nil, fmt.Errorf("not an XGBoost binary model: %w", err)
	}
	return data, nil
}

// pickleToJSON reads a pickled Booster and returns its model as JSON.
func pickleToJSON(data []byte) ([]byte, error) {
	pb, err := readPickle(data)
	if err != nil {
		return nil, err
	}
	h := pb.handle
	switch {
	case bytes.HasPrefix(h, []byte(configOffsetHeader)):
		// 1.0 to 1.3: the binary model, then the training configuration, which holds nothing
		// prediction needs that the model does not.
		rest := h[len(configOffsetHeader):]
		if len(rest) < 8 {
			return nil, fmt.Errorf("pickled Booster: %s without its offset", configOffsetHeader)
		}
		off := binary.LittleEndian.Uint64(rest)
		rest = rest[8:]
		if off == 0 || off > uint64(len(rest)) {
			return nil, fmt.Errorf("pickled Booster: %s %d outside the %d bytes that follow", configOffsetHeader, off, len(rest))
		}
		return pickledBinary(rest[:off], pb)
	case len(h) > 0 && h[0] == '{':
		// 1.4 and later: {"Config": ..., "Model": ...}, in JSON or (1.6 on) UBJSON.
		doc := h
		if isUBJSON(h) {
			if doc, err = ubjsonToJSON(h); err != nil {
				return nil, fmt.Errorf("pickled Booster: not XGBoost UBJSON: %w", err)
			}
		}
		m, err := jsonMember(doc, "Model")
		if err != nil {
			return nil, fmt.Errorf("pickled Booster: %w", err)
		}
		if m == nil {
			return doc, nil // a bare model, which XGBoost's Load also takes
		}
		return m, nil
	}
	// 0.90: Booster.save_raw(), the binary model.
	return pickledBinary(h, pb)
}

// pickledBinary reads the binary model of a pickle, adding the feature names and types that
// the pickle's state held beside it.
func pickledBinary(model []byte, pb *pickledBooster) ([]byte, error) {
	l, err := readBinary(model)
	if err != nil {
		return nil, fmt.Errorf("pickled Booster: %w", err)
	}
	if pb.featureNames != nil {
		l.doc.Learner.FeatureNames = pb.featureNames
	}
	if pb.featureTypes != nil {
		l.doc.Learner.FeatureTypes = pb.featureTypes
	}
	return json.Marshal(&l.doc)
}

// jsonMember returns the raw value of key in the JSON object doc, or nil when doc has no such
// key. It only scans: values are not decoded, so XGBoost's NaN and Infinity pass through to
// whatever reads the member.
func jsonMember(doc []byte, key string) ([]byte, error) {
	s := &jsonScan{b: doc}
	s.space()
	if !s.eat('{') {
		return nil, errors.New("not a JSON object")
	}
	for {
		s.space()
		if s.eat('}') {
			return nil, nil
		}
		k, err := s.str()
		if err != nil {
			return nil, err
		}
		s.space()
		if !s.eat(':') {
			return nil, fmt.Errorf("JSON at byte %d: want ':'", s.pos)
		}
		s.space()
		start := s.pos
		if err := s.skip(0); err != nil {
			return nil, err
		}
		if string(k) == key {
			return doc[start:s.pos], nil
		}
		s.space()
		if !s.eat(',') && (s.pos >= len(s.b) || s.b[s.pos] != '}') {
			return nil, fmt.Errorf("JSON at byte %d: want ',' or '}'", s.pos)
		}
	}
}

type jsonScan struct {
	b   []byte
	pos int
}

func (s *jsonScan) space() {
	for s.pos < len(s.b) && (s.b[s.pos] == ' ' || s.b[s.pos] == '\t' || s.b[s.pos] == '\n' || s.b[s.pos] == '\r') {
		s.pos++
	}
}

func (s *jsonScan) eat(c byte) bool {
	if s.pos < len(s.b) && s.b[s.pos] == c {
		s.pos++
		return true
	}
	return false
}

// str scans a string and returns its raw content (escapes left as they are).
func (s *jsonScan) str() ([]byte, error) {
	if !s.eat('"') {
		return nil, fmt.Errorf("JSON at byte %d: want a string", s.pos)
	}
	start := s.pos
	for s.pos < len(s.b) {
		switch s.b[s.pos] {
		case '\\':
			s.pos += 2
		case '"':
			s.pos++
			return s.b[start : s.pos-1], nil
		default:
			s.pos++
		}
	}
	return nil, fmt.Errorf("JSON: %w string", errTruncated)
}

// skip scans one value of any kind.
func (s *jsonScan) skip(depth int) error {
	if depth > maxUBJSONDepth {
		return fmt.Errorf("JSON nested deeper than %d", maxUBJSONDepth)
	}
	if s.pos >= len(s.b) {
		return fmt.Errorf("JSON: %w", errTruncated)
	}
	switch c := s.b[s.pos]; c {
	case '"':
		_, err := s.str()
		return err
	case '{', '[':
		closing := byte(']')
		if c == '{' {
			closing = '}'
		}
		s.pos++
		for first := true; ; first = false {
			s.space()
			if s.eat(closing) {
				return nil
			}
			if !first && !s.eat(',') {
				return fmt.Errorf("JSON at byte %d: want ',' or %q", s.pos, closing)
			}
			s.space()
			if c == '{' {
				if _, err := s.str(); err != nil {
					return err
				}
				s.space()
				if !s.eat(':') {
					return fmt.Errorf("JSON at byte %d: want ':'", s.pos)
				}
				s.space()
			}
			if err := s.skip(depth + 1); err != nil {
				return err
			}
		}
	}
	// A number, true, false, null, or XGBoost's NaN/Infinity: up to the next delimiter.
	start := s.pos
	for s.pos < len(s.b) && bytes.IndexByte([]byte(",]} \t\r\n"), s.b[s.pos]) < 0 {
		s.pos++
	}
	if s.pos == start {
		return fmt.Errorf("JSON at byte %d: want a value", s.pos)
	}
	return nil
}
