package xgboost

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// A pickled Booster is what pickle.dump(booster) writes, and what SageMaker's XGBoost 0.90 and
// 1.0 containers saved as "xgboost-model". xgboost.core.Booster's __getstate__ (python-package/
// xgboost/core.py at v0.90, v1.0.0 and v1.7.4) returns the instance's __dict__ with "handle"
// replaced by a bytearray of the C++ booster:
//
//	0.90      Booster.save_raw(): the legacy binary model (XGBoosterGetModelRaw)
//	1.0-1.3   XGBoosterSerializeToBuffer: "CONFIG-offset:", an int64 offset, the binary model,
//	          then the JSON training configuration (src/learner.cc LearnerIO::Save at v1.0.0)
//	1.4-1.5   the same call: a JSON object {"Config": ..., "Model": <the JSON model>}
//	1.6 on    the same object in UBJSON (src/learner.cc LearnerIO::Save at v1.7.4)
//
// Up to 1.0 the dict also holds feature_names and feature_types (None or lists of str), which
// the binary model does not store; later versions keep them inside the model.
//
// Unpickling runs code named by the file, so this reader executes nothing: it interprets the
// opcodes of protocols 2 to 5 as data and accepts only the objects such a file contains
// (the Booster class, its state dict, bytes, bytearray, str, numbers, None, lists, tuples).
// Any other global, or a call to anything but bytearray/bytes, is refused with its name.

// FormatPickle names a pickled xgboost.core.Booster.
const FormatPickle = "xgboost-pickle"

// configOffsetHeader starts XGBoosterSerializeToBuffer's output in 1.0 to 1.3.
const configOffsetHeader = "CONFIG-offset:"

// maxPickleDepth bounds the nesting of marks, so that a hostile file cannot make the stack
// of marks outgrow the input.
const maxPickleDepth = 64

// Pickle opcodes (CPython Lib/pickle.py) that a Booster pickle uses.
const (
	opMark           = '('
	opStop           = '.'
	opPop            = '0'
	opPopMark        = '1'
	opBinInt         = 'J'
	opBinInt1        = 'K'
	opBinInt2        = 'M'
	opNone           = 'N'
	opReduce         = 'R'
	opBinString      = 'T'
	opShortBinString = 'U'
	opBinUnicode     = 'X'
	opAppend         = 'a'
	opBuild          = 'b'
	opGlobal         = 'c'
	opEmptyDict      = '}'
	opAppends        = 'e'
	opBinGet         = 'h'
	opLongBinGet     = 'j'
	opEmptyList      = ']'
	opBinPut         = 'q'
	opLongBinPut     = 'r'
	opSetItem        = 's'
	opTuple          = 't'
	opEmptyTuple     = ')'
	opSetItems       = 'u'
	opBinFloat       = 'G'
	opProto          = 0x80
	opNewObj         = 0x81
	opTuple1         = 0x85
	opTuple2         = 0x86
	opTuple3         = 0x87
	opNewTrue        = 0x88
	opNewFalse       = 0x89
	opLong1          = 0x8a
	opBinBytes       = 'B'
	opShortBinBytes  = 'C'
	opShortBinUni    = 0x8c
	opBinUnicode8    = 0x8d
	opBinBytes8      = 0x8e
	opMemoize        = 0x94
	opFrame          = 0x95
	opStackGlobal    = 0x93
	opByteArray8     = 0x96
)

// Values on the unpickler's stack.
type (
	pyStr   string
	pyBytes []byte
	pyInt   int64
	pyFloat float64
	pyBool  bool
	pyNone  struct{}
	pyTuple []any
	pyList  struct{ items []any }
	pyDict  struct {
		index map[string]int // position of each key, so that a large dict stays linear to build
		keys  []string
		vals  []any
	}
	pyGlobal struct{ module, name string }
	// pyBooster is a Booster object after NEWOBJ; BUILD gives it its state.
	pyBooster struct{ state *pyDict }
	pyMark    struct{}
)

