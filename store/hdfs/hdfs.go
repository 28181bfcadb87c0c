// Package hdfs is the HDFS backend of package store, through the
// github.com/colinmarc/hdfs/v2 client: no JVM, no Hadoop installation.
//
// It is configured the way Hadoop users expect ([LoadConfig]):
// HADOOP_CONF_DIR (or HADOOP_HOME) with core-site.xml and hdfs-site.xml
// for fs.defaultFS (hdfs:///path), HA nameservices with several namenodes
// (dfs.nameservices, dfs.ha.namenodes.<ns>,
// dfs.namenode.rpc-address.<ns>.<nn>, tried in order and failed over on
// StandbyException), HADOOP_USER_NAME, and Kerberos
// (hadoop.security.authentication=kerberos) through the ticket cache
// (KRB5CCNAME, kinit's) and krb5.conf (KRB5_CONFIG).
//
// A namenode that cannot be reached gives an *UnreachableError naming
// every host:port tried and what happened, within the configured timeouts
// (ipc.client.connect.timeout per namenode, dfs.client.socket-timeout
// for every later wait).
//
// HDFS checksums its blocks itself (CRC32C per 512 bytes, checked by the
// client on every read and by the datanode on every write), so an FS is
// not a store.Checksummed: it has no .crc sidecars.
//
// An FS is not a store.SymlinkReader: HDFS symbolic links exist in its
// protocol but Hadoop's client disables them by default
// (FileSystem.areSymlinksEnabled, HADOOP-10020) and Spark never creates
// one, so every entry is what its listing says and store.Confine reads an
// FS as it is.
//
// # Client limits
//
// Found by driving the client against store/hdfs/hdfstest: colinmarc/hdfs
// v2.4.0 returns the bytes of a read that spans whole checksum chunks with
// a nil error when a chunk fails its checksum, so this package reads in
// pieces shorter than a chunk, which the client does check (see
// readPiece); an empty Write makes it allocate a block it never writes,
// which no namenode completes, so empty writes are not passed on. It has
// no write pipeline recovery: a datanode failing during a write fails the
// write (and a copy stops cleanly). Its FileReader is not safe for
// concurrent use; the File here serialises calls.
package hdfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	hdfsclient "github.com/colinmarc/hdfs/v2"
	krb "github.com/jcmturner/gokrb5/v8/client"
	krbconfig "github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/credentials"

	"github.com/sparkckpt/sparkckpt/store"
)

// FS is one HDFS file system (a namenode, or an HA nameservice) as a
// store.Store rooted at its "/". It is safe for concurrent use.
type FS struct {
	client      *hdfsclient.Client
	pool        *connPool // more namenode connections for per-file calls
	uri         string    // hdfs://authority
	namenodes   []Namenode
	tracker     *tracker
	replication int
	blockSize   int64
}

var (
	_ store.Store       = (*FS)(nil)
	_ store.RemoveAller = (*FS)(nil)
)

