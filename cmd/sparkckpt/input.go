package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/codec"
	"github.com/sparkckpt/sparkckpt/store"
	"github.com/sparkckpt/sparkckpt/store/hdfs"
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
	f    fs.File
	r    *codec.Reader
}

// openSource opens path (a local path, an hdfs:// or S3 URI, resolved with
// st) and starts decompressing it.
func openSource(st *stores, path string, cf *codecFlag) (*source, error) {
	k, forced, err := cf.kind()
	if err != nil {
		return nil, err
	}
	in, err := st.openInput(path)
	if err != nil {
		return nil, err
	}
	f, err := in.open(".")
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
		return nil, decode.WithFile(err, in.name)
	}
	r.SetMaxDecompressed(st.lim.MaxDecompressed)
	return &source{path: in.name, f: f, r: r}, nil
}

func (s *source) Close() error { return s.f.Close() }

// readAll decompresses the whole file.
func (s *source) readAll() ([]byte, error) {
	b, err := s.r.ReadAll()
	if err != nil {
		return nil, decode.WithFile(err, s.path)
	}
	return b, nil
}

// hdfsPathHelp ends the help of every command that reads a path.
const hdfsPathHelp = `The path may also be an hdfs:// URI, read where it lives: hdfs://NAMENODE:PORT/path,
hdfs://NAMESERVICE/path (HA) or hdfs:///path (fs.defaultFS), with HDFS configured as for
'sparkckpt cp' (HADOOP_CONF_DIR, HADOOP_USER_NAME, Kerberos ticket cache); an S3 URI,
s3://BUCKET/path, s3a://... or s3n://... (one bucket and key, whichever the scheme), with the
AWS configuration of the AWS CLI (AWS_PROFILE, AWS_REGION, ~/.aws, instance profile) and
--s3-endpoint or AWS_ENDPOINT_URL_S3 for an S3-compatible server; or a file: URI.`

// input is a command-line PATH opened for the read-only commands
// (inspect, uris, check, cat, dump, browse), wherever it lives. Every
// command reads its argument through one: a local path is read through
// the os package with the path as given (so output and messages are those
// of a local path, byte for byte), an hdfs:// URI through its store
// (messages name hdfs:// and S3 URIs, with the scheme given). Files under a directory input are named
// by slash-separated names relative to it, "." being the input itself.
//
// Below the input, symbolic links are followed by store's rule (see
// store.Confine): those leading to files and directories inside the input
// are followed, the others read as files that cannot be opened, each
// with an error saying why. The input itself may be a link.
type input struct {
	name string    // as output names it: the local path as given, or the hdfs:// URI
	dir  bool      // set by stat
	loc  *location // the HDFS location; nil on the local disk
	conf *store.Confined
	lim  decode.Limits
}

// confined is the directory input read by the symbolic link rule.
func (in *input) confined() *store.Confined {
	if in.conf == nil {
		if in.loc != nil {
			in.conf = store.ConfinedPlace(in.loc.store, in.loc.name)
		} else {
			in.conf = store.Confine(os.DirFS(in.name), store.OSRoots(in.name)...)
		}
	}
	return in.conf
}

// real resolves rel below a local input by the symbolic link rule: the
// name to read it at, or an error naming the link not followed.
func (in *input) real(op, rel string) (string, error) {
	if rel == "." {
		return rel, nil
	}
	real, err := in.confined().Real(rel)
	if err != nil {
		return "", &fs.PathError{Op: op, Path: in.path(rel), Err: err}
	}
	return real, nil
}

// symlinks lists every symbolic link below the directory input.
func (in *input) symlinks() []store.Link {
	if !in.dir {
		return nil
	}
	links, _ := in.confined().Links()
	return links
}

// input resolves arg without touching it: a local path, a file: URI (the
// local disk), an hdfs:// URI (connecting to its namenode once per
// file system; an unreachable namenode is a one-line error naming
// host:port) or an S3 URI (one HeadBucket per bucket). Other URI schemes
// are usage errors.
func (s *stores) input(arg string) (*input, error) {
	i := strings.Index(arg, "://")
	uri := hdfs.IsURI(arg) || strings.HasPrefix(arg, "file:") || i > 0 && !strings.ContainsAny(arg[:i], "/.")
	if !uri {
		return &input{name: arg, lim: s.lim}, nil
	}
	loc, err := s.open(arg)
	if err != nil {
		return nil, err
	}
	if _, ok := loc.store.(*store.Local); ok {
		return &input{name: loc.display, lim: s.lim}, nil
	}
	return &input{name: loc.display, loc: loc, lim: s.lim}, nil
}

