package main

import (
	"fmt"
	"io"
	"os"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/codec"
)

// codecFlag is the --codec flag shared by commands that read compressed files.
type codecFlag struct{ name string }

func (c *codecFlag) kind() (codec.Kind, bool, error) {
	if c.name == "" || c.name == "auto" {
		return 0, false, nil
	}
	k, err := codec.ParseKind(c.name)
	if err != nil {
		return 0, false, usageError{fmt.Errorf("--codec: %w", err)}
	}
	return k, true, nil
}

const codecHelp = `compression codec of the file: lz4, snappy, zstd, lzf, none, or a Spark codec class name;
"auto" (the default) detects it from the magic bytes. Spark itself reads only with the
restarting application's spark.io.compression.codec: set this to check what Spark would see`

// source is an opened input file whose decompressed stream can be read.
type source struct {
	path string
	f    *os.File
	r    *codec.Reader
}

// openSource opens path and starts decompressing it.
func openSource(path string, cf *codecFlag) (*source, error) {
	k, forced, err := cf.kind()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	var r *codec.Reader
	if forced {
		r, err = codec.NewReaderKind(f, k)
	} else {
		r, err = codec.NewReader(f)
	}
	if err != nil {
		f.Close()
		return nil, decode.WithFile(err, path)
	}
	return &source{path: path, f: f, r: r}, nil
}

func (s *source) Close() error { return s.f.Close() }

// readAll decompresses the whole file.
func (s *source) readAll() ([]byte, error) {
	b, err := io.ReadAll(s.r)
	if err != nil {
		return nil, decode.WithFile(err, s.path)
	}
	return b, nil
}