// Connect connects to the file system of an hdfs:// URI's authority (""
// for fs.defaultFS) and checks that a namenode answers (one
// getServerDefaults call). It fails with an *UnreachableError when no
// namenode answers. ctx bounds every later connection too: cancelling it
// makes reconnections fail.
func Connect(ctx context.Context, cfg *Config, authority string) (*FS, error) {
	auth, nns, err := cfg.Resolve(authority)
	if err != nil {
		return nil, err
	}
	uri := "hdfs://" + auth
	opts := hdfsclient.ClientOptionsFromConf(cfg.Props)
	opts.Addresses = nil
	for _, n := range nns {
		opts.Addresses = append(opts.Addresses, n.Addr)
	}
	opts.User = cfg.User
	if opts.KerberosClient != nil {
		kc, err := kerberosClient(cfg)
		if err != nil {
			return nil, fmt.Errorf("%s: the cluster uses Kerberos (hadoop.security.authentication=kerberos): %w", uri, err)
		}
		opts.KerberosClient = kc
		if opts.KerberosServicePrincipleName == "" {
			return nil, fmt.Errorf("%s: the cluster uses Kerberos, but dfs.namenode.kerberos.principal is not set (e.g. nn/_HOST@REALM)", uri)
		}
	}
	if opts.User == "" && opts.KerberosClient == nil {
		return nil, fmt.Errorf("%s: no user name: set HADOOP_USER_NAME", uri)
	}
	t := newTracker(ctx, cfg)
	opts.NamenodeDialFunc = t.dialNamenode
	opts.DatanodeDialFunc = t.dialDatanode
	client, err := hdfsclient.NewClient(opts)
	if err != nil {
		if isConnectionError(err) {
			return nil, t.unreachable(uri, nns)
		}
		return nil, fmt.Errorf("%s: %w", uri, err)
	}
	// The first call proves a namenode answers. A namenode that accepted
	// the connection and stays silent is closed by its timeout, and the
	// client moves to the next one on the following try.
	var defaults hdfsclient.ServerDefaults
	for range len(nns) + 1 {
		if err = ctx.Err(); err != nil {
			break
		}
		defaults, err = client.ServerDefaults()
		if err == nil || !isConnectionError(err) {
			break
		}
	}
	if err != nil {
		client.Close()
		if isConnectionError(err) {
			return nil, t.unreachable(uri, nns)
		}
		return nil, fmt.Errorf("%s: %w", uri, remote(err))
	}
	t.connected.Store(true)
	f := &FS{client: client, uri: uri, namenodes: nns, tracker: t,
		replication: defaults.Replication, blockSize: defaults.BlockSize,
		pool: newConnPool(client, opts, t, cfg.Connections)}
	if r, err := strconv.Atoi(cfg.Props["dfs.replication"]); err == nil && r > 0 {
		f.replication = r
	}
	if bs, err := parseSize(cfg.Props["dfs.blocksize"]); err == nil && bs > 0 {
		f.blockSize = bs
	}
	return f, nil
}

// isConnectionError tells transport failures from namenode answers.
func isConnectionError(err error) bool {
	var he hdfsclient.Error
	if errors.As(err, &he) {
		return false
	}
	return !errors.Is(err, os.ErrNotExist) && !errors.Is(err, os.ErrPermission) && !errors.Is(err, os.ErrExist)
}

// parseSize reads Hadoop sizes such as "134217728" or "128m".
func parseSize(s string) (int64, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return 0, errors.New("empty")
	}
	mult := int64(1)
	if i := strings.IndexAny(s, "kmgtp"); i == len(s)-1 {
		mult = 1 << (10 * (1 + strings.IndexByte("kmgtp", s[i])))
		s = s[:i]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n * mult, err
}

func kerberosClient(cfg *Config) (*krb.Client, error) {
	kc, err := krbconfig.Load(cfg.Krb5Conf)
	if err != nil {
		return nil, fmt.Errorf("reading %s (KRB5_CONFIG): %w", cfg.Krb5Conf, err)
	}
	cc := cfg.CCache
	if rest, ok := strings.CutPrefix(cc, "FILE:"); ok {
		cc = rest
	} else if strings.Contains(cc, ":") {
		return nil, fmt.Errorf("ticket cache %s (KRB5CCNAME): only FILE: caches are supported", cc)
	}
	if cc == "" {
		return nil, errors.New("no ticket cache: set KRB5CCNAME or run kinit")
	}
	ccache, err := credentials.LoadCCache(cc)
	if err != nil {
		return nil, fmt.Errorf("no usable ticket cache at %s (%v): run kinit", cc, err)
	}
	c, err := krb.NewFromCCache(ccache, kc)
	if err != nil {
		return nil, fmt.Errorf("ticket cache %s: %w", cc, err)
	}
	return c, nil
}

// URI returns the file system's URI, hdfs://authority.
func (f *FS) URI() string { return f.uri }

// Namenodes returns the namenodes of the file system.
func (f *FS) Namenodes() []Namenode { return append([]Namenode(nil), f.namenodes...) }

// Path returns the full hdfs:// URI of a store name.
func (f *FS) Path(name string) string { return f.uri + f.abs(name) }

// Close closes the connections to the namenode.
func (f *FS) Close() error {
	f.pool.close()
	return f.client.Close()
}

