package javaser

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHandlesAfterLookahead: protocol-1 Externalizable data is delimited by
// parsing the rest of the stream ahead (restParses), which allocates from
// the same arena and then forgets the chunks it started. Handles assigned
// before, during and after that look-ahead must still name the right nodes.
func TestHandlesAfterLookahead(t *testing.T) {
	const n = 400
	b, offs, refOffs := buildLookahead(t, n)
	descAt := len(b)
	b = append(b, TCReference)
	b = binary.BigEndian.AppendUint32(b, 0x7e0002)

	s, err := Parse(b)
	require.NoError(t, err)
	out, err := Encode(s)
	require.NoError(t, err)
	require.True(t, bytes.Equal(out, b), "round trip")

	require.Len(t, s.Contents, 1+4*n+1)
	ext := s.Contents[0].(*Object)
	require.Len(t, ext.Data, 1)
	require.Len(t, ext.Data[0].External, 3)
	for i := range n {
		str, ok := s.Contents[1+2*i].(*String)
		require.True(t, ok, i)
		assert.Equal(t, int64(offs[i]), str.Off)
		assert.Equal(t, fmt.Sprintf("s%d", i), str.Value())
		o := s.Contents[2+2*i].(*Object)
		assert.Equal(t, "sparkckpt.fixtures.Model$Leaf", o.ClassName())
		assert.Equal(t, int64(0x3f), o.Class.Off)
	}
	for i, off := range refOffs {
		r := s.Contents[1+2*n+i].(*Ref)
		assert.Equal(t, int64(off), r.Off)
		require.Same(t, s.Contents[1+i], r.Target, "handle %#x", r.Handle)
	}
	d := s.Contents[len(s.Contents)-1].(*Ref)
	assert.Equal(t, int64(descAt), d.Off)
	assert.Equal(t, "sparkckpt.fixtures.Model$Leaf", ResolveDesc(d).Name())
	assert.Equal(t, int64(0x3f), d.Target.Offset())
}

// buildLookahead builds a stream whose protocol-1 Externalizable data is
// delimited by a look-ahead over the rest. The fixture's first content, a
// Model$Ext with protocol-1 data, ends at 0x9c; it assigns handles
// 0x7e0000..0x7e0005 (0x7e0002 is the Model$Leaf descriptor). Then n
// strings, each followed by a Model$Leaf whose class descriptor is a
// reference, and references to every one of them. For n up to a few
// hundred the look-ahead starts new chunks of both (but the stream stays
// under 11631 bytes: the external data has "t\x2d\x6f" at 0x3b, which a
// longer stream would make a string). It returns the stream and the
// offsets of the strings and of the references.
func buildLookahead(t *testing.T, n int) (b []byte, strOffs, refOffs []int) {
	fx, err := os.ReadFile("../../fixtures/generated/grammar-externalizable-v1.ser")
	require.NoError(t, err)
	b = append([]byte(nil), fx[:0x9c]...)
	for i := range n {
		strOffs = append(strOffs, len(b))
		s := fmt.Sprintf("s%d", i)
		b = append(b, TCString, 0, byte(len(s)))
		b = append(b, s...)
		b = append(b, TCObject, TCReference)
		b = binary.BigEndian.AppendUint32(b, 0x7e0002)
		b = append(b, TCNull)
	}
	for h := int32(0x7e0006); h < 0x7e0006+int32(2*n); h++ {
		refOffs = append(refOffs, len(b))
		b = append(b, TCReference)
		b = binary.BigEndian.AppendUint32(b, uint32(h))
	}
	return b, strOffs, refOffs
}