// openInput resolves arg and stats it.
func (s *stores) openInput(arg string) (*input, error) {
	in, err := s.input(arg)
	if err != nil {
		return nil, err
	}
	st, err := in.stat(".")
	if err != nil {
		return nil, err
	}
	if err := readable(in.name, st); err != nil {
		return nil, err
	}
	in.dir = st.IsDir()
	return in, nil
}

// readable refuses what is neither a regular file nor a directory: a
// named pipe, socket or device would block a reader forever or stream
// without end.
func readable(name string, st fs.FileInfo) error {
	m := st.Mode()
	if m.IsRegular() || m.IsDir() {
		return nil
	}
	what := "a special file"
	switch {
	case m&fs.ModeNamedPipe != 0:
		what = "a named pipe"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	case m&fs.ModeCharDevice != 0:
		what = "a character device"
	case m&fs.ModeDevice != 0:
		what = "a device"
	case m&fs.ModeSymlink != 0:
		what = "a symbolic link"
	}
	return fmt.Errorf("%s is %s, not a regular file or a directory: sparkckpt reads only those", name, what)
}

// remote reports whether the input is not on the local disk.
func (in *input) remote() bool { return in.loc != nil }

// storeName is the store name of rel under a remote input.
func (in *input) storeName(rel string) string { return store.Join(in.loc.name, rel) }

// path names rel for output and messages.
func (in *input) path(rel string) string {
	switch {
	case in.loc != nil:
		return in.loc.displayName(in.storeName(rel))
	case rel == ".":
		return in.name
	}
	return filepath.Join(in.name, filepath.FromSlash(rel))
}

// fsys is the directory rel as an fs.FS (confined: see input).
func (in *input) fsys(rel string) fs.FS {
	if in.loc != nil {
		return store.FS(in.loc.store, in.storeName(rel))
	}
	if rel == "." {
		return in.confined()
	}
	sub, err := in.confined().Sub(rel)
	if err != nil {
		return os.DirFS(in.path(rel)) // not reached: rel is a valid name
	}
	return sub
}

func (in *input) stat(rel string) (fs.FileInfo, error) {
	if in.loc != nil {
		return in.loc.store.Stat(in.storeName(rel))
	}
	real, err := in.real("stat", rel)
	if err != nil {
		return nil, err
	}
	return os.Stat(in.path(real))
}

// isDir reports whether rel is a directory.
func (in *input) isDir(rel string) bool {
	st, err := in.stat(rel)
	return err == nil && st.IsDir()
}

func (in *input) readFile(rel string) ([]byte, error) {
	if in.loc != nil {
		return store.ReadFile(in.loc.store, in.storeName(rel))
	}
	real, err := in.real("open", rel)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(in.path(real))
}

func (in *input) open(rel string) (fs.File, error) {
	if in.loc != nil {
		return in.loc.store.Open(in.storeName(rel))
	}
	real, err := in.real("open", rel)
	if err != nil {
		return nil, err
	}
	return os.Open(in.path(real))
}

// files lists the regular files of the directory rel (with the symbolic
// links to files, and the links not followed, whose reading fails).
func (in *input) files(rel string) ([]string, error) {
	var ents []fs.DirEntry
	var err error
	if in.loc != nil {
		ents, err = in.loc.store.ReadDir(in.storeName(rel))
	} else if _, err = in.real("readdir", rel); err == nil {
		ents, err = fs.ReadDir(in.confined(), rel)
		if err != nil {
			ents, err = os.ReadDir(in.path(rel)) // the error as the os names it
		}
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// walkFiles calls fn with every regular file under the directory input,
// in lexical order.
func (in *input) walkFiles(fn func(rel string) error) error {
	if in.loc != nil {
		return fs.WalkDir(in.fsys("."), ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			return fn(p)
		})
	}
	return fs.WalkDir(in.confined(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				pe.Path = in.path(p)
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		return fn(p)
	})
}

// abs is the input's absolute slash path on its file system (local: the
// absolute path; HDFS: the path of the URI), for what a file is by its
// position (structured.FileType, structured.CheckpointRoot).
func (in *input) abs() string {
	if in.loc != nil {
		return "/" + strings.TrimPrefix(in.loc.name, ".")
	}
	abs, _ := filepath.Abs(in.name)
	return filepath.ToSlash(abs)
}

// at is the directory at the absolute slash path p on the input's file
// system, as an input (for a checkpoint's root found from one of its
// files).
func (in *input) at(p string) *input {
	if in.loc != nil {
		name := strings.TrimPrefix(path.Clean(p), "/")
		if name == "" {
			name = "."
		}
		loc := *in.loc
		loc.name, loc.display = name, in.loc.displayName(name)
		loc.uri = loc.display
		return &input{name: loc.display, dir: true, loc: &loc, lim: in.lim}
	}
	return &input{name: filepath.FromSlash(p), dir: true, lim: in.lim}
}