func (d *pyDict) get(k string) (any, bool) {
	i, ok := d.index[k]
	if !ok {
		return nil, false
	}
	return d.vals[i], true
}

func (d *pyDict) set(k any, v any) error {
	s, ok := k.(pyStr)
	if !ok {
		return fmt.Errorf("dict key of type %s: a Booster's state has str keys", pyType(k))
	}
	if i, ok := d.index[string(s)]; ok {
		d.vals[i] = v
		return nil
	}
	if d.index == nil {
		d.index = map[string]int{}
	}
	d.index[string(s)] = len(d.keys)
	d.keys = append(d.keys, string(s))
	d.vals = append(d.vals, v)
	return nil
}

// pickledBooster is what a Booster pickle holds.
type pickledBooster struct {
	handle       []byte
	featureNames []string
	featureTypes []string
}

// unpickler interprets pickle opcodes as data.
type unpickler struct {
	in    []byte
	pos   int
	stack []any
	marks []int
	memo  map[uint32]any
	// first is the first global the file names, kept for the sniffer's message.
	first *pyGlobal
}

// SniffPickle reports whether head, the first bytes of a file, is a pickled
// xgboost.core.Booster (protocol 2 to 5). Parse reads it.
func SniffPickle(head []byte) bool {
	g, _ := pickleClass(head)
	return g == "xgboost.core.Booster"
}

// isPickle reports whether data starts with a PROTO opcode of protocol 2 to 5.
func isPickle(data []byte) bool {
	return len(data) > 1 && data[0] == opProto && data[1] >= 2 && data[1] <= 5
}

// pickleClass returns the module.name of the first class or function a pickle names (the
// object it holds), or "" with the reason it cannot tell.
func pickleClass(head []byte) (string, error) {
	if !isPickle(head) {
		return "", errors.New("not a pickle of protocol 2 to 5")
	}
	u := &unpickler{in: head, memo: map[uint32]any{}}
	_, err := u.run()
	if u.first == nil {
		return "", err
	}
	return u.first.module + "." + u.first.name, nil
}

// PickleHint describes a pickle that is not a Booster, for the error that lists what a model
// directory holds: what class it holds and how to save a model from it. It returns "" for
// anything else.
func PickleHint(head []byte) string {
	if bytes.HasPrefix(head, []byte("ccopy_reg\n_reconstructor\n")) && bytes.Contains(head, []byte("cxgboost.core\nBooster\n")) {
		// How protocols 0 and 1 (Python 2's default) spell an object; no PROTO opcode.
		return " is a Python pickle of an xgboost.core.Booster at protocol 0 or 1, which is not read: " +
			`pickle it again with protocol 2 or later, or save it with booster.save_model("model.json")`
	}
	if !isPickle(head) || SniffPickle(head) {
		return ""
	}
	g, _ := pickleClass(head)
	switch {
	case g == "":
		return " is a Python pickle whose object this reader cannot tell; only a pickled xgboost.core.Booster is read: " +
			`load it in Python and save the booster with booster.save_model("model.json")`
	case strings.HasPrefix(g, "xgboost.sklearn."):
		return fmt.Sprintf(" is a Python pickle of %s, not of an xgboost.core.Booster: load it in Python and save its booster with "+
			`model.get_booster().save_model("model.json")`, g)
	}
	return fmt.Sprintf(" is a Python pickle of %s; only a pickled xgboost.core.Booster is read", g)
}

