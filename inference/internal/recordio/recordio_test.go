package recordio_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/internal/recordio"
)

// header spells a record header the way dmlc-core writes it
// (dmlc/dmlc-core@5295de9:include/dmlc/recordio.h EncodeLRec: cflag<<29 | length).
func header(cflag, length uint32) []byte {
	return binary.LittleEndian.AppendUint32([]byte{0x0a, 0x23, 0xd7, 0xce}, cflag<<29|length)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func readAll(t *testing.T, body []byte) [][]byte {
	t.Helper()
	rd := recordio.NewReader(bytes.NewReader(body))
	var out [][]byte
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		out = append(out, bytes.Clone(rec))
	}
}

func TestAppendRecordPadsToFourBytes(t *testing.T) {
	// The SDK's _write_recordio: magic, length, data, zero padding to a multiple of 4
	// (aws/sagemaker-python-sdk@v2.257.6:src/sagemaker/serializer_utils.py).
	for _, tc := range []struct {
		payload string
		want    []byte
	}{
		{"", []byte{0x0a, 0x23, 0xd7, 0xce, 0, 0, 0, 0}},
		{"abcde", []byte{0x0a, 0x23, 0xd7, 0xce, 5, 0, 0, 0, 'a', 'b', 'c', 'd', 'e', 0, 0, 0}},
		{"abcd", []byte{0x0a, 0x23, 0xd7, 0xce, 4, 0, 0, 0, 'a', 'b', 'c', 'd'}},
		{"abcdef", []byte{0x0a, 0x23, 0xd7, 0xce, 6, 0, 0, 0, 'a', 'b', 'c', 'd', 'e', 'f', 0, 0}},
	} {
		assert.Equal(t, tc.want, recordio.AppendRecord(nil, []byte(tc.payload)), "payload %q", tc.payload)
		var buf bytes.Buffer
		require.NoError(t, recordio.NewWriter(&buf).WriteRecord([]byte(tc.payload)))
		assert.Equal(t, tc.want, buf.Bytes(), "Writer, payload %q", tc.payload)
	}
}

func TestReaderReadsWholeRecords(t *testing.T) {
	body := cat(header(0, 5), []byte("abcde\x00\x00\x00"), header(0, 0), header(0, 4), []byte("wxyz"))
	assert.Equal(t, [][]byte{[]byte("abcde"), {}, []byte("wxyz")}, readAll(t, body))
	// Delivered one byte per Read, as a slow client's body is.
	rd := recordio.NewReader(iotest.OneByteReader(bytes.NewReader(body)))
	rec, err := rd.Next()
	require.NoError(t, err)
	assert.Equal(t, "abcde", string(rec))
	assert.Equal(t, 1, rd.Record())
}

func TestReaderJoinsSplitRecords(t *testing.T) {
	magic := binary.LittleEndian.AppendUint32(nil, recordio.Magic)
	// dmlc's WriteRecord splits "abcd"+magic+"efgh" at the aligned magic and drops it:
	// a first part (flag 1) "abcd", a last part (flag 3) "efgh".
	twoParts := cat(header(1, 4), []byte("abcd"), header(3, 4), []byte("efgh"))
	// magic+"wx12"+magic+"yz" splits at offsets 0 and 8 (the loop in
	// dmlc/dmlc-core@5295de9:src/recordio.cc): an empty first part, a middle part "wx12", a last
	// part "yz" followed by the padding of the whole 14-byte payload.
	threeParts := cat(header(1, 0), header(2, 4), []byte("wx12"), header(3, 2), []byte("yz\x00\x00"))
	assert.Equal(t, [][]byte{cat([]byte("abcd"), magic, []byte("efgh"))}, readAll(t, twoParts))
	assert.Equal(t, [][]byte{cat(magic, []byte("wx12"), magic, []byte("yz"))}, readAll(t, threeParts))
}

func TestReaderNamesEachMalformation(t *testing.T) {
	good := cat(header(0, 1), []byte("a\x00\x00\x00"))
	for _, tc := range []struct {
		name   string
		body   []byte
		record int
		offset int64
		msg    string
	}{
		{"short header", cat(good, header(0, 4)[:6]), 2, 12, "ends inside a record header (6 of 8 bytes)"},
		{"wrong magic", cat(good, []byte{1, 2, 3, 4, 0, 0, 0, 0}), 2, 12, "starts with 0x04030201, not the RecordIO magic"},
		{"short payload", cat(header(0, 10), []byte("abc")), 1, 0, "ends 3 bytes into a 10-byte payload (padded to 12)"},
		{"missing padding", cat(header(0, 5), []byte("abcde")), 1, 0, "ends 5 bytes into a 5-byte payload (padded to 8)"},
		{"flag out of range", header(5, 0), 1, 0, "continuation flag 5"},
		{"later part first", cat(good, header(3, 0)), 2, 12, "continuation flag 3 (a later part) where a record starts"},
		{"whole inside split", cat(header(1, 0), header(0, 0)), 1, 0, "continuation flag 0 (a new record) inside a split record"},
		{"split never ends", header(1, 0), 1, 0, "ends inside a record header (0 of 8 bytes)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rd := recordio.NewReader(bytes.NewReader(tc.body))
			var err error
			for err == nil {
				_, err = rd.Next()
			}
			var fe *recordio.FormatError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.record, fe.Record)
			assert.Equal(t, tc.offset, fe.Offset)
			assert.Contains(t, fe.Error(), tc.msg)
		})
	}
}

func TestReaderPassesReadErrorsThrough(t *testing.T) {
	limit := errors.New("body over its limit")
	rd := recordio.NewReader(io.MultiReader(bytes.NewReader(header(0, 4)), iotest.ErrReader(limit)))
	_, err := rd.Next()
	assert.ErrorIs(t, err, limit)
	var fe *recordio.FormatError
	assert.False(t, errors.As(err, &fe), "a read error is not the client's malformed body")
}

func TestReaderDoesNotTrustTheLengthWord(t *testing.T) {
	// A 12-byte body whose header claims the largest payload must not cost 512 MB.
	body := cat(header(0, recordio.MaxLength), []byte("abcd"))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := recordio.NewReader(bytes.NewReader(body)).Next()
	runtime.ReadMemStats(&after)
	require.Error(t, err)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20))
}

func TestReaderReset(t *testing.T) {
	rd := recordio.NewReader(bytes.NewReader(header(0, 0)))
	_, err := rd.Next()
	require.NoError(t, err)
	rd.Reset(bytes.NewReader(cat(header(0, 2), []byte("hi\x00\x00"))))
	rec, err := rd.Next()
	require.NoError(t, err)
	assert.Equal(t, "hi", string(rec))
	assert.Equal(t, 1, rd.Record())
}

func FuzzReader(f *testing.F) {
	f.Add(cat(header(0, 5), []byte("abcde\x00\x00\x00")))
	f.Add(cat(header(1, 4), []byte("abcd"), header(3, 4), []byte("efgh")))
	f.Add(header(7, 3))
	f.Fuzz(func(t *testing.T, body []byte) {
		rd := recordio.NewReader(bytes.NewReader(body))
		var recs [][]byte
		for {
			rec, err := rd.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					var fe *recordio.FormatError
					require.ErrorAs(t, err, &fe)
				}
				break
			}
			recs = append(recs, bytes.Clone(rec))
		}
		// Whatever was read writes back, unsplit, to records that read the same.
		var out []byte
		for _, r := range recs {
			out = recordio.AppendRecord(out, r)
		}
		if len(recs) > 0 {
			assert.Equal(t, recs, readAll(t, out))
		}
	})
}