func (f *FS) abs(name string) string {
	if name == "." {
		return "/"
	}
	return "/" + name
}

func (f *FS) check(op, name string) error {
	if !fs.ValidPath(name) {
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	return nil
}

// RemoteError is an exception the namenode threw that maps to no io/fs
// error: its Java class and the first line of its message.
type RemoteError struct {
	Method    string
	Exception string
	Message   string
}

func (e *RemoteError) Error() string {
	msg := e.Message
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	if msg == "" {
		msg = e.Exception
	}
	return fmt.Sprintf("%s: %s", e.Method, msg)
}

// remote turns the client's namenode errors into *RemoteError, keeping
// the message the client drops.
func remote(err error) error {
	var he hdfsclient.Error
	if errors.As(err, &he) {
		return &RemoteError{Method: he.Method(), Exception: he.Exception(), Message: he.Message()}
	}
	return err
}

// wrap makes err an *fs.PathError on the full URI of name.
func (f *FS) wrap(op, name string, err error) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case strings.HasPrefix(err.Error(), "no available namenodes"):
		err = f.tracker.unreachable(f.uri, f.namenodes)
	default:
		err = remote(err)
	}
	return &fs.PathError{Op: op, Path: f.Path(name), Err: err}
}

// Stat implements store.Store.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	if err := f.check("stat", name); err != nil {
		return nil, err
	}
	st, err := f.pool.get().Stat(f.abs(name))
	if err != nil {
		return nil, f.wrap("stat", name, err)
	}
	return st, nil
}

// ReadDir implements store.Store.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	if err := f.check("readdir", name); err != nil {
		return nil, err
	}
	infos, err := f.client.ReadDir(f.abs(name))
	if err != nil {
		return nil, f.wrap("readdir", name, err)
	}
	ents := make([]fs.DirEntry, len(infos))
	for i, fi := range infos {
		ents[i] = fs.FileInfoToDirEntry(fi)
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	return ents, nil
}

// Open implements store.Store. Opening a directory fails with fs.ErrInvalid.
func (f *FS) Open(name string) (store.File, error) {
	if err := f.check("open", name); err != nil {
		return nil, err
	}
	r, err := f.pool.get().Open(f.abs(name))
	if err != nil {
		return nil, f.wrap("open", name, err)
	}
	if r.Stat().IsDir() {
		r.Close()
		return nil, &fs.PathError{Op: "open", Path: f.Path(name), Err: errIsDir}
	}
	return &file{f: f, name: name, r: r}, nil
}

var errIsDir = fmt.Errorf("is a directory: %w", fs.ErrInvalid)

type file struct {
	f    *FS
	name string
	mu   sync.Mutex
	r    *hdfsclient.FileReader
}

func (x *file) Stat() (fs.FileInfo, error) { return x.r.Stat(), nil }

// readPiece is less than the 512-byte checksum chunk. The client checks
// checksums on every read, but colinmarc/hdfs v2.4.0 returns the bytes of
// a read spanning whole chunks with a nil error when one of them fails
// its checksum (blockReadStream.Read validates after copying, and
// BlockReader.Read drops the error when it has bytes to return). Reads
// shorter than a chunk take its other path, which validates each chunk
// before returning any byte of it and reports the failure. The datanode
// connection is buffered, so the small reads stay cheap.
const readPiece = 511

func (x *file) Read(b []byte) (int, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.read(b)
}

// read fills as much of b as one block read gives, in checked pieces.
func (x *file) read(b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := x.r.Read(b[n:min(len(b), n+readPiece)])
		n += k
		if err == io.EOF {
			if n > 0 {
				return n, nil
			}
			return 0, io.EOF
		}
		if err != nil {
			return n, x.f.wrap("read", x.name, err)
		}
		if k == 0 {
			break
		}
	}
	return n, nil
}

// ReadAt reads at off without moving the offset Read uses (as os.File).
func (x *file) ReadAt(b []byte, off int64) (int, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	pos, err := x.r.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, x.f.wrap("read", x.name, err)
	}
	if off >= x.r.Stat().Size() {
		if len(b) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := 0
	if _, err = x.r.Seek(off, io.SeekStart); err != nil {
		err = x.f.wrap("read", x.name, err)
	}
	for err == nil && n < len(b) {
		var k int
		k, err = x.read(b[n:])
		n += k
	}
	if _, serr := x.r.Seek(pos, io.SeekStart); serr != nil && err == nil {
		err = x.f.wrap("read", x.name, serr)
	}
	return n, err
}