// readPickle reads a pickled Booster.
func readPickle(data []byte) (*pickledBooster, error) {
	if !isPickle(data) {
		return nil, errors.New("not a Python pickle of protocol 2 to 5")
	}
	u := &unpickler{in: data, memo: map[uint32]any{}}
	top, err := u.run()
	if err != nil {
		return nil, fmt.Errorf("pickle at byte %d: %w", u.pos, err)
	}
	b, ok := top.(*pyBooster)
	if !ok {
		return nil, fmt.Errorf("the pickle holds a %s, not an xgboost.core.Booster", pyType(top))
	}
	if b.state == nil {
		return nil, errors.New("the pickled Booster has no state")
	}
	h, ok := b.state.get("handle")
	if !ok {
		return nil, errors.New(`the pickled Booster's state has no "handle"`)
	}
	pb := &pickledBooster{}
	switch h := h.(type) {
	case pyBytes:
		pb.handle = h
	case pyNone:
		return nil, errors.New(`the pickled Booster's "handle" is None: it holds no model`)
	default:
		return nil, fmt.Errorf(`the pickled Booster's "handle" is a %s, want bytearray`, pyType(h))
	}
	if pb.featureNames, err = stringList(b.state, "feature_names"); err != nil {
		return nil, err
	}
	if pb.featureTypes, err = stringList(b.state, "feature_types"); err != nil {
		return nil, err
	}
	return pb, nil
}

