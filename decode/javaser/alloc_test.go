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
	fx, err := os.ReadFile("../../fixtures/generated/grammar-externalizable-v1.ser")
	require.NoError(t, err)
	// The fixture's first content, a Model$Ext with protocol-1 data, ends
	// at 0x9c; it assigns handles 0x7e0000..0x7e0005 (0x7e0002 is the
	// Model$Leaf descriptor). Enough strings and objects follow that the
	// look-ahead starts new chunks of both (but fewer than 11631 bytes:
	// the external data has "t\x2d\x6f" at 0x3b, which a longer stream
	// would make a string).
	b := append([]byte(nil), fx[:0x9c]...)
	const n = 400
	next := int32(0x7e0006)
	var offs []int
	for i := range n {
		offs = append(offs, len(b))
		s := fmt.Sprintf("s%d", i)
		b = append(b, TCString, 0, byte(len(s)))
		b = append(b, s...)
		// A Model$Leaf whose class descriptor is a reference.
		b = append(b, TCObject, TCReference)
		b = binary.BigEndian.AppendUint32(b, 0x7e0002)
		b = append(b, TCNull)
		next += 2
	}
	// References to every string and object read after the look-ahead,
	// then to the descriptor read before it.
	var refOffs []int
	for h := int32(0x7e0006); h < next; h++ {
		refOffs = append(refOffs, len(b))
		b = append(b, TCReference)
		b = binary.BigEndian.AppendUint32(b, uint32(h))
	}
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