func (x *file) Seek(off int64, whence int) (int64, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	n, err := x.r.Seek(off, whence)
	if err != nil {
		err = &fs.PathError{Op: "seek", Path: x.f.Path(x.name), Err: fmt.Errorf("%v: %w", err, fs.ErrInvalid)}
	}
	return n, err
}

func (x *file) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.r.Close()
}

// Create implements store.Store: the namenode's create without
// OVERWRITE, with the client configuration's dfs.replication and
// dfs.blocksize (else the namenode's defaults).
func (f *FS) Create(name string, perm fs.FileMode) (store.Writer, error) {
	if err := f.check("create", name); err != nil {
		return nil, err
	}
	w, err := f.pool.get().CreateFile(f.abs(name), f.replication, f.blockSize, perm.Perm())
	if err != nil {
		return nil, f.wrap("create", name, err)
	}
	return &writer{f: f, name: name, w: w}, nil
}

type writer struct {
	f      *FS
	name   string
	w      *hdfsclient.FileWriter
	closed bool
}

func (w *writer) Write(b []byte) (int, error) {
	if len(b) == 0 {
		// The client would allocate a block and never write it; the
		// namenode then never completes the file (HDFS does the same).
		return 0, nil
	}
	n, err := w.w.Write(b)
	if err != nil {
		err = w.f.wrap("write", w.name, err)
	}
	return n, err
}

// Close waits for the datanodes' acknowledgements and completes the file;
// while the namenode answers that the last block is not replicated yet,
// it retries with a growing delay, as Hadoop's client does.
func (w *writer) Close() error {
	if w.closed {
		return &fs.PathError{Op: "close", Path: w.f.Path(w.name), Err: fs.ErrClosed}
	}
	w.closed = true
	delay := 100 * time.Millisecond
	deadline := time.Now().Add(w.f.tracker.ioTimeout)
	for {
		err := w.w.Close()
		if !hdfsclient.IsErrReplicating(err) || time.Now().After(deadline) {
			return w.f.wrap("close", w.name, err)
		}
		time.Sleep(delay)
		delay = min(2*delay, 2*time.Second)
	}
}

// MkdirAll implements store.Store.
func (f *FS) MkdirAll(name string, perm fs.FileMode) error {
	if err := f.check("mkdir", name); err != nil {
		return err
	}
	return f.wrap("mkdir", name, f.client.MkdirAll(f.abs(name), perm.Perm()))
}

// Rename implements store.Store (rename2 with OVERWRITE; the namenode
// renames atomically).
func (f *FS) Rename(oldname, newname string) error {
	if err := f.check("rename", oldname); err != nil {
		return err
	}
	if err := f.check("rename", newname); err != nil {
		return err
	}
	return f.wrap("rename", oldname, f.client.Rename(f.abs(oldname), f.abs(newname)))
}

// Remove implements store.Store.
func (f *FS) Remove(name string) error {
	if err := f.check("remove", name); err != nil {
		return err
	}
	return f.wrap("remove", name, f.client.Remove(f.abs(name)))
}

// RemoveAll implements store.RemoveAller (one recursive delete).
func (f *FS) RemoveAll(name string) error {
	if err := f.check("removeall", name); err != nil {
		return err
	}
	if name == "." {
		return &fs.PathError{Op: "removeall", Path: f.Path(name), Err: fs.ErrInvalid}
	}
	return f.wrap("removeall", name, f.client.RemoveAll(f.abs(name)))
}

// Split resolves an hdfs:// URI to its file system's authority and the
// store name of its path ("." for "/").
func Split(uri string) (authority, name string, err error) {
	authority, p, err := SplitURI(uri)
	if err != nil {
		return "", "", err
	}
	name = strings.TrimPrefix(path.Clean(p), "/")
	if name == "" {
		name = "."
	}
	return authority, name, nil
}