// stringList reads an optional state entry that is None or a list of str.
func stringList(d *pyDict, key string) ([]string, error) {
	v, ok := d.get(key)
	if !ok {
		return nil, nil
	}
	switch v := v.(type) {
	case pyNone:
		return nil, nil
	case *pyList:
		out := make([]string, len(v.items))
		for i, it := range v.items {
			s, ok := it.(pyStr)
			if !ok {
				return nil, fmt.Errorf("the pickled Booster's %s[%d] is a %s, want str", key, i, pyType(it))
			}
			out[i] = string(s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("the pickled Booster's %s is a %s, want a list of str or None", key, pyType(v))
}

func pyType(v any) string {
	switch v := v.(type) {
	case pyStr:
		return "str"
	case pyBytes:
		return "bytes"
	case pyInt:
		return "int"
	case pyFloat:
		return "float"
	case pyBool:
		return "bool"
	case pyNone:
		return "None"
	case pyTuple:
		return "tuple"
	case *pyList:
		return "list"
	case *pyDict:
		return "dict"
	case pyGlobal:
		return v.module + "." + v.name
	case *pyBooster:
		return "xgboost.core.Booster"
	case pyMark:
		return "mark"
	}
	return fmt.Sprintf("%T", v)
}

func (u *unpickler) take(n uint64) ([]byte, error) {
	if n > uint64(len(u.in)-u.pos) {
		return nil, fmt.Errorf("%w: %d bytes wanted, %d left", errTruncated, n, len(u.in)-u.pos)
	}
	b := u.in[u.pos : u.pos+int(n)]
	u.pos += int(n)
	return b, nil
}

func (u *unpickler) uint(size int) (uint64, error) {
	b, err := u.take(uint64(size))
	if err != nil {
		return 0, err
	}
	switch size {
	case 1:
		return uint64(b[0]), nil
	case 2:
		return uint64(binary.LittleEndian.Uint16(b)), nil
	case 4:
		return uint64(binary.LittleEndian.Uint32(b)), nil
	}
	return binary.LittleEndian.Uint64(b), nil
}

// sized reads a length of size bytes, then that many bytes.
func (u *unpickler) sized(size int) ([]byte, error) {
	n, err := u.uint(size)
	if err != nil {
		return nil, err
	}
	return u.take(n)
}

func (u *unpickler) line() (string, error) {
	for i := u.pos; i < len(u.in) && i-u.pos <= 256; i++ {
		if u.in[i] == '\n' {
			s := string(u.in[u.pos:i])
			u.pos = i + 1
			return s, nil
		}
	}
	return "", errors.New("GLOBAL without a module and name line")
}

func (u *unpickler) push(v any) { u.stack = append(u.stack, v) }

func (u *unpickler) pop() (any, error) {
	if len(u.stack) == 0 || (len(u.marks) > 0 && len(u.stack) == u.marks[len(u.marks)-1]) {
		return nil, errors.New("stack underflow")
	}
	v := u.stack[len(u.stack)-1]
	u.stack = u.stack[:len(u.stack)-1]
	return v, nil
}

// popMark pops everything above the last MARK.
func (u *unpickler) popMark() ([]any, error) {
	if len(u.marks) == 0 {
		return nil, errors.New("no MARK to pop to")
	}
	m := u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	items := append([]any(nil), u.stack[m:]...)
	u.stack = u.stack[:m]
	return items, nil
}

func (u *unpickler) top() (any, error) {
	if len(u.stack) == 0 || (len(u.marks) > 0 && len(u.stack) == u.marks[len(u.marks)-1]) {
		return nil, errors.New("stack underflow")
	}
	return u.stack[len(u.stack)-1], nil
}

func (u *unpickler) str(b []byte) (pyStr, error) {
	if !utf8.Valid(b) {
		return "", errors.New("a str is not valid UTF-8")
	}
	return pyStr(b), nil
}

// global resolves a class or function name: only the ones a Booster pickle names.
func (u *unpickler) global(module, name string) (pyGlobal, error) {
	g := pyGlobal{module, name}
	if u.first == nil {
		u.first = &g
	}
	switch module + "." + name {
	case "xgboost.core.Booster",
		"builtins.bytearray", "__builtin__.bytearray",
		"builtins.bytes", "__builtin__.bytes",
		"_codecs.encode":
		return g, nil
	}
	return g, fmt.Errorf("the pickle refers to %s.%s: only a pickled xgboost.core.Booster is read (nothing in the file is executed)", module, name)
}

// reduce applies one of the few callables a Booster pickle calls: bytearray and bytes, which
// protocol 2 spells as bytearray(str, "latin-1") and _codecs.encode(str, "latin1").
func reduce(f pyGlobal, args pyTuple) (any, error) {
	name := f.module + "." + f.name
	switch {
	case name == "_codecs.encode" && len(args) == 2:
		return latin1(args[0], args[1])
	case f.name == "bytearray" || f.name == "bytes":
		switch len(args) {
		case 0:
			return pyBytes{}, nil
		case 1:
			if b, ok := args[0].(pyBytes); ok {
				return b, nil
			}
		case 2:
			return latin1(args[0], args[1])
		}
	case name == "xgboost.core.Booster":
		return nil, errors.New("the pickle calls xgboost.core.Booster(...) rather than restoring its state")
	}
	return nil, fmt.Errorf("the pickle calls %s with %d arguments, which a pickled Booster does not", name, len(args))
}

// latin1 encodes a str whose code points are bytes, as protocol 2 stores bytes.
func latin1(s, enc any) (pyBytes, error) {
	str, ok1 := s.(pyStr)
	e, ok2 := enc.(pyStr)
	if !ok1 || !ok2 || (e != "latin1" && e != "latin-1") {
		return nil, errors.New(`bytes in a protocol 2 pickle: want (str, "latin1")`)
	}
	out := make([]byte, 0, len(str))
	for _, r := range string(str) {
		if r > 0xff {
			return nil, fmt.Errorf("latin-1 bytes hold code point %U", r)
		}
		out = append(out, byte(r))
	}
	return pyBytes(out), nil
}

// run interprets opcodes up to STOP and returns the object it leaves. Every opcode consumes
// input, so it ends; every allocation is bounded by the input read.
func (u *unpickler) run() (any, error) {
	for {
		if u.pos >= len(u.in) {
			return nil, fmt.Errorf("%w: no STOP", errTruncated)
		}
		op := u.in[u.pos]
		u.pos++
		if err := u.step(op); err != nil {
			if errors.Is(err, errStop) {
				v, err := u.pop()
				if err != nil {
					return nil, err
				}
				if len(u.stack) != 0 || len(u.marks) != 0 {
					return nil, errors.New("STOP with more than one object on the stack")
				}
				return v, nil
			}
			return nil, fmt.Errorf("opcode 0x%02x: %w", op, err)
		}
	}
}

var errStop = errors.New("STOP")

func (u *unpickler) step(op byte) error {
	switch op {
	case opProto:
		v, err := u.uint(1)
		if err != nil {
			return err
		}
		if v < 2 || v > 5 {
			return fmt.Errorf("protocol %d: want 2 to 5", v)
		}
	case opFrame:
		_, err := u.uint(8) // framing only groups the opcodes that follow
		return err
	case opStop:
		return errStop
	case opMark:
		if len(u.marks) >= maxPickleDepth {
			return fmt.Errorf("more than %d nested MARKs", maxPickleDepth)
		}
		u.marks = append(u.marks, len(u.stack))
	case opPop:
		_, err := u.pop()
		return err
	case opPopMark:
		_, err := u.popMark()
		return err
	case opNone:
		u.push(pyNone{})
	case opNewTrue:
		u.push(pyBool(true))
	case opNewFalse:
		u.push(pyBool(false))
	case opBinInt:
		v, err := u.uint(4)
		if err != nil {
			return err
		}
		u.push(pyInt(int32(v)))
	case opBinInt1:
		v, err := u.uint(1)
		if err != nil {
			return err
		}
		u.push(pyInt(v))
	case opBinInt2:
		v, err := u.uint(2)
		if err != nil {
			return err
		}
		u.push(pyInt(v))
	case opLong1:
		b, err := u.sized(1)
		if err != nil {
			return err
		}
		if len(b) > 8 {
			return fmt.Errorf("an integer of %d bytes", len(b))
		}
		var v int64
		for i := len(b) - 1; i >= 0; i-- {
			v = v<<8 | int64(b[i])
		}
		if n := len(b); n > 0 && n < 8 && b[n-1]&0x80 != 0 {
			v -= 1 << (8 * n) // two's complement
		}
		u.push(pyInt(v))
	case opBinFloat:
		b, err := u.take(8)
		if err != nil {
			return err
		}
		u.push(pyFloat(math.Float64frombits(binary.BigEndian.Uint64(b))))
	case opShortBinUni, opBinUnicode, opBinUnicode8:
		size := lengthSize(op)
		b, err := u.sized(size)
		if err != nil {
			return err
		}
		s, err := u.str(b)
		if err != nil {
			return err
		}
		u.push(s)
	case opShortBinString, opBinString:
		// Python 2's str: text in a Booster's state, as latin-1.
		size := lengthSize(op)
		b, err := u.sized(size)
		if err != nil {
			return err
		}
		var sb strings.Builder
		for _, c := range b {
			sb.WriteRune(rune(c))
		}
		u.push(pyStr(sb.String()))
	case opShortBinBytes, opBinBytes, opBinBytes8, opByteArray8:
		size := lengthSize(op)
		b, err := u.sized(size)
		if err != nil {
			return err
		}
		u.push(pyBytes(b))
	case opEmptyTuple:
		u.push(pyTuple{})
	case opTuple1, opTuple2, opTuple3:
		n := int(op-opTuple1) + 1
		t := make(pyTuple, n)
		for i := n - 1; i >= 0; i-- {
			v, err := u.pop()
			if err != nil {
				return err
			}
			t[i] = v
		}
		u.push(t)
	case opTuple:
		items, err := u.popMark()
		if err != nil {
			return err
		}
		u.push(pyTuple(items))
	case opEmptyList:
		u.push(&pyList{})
	case opEmptyDict:
		u.push(&pyDict{})
	case opAppend:
		v, err := u.pop()
		if err != nil {
			return err
		}
		return u.appendTo([]any{v})
	case opAppends:
		items, err := u.popMark()
		if err != nil {
			return err
		}
		return u.appendTo(items)
	case opSetItem:
		v, err := u.pop()
		if err != nil {
			return err
		}
		k, err := u.pop()
		if err != nil {
			return err
		}
		return u.setItems([]any{k, v})
	case opSetItems:
		items, err := u.popMark()
		if err != nil {
			return err
		}
		return u.setItems(items)
	case opBinPut, opLongBinPut:
		i, err := u.uint(lengthSize(op))
		if err != nil {
			return err
		}
		v, err := u.top()
		if err != nil {
			return err
		}
		u.memo[uint32(i)] = v
	case opMemoize:
		v, err := u.top()
		if err != nil {
			return err
		}
		u.memo[uint32(len(u.memo))] = v
	case opBinGet, opLongBinGet:
		i, err := u.uint(lengthSize(op))
		if err != nil {
			return err
		}
		v, ok := u.memo[uint32(i)]
		if !ok {
			return fmt.Errorf("memo entry %d was never stored", i)
		}
		u.push(v)
	case opGlobal:
		module, err := u.line()
		if err != nil {
			return err
		}
		name, err := u.line()
		if err != nil {
			return err
		}
		g, err := u.global(module, name)
		if err != nil {
			return err
		}
		u.push(g)
	case opStackGlobal:
		name, err := u.pop()
		if err != nil {
			return err
		}
		module, err := u.pop()
		if err != nil {
			return err
		}
		m, ok1 := module.(pyStr)
		n, ok2 := name.(pyStr)
		if !ok1 || !ok2 {
			return errors.New("STACK_GLOBAL without a module and name")
		}
		g, err := u.global(string(m), string(n))
		if err != nil {
			return err
		}
		u.push(g)
	case opReduce:
		args, err := u.pop()
		if err != nil {
			return err
		}
		f, err := u.pop()
		if err != nil {
			return err
		}
		g, ok1 := f.(pyGlobal)
		t, ok2 := args.(pyTuple)
		if !ok1 || !ok2 {
			return fmt.Errorf("REDUCE of a %s", pyType(f))
		}
		v, err := reduce(g, t)
		if err != nil {
			return err
		}
		u.push(v)
	case opNewObj:
		args, err := u.pop()
		if err != nil {
			return err
		}
		cls, err := u.pop()
		if err != nil {
			return err
		}
		g, ok := cls.(pyGlobal)
		if !ok || g.module != "xgboost.core" || g.name != "Booster" {
			return fmt.Errorf("the pickle creates a %s; only an xgboost.core.Booster is read", pyType(cls))
		}
		if t, ok := args.(pyTuple); !ok || len(t) != 0 {
			return errors.New("the pickle creates an xgboost.core.Booster with arguments")
		}
		u.push(&pyBooster{})
	case opBuild:
		state, err := u.pop()
		if err != nil {
			return err
		}
		obj, err := u.top()
		if err != nil {
			return err
		}
		b, ok := obj.(*pyBooster)
		if !ok {
			return fmt.Errorf("BUILD of a %s: only a Booster's state is restored", pyType(obj))
		}
		d, ok := state.(*pyDict)
		if !ok || b.state != nil {
			return fmt.Errorf("a Booster's state is a %s, want one dict", pyType(state))
		}
		b.state = d
	default:
		return fmt.Errorf("opcode %q is not one a pickled Booster uses", op)
	}
	return nil
}

// lengthSize is how many bytes hold the length or memo index that follows op.
func lengthSize(op byte) int {
	switch op {
	case opShortBinUni, opShortBinString, opShortBinBytes, opBinPut, opBinGet:
		return 1
	case opBinUnicode, opBinString, opBinBytes, opLongBinPut, opLongBinGet:
		return 4
	}
	return 8 // BINUNICODE8, BINBYTES8, BYTEARRAY8
}

func (u *unpickler) appendTo(items []any) error {
	v, err := u.top()
	if err != nil {
		return err
	}
	l, ok := v.(*pyList)
	if !ok {
		return fmt.Errorf("APPEND to a %s", pyType(v))
	}
	l.items = append(l.items, items...)
	return nil
}

func (u *unpickler) setItems(kv []any) error {
	v, err := u.top()
	if err != nil {
		return err
	}
	d, ok := v.(*pyDict)
	if !ok {
		return fmt.Errorf("SETITEM on a %s", pyType(v))
	}
	if len(kv)%2 != 0 {
		return errors.New("SETITEMS with an odd number of items")
	}
	for i := 0; i < len(kv); i += 2 {
		if err := d.set(kv[i], kv[i+1]); err != nil {
			return err
		}
	}
	return nil
}
