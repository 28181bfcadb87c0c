package javaser_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
)

// nestedArrays is a stream of Object[] arrays nested n deep, each holding
// the next, cut before the innermost element.
func nestedArrays(n int) []byte {
	var b bytes.Buffer
	b.Write([]byte{0xAC, 0xED, 0x00, 0x05})
	b.Write([]byte{0x75, 0x72}) // TC_ARRAY TC_CLASSDESC
	name := "[Ljava.lang.Object;"
	binary.Write(&b, binary.BigEndian, uint16(len(name)))
	b.WriteString(name)
	b.Write([]byte{0x90, 0xCE, 0x58, 0x9F, 0x10, 0x73, 0x29, 0x6C}) // serialVersionUID
	b.Write([]byte{0x02, 0x00, 0x00, 0x78, 0x70})                   // SC_SERIALIZABLE, 0 fields, TC_ENDBLOCKDATA, no super
	b.Write([]byte{0x00, 0x00, 0x00, 0x01})
	for i := 1; i < n; i++ {
		b.Write([]byte{0x75, 0x71, 0x00, 0x7E, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01}) // TC_ARRAY, TC_REFERENCE the desc, length 1
	}
	return b.Bytes()
}

// nestedDescs is a stream whose class descriptor has n superclasses, each
// with a name of nameLen bytes, cut inside the last one.
func nestedDescs(n, nameLen int) []byte {
	var b bytes.Buffer
	b.Write([]byte{0xAC, 0xED, 0x00, 0x05, 0x73}) // TC_OBJECT
	for i := 0; i < n; i++ {
		name := "S" + strings.Repeat("x", nameLen)
		b.WriteByte(0x72)
		binary.Write(&b, binary.BigEndian, uint16(len(name)))
		b.WriteString(name)
		b.Write(make([]byte, 8))
		b.Write([]byte{0x02, 0x00, 0x00, 0x78})
	}
	return b.Bytes()
}

// TestErrorPathBrief: an error deep in a stream keeps its object path
// readable (first and last elements, the count of those between, long
// names cut) however deep the stream nests; a shallow path is whole.
func TestErrorPathBrief(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"arrays 3 deep", nestedArrays(3), "Object;[0][0]"},
		{"arrays 9 deep", nestedArrays(9), "Object;[0][0][0][0][0][0][0][0]"},
		{"arrays 1000 deep", nestedArrays(1000), "Object;[0][0][0]…(992 more)…[0][0][0][0]"},
		{"arrays past the depth limit", nestedArrays(5000), "Object;[0][0][0]…(4089 more)…[0][0][0][0]"},
		{"superclass descriptors 3000 deep", nestedDescs(3000, 40), "<content><desc S" + strings.Repeat("x", 40) + "><desc S" + strings.Repeat("x", 40) + "><desc S" + strings.Repeat("x", 40) + ">…(2993 more)…"},
		{"long class names", nestedDescs(2, 500), "<content><desc S" + strings.Repeat("x", 79) + "…>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := javaser.Parse(tc.b)
			var de *decode.Error
			if !errors.As(err, &de) {
				t.Fatalf("error %v is no *decode.Error", err)
			}
			if !strings.HasPrefix(de.Path, tc.want) {
				t.Errorf("path %q…, want it to start %q", de.Path[:min(len(de.Path), 400)], tc.want)
			}
			if len(de.Path) > 1200 || len(err.Error()) > 1600 {
				t.Errorf("path of %d bytes, error of %d: %.300s", len(de.Path), len(err.Error()), err)
			}
		})
	}
}
