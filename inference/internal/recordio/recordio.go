// Package recordio reads and writes MXNet RecordIO framing, the container format of SageMaker's
// application/x-recordio-protobuf bodies.
//
// Each record is a little-endian uint32 magic 0xced7230a, a little-endian uint32 whose low 29
// bits are the payload length and whose top 3 bits are a continuation flag, the payload, and zero
// padding to a multiple of 4 bytes (dmlc/dmlc-core@5295de9:include/dmlc/recordio.h,
// src/recordio.cc). dmlc's writer splits a payload wherever the magic occurs at a 4-byte aligned
// offset (flag 1 = first part, 2 = middle, 3 = last; the magic itself is left out and put back by
// the reader); the SageMaker SDK's writer never splits (aws/sagemaker-python-sdk@v2.257.6:
// src/sagemaker/serializer_utils.py _write_recordio). The Reader accepts both; the Writer writes
// as the SDK does, because the SDK's and the XGBoost container's readers take the whole second
// word as the length and would misread a split record.
package recordio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Magic is the first word of every RecordIO record.
const Magic uint32 = 0xced7230a

// MaxLength is the largest payload one record header can describe (29 bits).
const MaxLength = 1<<29 - 1

// Continuation flags in the top 3 bits of a header's length word.
const (
	flagWhole = 0
	flagFirst = 1
	flagMid   = 2
	flagLast  = 3
)

// FormatError is a malformed RecordIO stream: what was wrong, in which record (counted from 1)
// and at which byte offset of the stream its header starts.
type FormatError struct {
	Record int
	Offset int64
	Msg    string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("recordio record %d (at byte %d): %s", e.Record, e.Offset, e.Msg)
}

// growStep is how much the Reader reads ahead, and the most it allocates beyond the bytes that
// really arrived, so that a header claiming 512 MB costs memory only as the body delivers it.
const growStep = 16 << 10

// Reader reads records from a RecordIO stream. It reads ahead into its own buffer, so that a
// body of small records costs one Read per 16 KiB rather than two per record, and holds one
// record's payload at a time. The zero Reader is ready for Reset.
type Reader struct {
	r      io.Reader
	err    error  // sticky: the first error r returned (io.EOF at the end)
	buf    []byte // buf[pos:end] is read and not yet consumed
	pos    int
	end    int
	joined []byte // a split record, put back together
	off    int64  // stream offset of buf[pos]
	record int    // records returned so far
}

// NewReader returns a Reader of r.
func NewReader(r io.Reader) *Reader { return &Reader{r: r} }

// Reset makes the Reader read r from its start, keeping its buffers.
func (rd *Reader) Reset(r io.Reader) {
	rd.r, rd.err, rd.pos, rd.end, rd.off, rd.record = r, nil, 0, 0, 0, 0
}

// Cap is the memory the Reader's buffers hold.
func (rd *Reader) Cap() int { return cap(rd.buf) + cap(rd.joined) }

// Record is the number of records Next has returned so far.
func (rd *Reader) Record() int { return rd.record }

// fill reads until n bytes are buffered, or the stream ends; it reports whether they are.
func (rd *Reader) fill(n int) bool {
	for rd.end-rd.pos < n {
		if rd.err != nil {
			return false
		}
		if rd.end == len(rd.buf) {
			if rd.pos > 0 { // move the unread bytes to the front
				rd.end = copy(rd.buf, rd.buf[rd.pos:rd.end])
				rd.pos = 0
			}
			if rd.end == len(rd.buf) { // grow by what is buffered (doubling), at most to n
				grow := min(max(len(rd.buf), growStep), n-rd.end)
				rd.buf = append(rd.buf[:rd.end], make([]byte, max(grow, growStep))...)
			}
		}
		m, err := rd.r.Read(rd.buf[rd.end:])
		rd.end += m
		if err != nil {
			rd.err = err
		}
	}
	return true
}

// Next returns the next record's payload, valid until the next call to Next or Reset. At the
// end of a well-formed stream it returns io.EOF. A stream that ends inside a record, a wrong
// magic or a bad continuation flag is a *FormatError; an error of the underlying reader (a
// body over its size limit, say) is returned as it is.
func (rd *Reader) Next() ([]byte, error) {
	start := rd.off
	fail := func(format string, args ...any) error {
		return &FormatError{Record: rd.record + 1, Offset: start, Msg: fmt.Sprintf(format, args...)}
	}
	rd.joined = rd.joined[:0]
	for part := 0; ; part++ {
		if !rd.fill(8) {
			if !errors.Is(rd.err, io.EOF) {
				return nil, rd.err
			}
			if part == 0 && rd.end == rd.pos {
				return nil, io.EOF
			}
			return nil, fail("the body ends inside a record header (%d of 8 bytes)", rd.end-rd.pos)
		}
		hdr := rd.buf[rd.pos : rd.pos+8]
		if m := binary.LittleEndian.Uint32(hdr[:4]); m != Magic {
			return nil, fail("the header starts with 0x%08x, not the RecordIO magic 0xced7230a", m)
		}
		word := binary.LittleEndian.Uint32(hdr[4:])
		flag, length := word>>29, int(word&MaxLength)
		switch {
		case flag > flagLast:
			return nil, fail("continuation flag %d in the length word 0x%08x; only 0-3 exist", flag, word)
		case part == 0 && (flag == flagMid || flag == flagLast):
			return nil, fail("continuation flag %d (a later part) where a record starts", flag)
		case part > 0 && (flag == flagWhole || flag == flagFirst):
			return nil, fail("continuation flag %d (a new record) inside a split record", flag)
		}
		padded := (length + 3) &^ 3
		if !rd.fill(8 + padded) {
			if !errors.Is(rd.err, io.EOF) {
				return nil, rd.err
			}
			return nil, fail("the body ends %d bytes into a %d-byte payload (padded to %d)", rd.end-rd.pos-8, length, padded)
		}
		payload := rd.buf[rd.pos+8 : rd.pos+8+length]
		rd.pos += 8 + padded
		rd.off += int64(8 + padded)
		if part == 0 && flag == flagWhole {
			rd.record++
			return payload, nil
		}
		rd.joined = append(rd.joined, payload...)
		if flag == flagLast {
			rd.record++
			return rd.joined, nil
		}
		// The writer dropped the magic where it split the payload.
		rd.joined = binary.LittleEndian.AppendUint32(rd.joined, Magic)
	}
}

// AppendRecord appends payload to dst as one unsplit RecordIO record, as the SageMaker SDK
// writes it. It panics if payload is longer than MaxLength.
func AppendRecord(dst, payload []byte) []byte {
	if len(payload) > MaxLength {
		panic(fmt.Sprintf("recordio: a %d-byte payload exceeds the %d-byte limit of a record", len(payload), MaxLength))
	}
	dst = binary.LittleEndian.AppendUint32(dst, Magic)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(payload)))
	dst = append(dst, payload...)
	var pad [3]byte
	return append(dst, pad[:(4-len(payload)%4)%4]...)
}

// Writer writes records to an io.Writer.
type Writer struct {
	w   io.Writer
	buf []byte
}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// WriteRecord writes payload as one record. A payload longer than MaxLength is an error.
func (wr *Writer) WriteRecord(payload []byte) error {
	if len(payload) > MaxLength {
		return fmt.Errorf("recordio: a %d-byte payload exceeds the %d-byte limit of a record", len(payload), MaxLength)
	}
	wr.buf = AppendRecord(wr.buf[:0], payload)
	_, err := wr.w.Write(wr.buf)
	return err
}
