// Package s3 is the S3 backend of package store, through
// github.com/aws/aws-sdk-go-v2: a bucket as a store.Store rooted at the
// bucket, for s3:// (EMRFS), s3a:// (Hadoop S3A) and s3n:// URIs, which
// all name the same bucket and key; a URI keeps its scheme in messages
// ([FS.Path]).
//
// # Configuration
//
// [NewClient] loads the AWS configuration as the AWS CLI does: the
// default credential chain (environment, ~/.aws profiles with
// AWS_PROFILE, assume-role, SSO, credential_process, web identity, the
// container endpoint, EC2/EMR instance profiles over IMDSv2), the region
// from AWS_REGION or the profile (us-east-1 when none), and an
// S3-compatible endpoint from [Config.Endpoint] (sparkckpt's
// --s3-endpoint), AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, addressed
// path-style. Requests are retried by the SDK's standard retryer with a
// short back-off; an endpoint that does not answer fails within
// [DefaultTimeout]. Errors are one line: *NoCredentialsError (naming
// the sources tried), *UnreachableError, *BucketError (no such bucket,
// access denied, wrong region naming the bucket's region); errors on
// objects are *fs.PathError named by the object's URI and the S3
// operation, wrapping fs.ErrNotExist or fs.ErrPermission.
//
// # Objects as files
//
// S3 has keys, not directories. A name is a key; a directory is a key
// prefix ending in "/" under which some object exists. Directory
// markers (an empty "dir/" object, Hadoop's "dir_$folder$") are never
// files: on read they only show that a directory exists (an empty one
// has nothing else to show it); on write, MkdirAll puts a "dir/" marker
// only so that an empty directory exists, as on a file system; files
// never need one. Listing is ListObjectsV2 with the "/" delimiter,
// paginated. Permission bits are kept in the object's metadata
// (x-amz-meta-sparkckpt-perm) and are 0644 when absent.
//
// # How each guarantee of package store is kept
//
//   - Create never replaces: it fails with fs.ErrExist if the key
//     exists, and the upload itself is a PutObject (or
//     CompleteMultipartUpload) with If-None-Match: *, so a file created
//     meanwhile by someone else is not overwritten either.
//   - Integrity: every upload carries the CRC32C of its bytes, computed
//     by sparkckpt as it buffers them (x-amz-checksum-crc32c; per part
//     and for the whole object in a multipart upload), so S3 rejects a
//     corrupted upload. Every whole-file read asks for the object's
//     checksum (ChecksumMode) and the SDK checks the bytes read against
//     it; ranged reads (ReadAt of large files) are pinned to the ETag
//     read at Open with If-Match, so a file replaced meanwhile fails
//     instead of mixing versions.
//   - Durability: a file exists, whole, only once its Writer's Close
//     returns nil (S3 acknowledges a PUT only when it is durable). Files
//     up to [Config.PartSize] (16 MiB) are one PutObject; larger ones a
//     multipart upload, aborted on every error. An upload interrupted
//     by a kill leaves no object, only an incomplete multipart upload
//     (S3 bills it until it is aborted; [FS.Uploads] lists them).
//   - Rename: S3 has no rename. Renaming a file is CopyObject then
//     DeleteObject. The copy is atomic at the destination (a reader sees
//     the old object or the new one, never a mix), so replacing a file
//     this way is atomic; a crash between copy and delete leaves the
//     source too, which sparkckpt names as a temporary
//     (store.TempPrefix) and reports as a leftover. Renaming a
//     directory copies then deletes every object under it, one by one:
//     it is NOT atomic; a crash leaves both trees, each recognisable.
//     (CopyObject copies objects up to 5 GiB; a larger one cannot be
//     renamed.) Nothing in sparkckpt renames on S3 in normal operation:
//     replacing uses WriteFileAtomic or ReplaceIfVersion, and a copy to
//     S3 (rewrite/copytree) writes in place behind a marker instead of
//     renaming a temporary directory (store.PrefixDirs).
//   - Replacing in place: [FS.WriteFileAtomic] is one PutObject, atomic
//     on S3, with no temporary object; [FS.ReplaceIfVersion] adds
//     If-Match on the ETag the caller read, so a file that someone
//     (Spark) changed in between is refused, not overwritten (the
//     rewrite's replace).
package s3

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/sparkckpt/sparkckpt/store"
)

// FS is one bucket as a store.Store rooted at the bucket. It is safe for
// concurrent use.
type FS struct {
	c      *Client
	scheme string
	bucket string

	mu   sync.Mutex
	dirs map[string]bool // directories known to exist
}

var (
	_ store.Store             = (*FS)(nil)
	_ store.RemoveAller       = (*FS)(nil)
	_ store.AtomicWriter      = (*FS)(nil)
	_ store.VersionedReplacer = (*FS)(nil)
	_ store.PrefixDirs        = (*FS)(nil)
)

// DirRenameCopies reports true: a directory is renamed object by object.
func (f *FS) DirRenameCopies() bool { return true }

// ErrChanged means a conditional replace found the object changed since
// its version was read (If-Match on its ETag failed).
var ErrChanged = errors.New("changed since it was read (its ETag differs); not overwritten")

// FolderSuffix ends Hadoop's (and EMRFS's) directory marker objects.
const FolderSuffix = "_$folder$"

// permKey is the user metadata key of the permission bits (octal).
const permKey = "sparkckpt-perm"

// smallFile is the size up to which Open reads a file whole: one
// request, checksum verified, and ReadAt from memory.
const smallFile = 4 << 20

// Path returns the URI of a store name, with the bucket's scheme.
func (f *FS) Path(name string) string {
	if name == "." {
		return f.scheme + "://" + f.bucket + "/"
	}
	return f.scheme + "://" + f.bucket + "/" + name
}

// Bucket returns the bucket's name.
func (f *FS) Bucket() string { return f.bucket }

// Scheme returns the scheme the bucket was opened with (s3, s3a or s3n).
func (f *FS) Scheme() string { return f.scheme }

func (f *FS) ctx() context.Context { return f.c.ctx }

func key(name string) string {
	if name == "." {
		return ""
	}
	return name
}

func prefix(name string) string {
	if name == "." {
		return ""
	}
	return name + "/"
}

func (f *FS) check(op, name string) error {
	if !fs.ValidPath(name) {
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	return nil
}

// fail converts an SDK error to an *fs.PathError naming the object's URI
// and the S3 operation.
func (f *FS) fail(op, name string, err error) error {
	if err == nil {
		return nil
	}
	if ce := f.ctx().Err(); ce != nil {
		return &fs.PathError{Op: op, Path: f.Path(name), Err: ce}
	}
	status, _ := httpStatus(err)
	switch status {
	case 0:
		if m := err.Error(); strings.Contains(m, "checksum did not match") {
			return &fs.PathError{Op: op, Path: f.Path(name), Err: fmt.Errorf("corrupted: the bytes read do not match the checksum S3 stores for the object (%s)", m[strings.Index(m, "checksum did not match"):])}
		}
		return &fs.PathError{Op: op, Path: f.Path(name), Err: fmt.Errorf("S3 endpoint %s: %s", f.c.Endpoint(), oneLine(rootCause(err).Error()))}
	case http.StatusNotFound:
		return &fs.PathError{Op: op, Path: f.Path(name), Err: fs.ErrNotExist}
	case http.StatusForbidden:
		return &fs.PathError{Op: op, Path: f.Path(name), Err: fmt.Errorf("%w: access denied by S3 (bucket %s, key %s, access key %s)", fs.ErrPermission, f.bucket, key(name), f.c.creds.AccessKeyID)}
	}
	return &fs.PathError{Op: op, Path: f.Path(name), Err: errors.New(oneLine(apiMessage(err)))}
}

// apiMessage is the S3 error code and message of err.
func apiMessage(err error) string {
	s := err.Error()
	if i := strings.Index(s, "api error "); i >= 0 {
		return s[i+len("api error "):]
	}
	return s
}

func isStatus(err error, status int) bool {
	s, _ := httpStatus(err)
	return s == status
}

// fileInfo describes an object or a directory.
type fileInfo struct {
	name    string
	size    int64
	mode    fs.FileMode
	modTime time.Time
	etag    string
}

func (i *fileInfo) Name() string       { return i.name }
func (i *fileInfo) Size() int64        { return i.size }
func (i *fileInfo) Mode() fs.FileMode  { return i.mode }
func (i *fileInfo) ModTime() time.Time { return i.modTime }
func (i *fileInfo) IsDir() bool        { return i.mode.IsDir() }
func (i *fileInfo) Sys() any           { return nil }

func dirInfo(name string) *fileInfo {
	return &fileInfo{name: path.Base(name), mode: fs.ModeDir | 0o755}
}

func perm(meta map[string]string) fs.FileMode {
	if p, err := strconv.ParseUint(meta[permKey], 8, 32); err == nil {
		return fs.FileMode(p) & fs.ModePerm
	}
	return 0o644
}

func objectInfo(name string, size *int64, mod *time.Time, etag *string, meta map[string]string) *fileInfo {
	return &fileInfo{name: path.Base(name), size: aws.ToInt64(size), mode: perm(meta),
		modTime: aws.ToTime(mod), etag: aws.ToString(etag)}
}

// head describes the object name (nil, nil if there is none).
func (f *FS) head(name string) (*fileInfo, error) {
	out, err := f.c.api.HeadObject(f.ctx(), &s3.HeadObjectInput{Bucket: &f.bucket, Key: aws.String(key(name))})
	if isStatus(err, http.StatusNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, f.fail("HeadObject", name, err)
	}
	return objectInfo(name, out.ContentLength, out.LastModified, out.ETag, out.Metadata), nil
}

// isDir reports whether some object has the prefix name/.
func (f *FS) isDir(name string) (bool, error) {
	if name == "." {
		return true, nil
	}
	f.mu.Lock()
	known := f.dirs[name]
	f.mu.Unlock()
	if known {
		return true, nil
	}
	out, err := f.c.api.ListObjectsV2(f.ctx(), &s3.ListObjectsV2Input{Bucket: &f.bucket, Prefix: aws.String(prefix(name)), MaxKeys: aws.Int32(1)})
	if err != nil {
		return false, f.fail("ListObjectsV2", name, err)
	}
	if len(out.Contents) == 0 && len(out.CommonPrefixes) == 0 {
		return false, nil
	}
	f.known(name)
	return true, nil
}

// known records that name and its parents are directories.
func (f *FS) known(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for n := name; n != "."; n = path.Dir(n) {
		f.dirs[n] = true
	}
}

// forget drops name and everything under it from the known directories.
func (f *FS) forget(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for d := range f.dirs {
		if d == name || strings.HasPrefix(d, name+"/") || name == "." {
			delete(f.dirs, d)
		}
	}
}

// Stat describes a file (HeadObject) or a directory (a prefix with
// objects under it).
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	if err := f.check("stat", name); err != nil {
		return nil, err
	}
	if name == "." {
		return dirInfo(f.bucket), nil
	}
	fi, err := f.head(name)
	if err != nil || fi != nil {
		if fi == nil {
			return nil, err
		}
		return fi, nil
	}
	ok, err := f.isDir(name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &fs.PathError{Op: "stat", Path: f.Path(name), Err: fs.ErrNotExist}
	}
	return dirInfo(name), nil
}

type dirEntry struct{ info *fileInfo }

func (d dirEntry) Name() string               { return d.info.name }
func (d dirEntry) IsDir() bool                { return d.info.IsDir() }
func (d dirEntry) Type() fs.FileMode          { return d.info.mode.Type() }
func (d dirEntry) Info() (fs.FileInfo, error) { return d.info, nil }

// ReadDir lists a directory, paginating ListObjectsV2 with the "/"
// delimiter. Markers ("dir/" itself, "x_$folder$") are not listed as
// files; "x_$folder$" lists directory x.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	if err := f.check("readdir", name); err != nil {
		return nil, err
	}
	pre := prefix(name)
	dirs := map[string]bool{}
	var ents []fs.DirEntry
	marker := false
	p := s3.NewListObjectsV2Paginator(f.c.api, &s3.ListObjectsV2Input{Bucket: &f.bucket, Prefix: aws.String(pre), Delimiter: aws.String("/")})
	for p.HasMorePages() {
		out, err := p.NextPage(f.ctx())
		if err != nil {
			return nil, f.fail("ListObjectsV2", name, err)
		}
		for _, cp := range out.CommonPrefixes {
			child := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(cp.Prefix), pre), "/")
			if fs.ValidPath(child) && !strings.Contains(child, "/") && child != "." {
				dirs[child] = true
			}
		}
		for _, o := range out.Contents {
			child := strings.TrimPrefix(aws.ToString(o.Key), pre)
			switch {
			case child == "":
				marker = true
			case strings.HasSuffix(child, FolderSuffix):
				if d := strings.TrimSuffix(child, FolderSuffix); d != "" && fs.ValidPath(d) {
					dirs[d] = true
				}
			case fs.ValidPath(child) && !strings.Contains(child, "/"):
				ents = append(ents, dirEntry{objectInfo(child, o.Size, o.LastModified, o.ETag, nil)})
			}
		}
	}
	for d := range dirs {
		ents = append(ents, dirEntry{dirInfo(d)})
	}
	if len(ents) == 0 && !marker && name != "." {
		fi, err := f.head(name)
		if err != nil {
			return nil, err
		}
		if fi != nil {
			return nil, &fs.PathError{Op: "readdir", Path: f.Path(name), Err: errNotDir}
		}
		return nil, &fs.PathError{Op: "readdir", Path: f.Path(name), Err: fs.ErrNotExist}
	}
	if name != "." {
		f.known(name)
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	return ents, nil
}

var (
	errNotDir   = errors.New("not a directory")
	errIsDir    = fmt.Errorf("is a directory: %w", fs.ErrInvalid)
	errNotEmpty = errors.New("directory not empty")
)

// Open opens a file. A file up to 4 MiB is read whole at once (one
// GetObject whose checksum the SDK verifies); a larger one streams, its
// checksum verified when read to the end, ReadAt ranged and pinned to
// the ETag.
func (f *FS) Open(name string) (store.File, error) {
	if err := f.check("open", name); err != nil {
		return nil, err
	}
	if name == "." {
		return nil, &fs.PathError{Op: "open", Path: f.Path(name), Err: errIsDir}
	}
	out, err := f.c.api.GetObject(f.ctx(), &s3.GetObjectInput{Bucket: &f.bucket, Key: aws.String(name), ChecksumMode: types.ChecksumModeEnabled})
	if isStatus(err, http.StatusNotFound) {
		if ok, derr := f.isDir(name); derr == nil && ok {
			return nil, &fs.PathError{Op: "open", Path: f.Path(name), Err: errIsDir}
		}
		return nil, &fs.PathError{Op: "open", Path: f.Path(name), Err: fs.ErrNotExist}
	}
	if err != nil {
		return nil, f.fail("GetObject", name, err)
	}
	fl := &file{fs: f, name: name, info: objectInfo(name, out.ContentLength, out.LastModified, out.ETag, out.Metadata), body: out.Body}
	if fl.info.size <= smallFile {
		b := make([]byte, 0, fl.info.size+1)
		b, err = readAllInto(b, out.Body)
		out.Body.Close()
		fl.body = nil
		if err != nil {
			return nil, f.fail("GetObject", name, err)
		}
		if int64(len(b)) != fl.info.size {
			return nil, &fs.PathError{Op: "GetObject", Path: f.Path(name), Err: fmt.Errorf("read %d bytes of %d", len(b), fl.info.size)}
		}
		fl.data = bytes.NewReader(b)
	}
	return fl, nil
}

func readAllInto(b []byte, r io.Reader) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// file is an object opened for reading.
type file struct {
	fs   *FS
	name string
	info *fileInfo
	data *bytes.Reader // a small file, read whole
	body io.ReadCloser // the streaming body from off
	off  int64
}

func (fl *file) Stat() (fs.FileInfo, error) { return fl.info, nil }

func (fl *file) Read(p []byte) (int, error) {
	if fl.data != nil {
		return fl.data.Read(p)
	}
	if fl.off >= fl.info.size {
		return 0, io.EOF
	}
	if fl.body == nil {
		out, err := fl.fs.c.api.GetObject(fl.fs.ctx(), &s3.GetObjectInput{Bucket: &fl.fs.bucket, Key: aws.String(fl.name),
			Range: aws.String(fmt.Sprintf("bytes=%d-", fl.off)), IfMatch: aws.String(fl.info.etag)})
		if err != nil {
			return 0, fl.readErr(err)
		}
		fl.body = out.Body
	}
	n, err := fl.body.Read(p)
	fl.off += int64(n)
	if err != nil && err != io.EOF {
		return n, fl.readErr(err)
	}
	if err == io.EOF && fl.off < fl.info.size {
		return n, &fs.PathError{Op: "read", Path: fl.fs.Path(fl.name), Err: io.ErrUnexpectedEOF}
	}
	return n, err
}

func (fl *file) readErr(err error) error {
	if isStatus(err, http.StatusPreconditionFailed) {
		return &fs.PathError{Op: "read", Path: fl.fs.Path(fl.name), Err: errors.New("the object changed while it was read")}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return err
	}
	return fl.fs.fail("GetObject", fl.name, err)
}

func (fl *file) ReadAt(p []byte, off int64) (int, error) {
	if fl.data != nil {
		return fl.data.ReadAt(p, off)
	}
	if off < 0 {
		return 0, &fs.PathError{Op: "readat", Path: fl.fs.Path(fl.name), Err: fs.ErrInvalid}
	}
	if off >= fl.info.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	end := min(off+int64(len(p)), fl.info.size)
	out, err := fl.fs.c.api.GetObject(fl.fs.ctx(), &s3.GetObjectInput{Bucket: &fl.fs.bucket, Key: aws.String(fl.name),
		Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, end-1)), IfMatch: aws.String(fl.info.etag)})
	if err != nil {
		return 0, fl.readErr(err)
	}
	defer out.Body.Close()
	n, err := io.ReadFull(out.Body, p[:end-off])
	if err != nil {
		return n, fl.readErr(err)
	}
	if end < off+int64(len(p)) {
		return n, io.EOF
	}
	return n, nil
}

// Seek sets the offset of the next Read.
func (fl *file) Seek(offset int64, whence int) (int64, error) {
	if fl.data != nil {
		return fl.data.Seek(offset, whence)
	}
	switch whence {
	case io.SeekCurrent:
		offset += fl.off
	case io.SeekEnd:
		offset += fl.info.size
	}
	if offset < 0 {
		return 0, &fs.PathError{Op: "seek", Path: fl.fs.Path(fl.name), Err: fs.ErrInvalid}
	}
	if offset != fl.off && fl.body != nil {
		fl.body.Close()
		fl.body = nil
	}
	fl.off = offset
	return offset, nil
}

func (fl *file) Close() error {
	if fl.body != nil {
		fl.body.Close()
		fl.body = nil
	}
	return nil
}

// parentExists checks that the directory of name exists.
func (f *FS) parentExists(op, name string) error {
	dir := path.Dir(name)
	ok, err := f.isDir(dir)
	if err != nil {
		return err
	}
	if !ok {
		return &fs.PathError{Op: op, Path: f.Path(name), Err: fs.ErrNotExist}
	}
	return nil
}

// Create creates a file: it fails with fs.ErrExist if the key exists and
// with fs.ErrNotExist if its directory does not; Close uploads with
// If-None-Match: *.
func (f *FS) Create(name string, perm fs.FileMode) (store.Writer, error) {
	if err := f.check("create", name); err != nil {
		return nil, err
	}
	if name == "." {
		return nil, &fs.PathError{Op: "create", Path: f.Path(name), Err: fs.ErrExist}
	}
	if err := f.parentExists("create", name); err != nil {
		return nil, err
	}
	fi, err := f.head(name)
	if err != nil {
		return nil, err
	}
	if fi != nil {
		return nil, &fs.PathError{Op: "create", Path: f.Path(name), Err: fs.ErrExist}
	}
	return f.newWriter(name, perm, cond{ifNoneMatch: true}), nil
}

// cond is the condition of an upload.
type cond struct {
	ifNoneMatch bool   // create: only if no object exists
	ifMatch     string // replace: only if the object's ETag is this
}

func (f *FS) newWriter(name string, perm fs.FileMode, c cond) *writer {
	return &writer{fs: f, name: name, perm: perm, cond: c, crc: crc32.New(crc32.MakeTable(crc32.Castagnoli))}
}

// writer buffers a file being created and uploads it on Close (one
// PutObject), or in parts as it grows past the part size.
type writer struct {
	fs     *FS
	name   string
	perm   fs.FileMode
	cond   cond
	buf    []byte
	crc    hash.Hash32 // of every byte written
	upload *string     // the multipart upload, once started
	parts  []types.CompletedPart
	err    error
	closed bool
}

func crcString(h hash.Hash32) string {
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, h.Sum32()))
}

func crcOf(b []byte) string {
	h := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	h.Write(b)
	return crcString(h)
}

func (w *writer) metadata() map[string]string {
	return map[string]string{permKey: fmt.Sprintf("%04o", w.perm.Perm())}
}

func (w *writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.closed {
		return 0, &fs.PathError{Op: "write", Path: w.fs.Path(w.name), Err: fs.ErrClosed}
	}
	w.buf = append(w.buf, p...)
	w.crc.Write(p)
	for int64(len(w.buf)) > w.fs.c.partSize {
		if err := w.uploadPart(w.buf[:w.fs.c.partSize]); err != nil {
			w.abort()
			w.err = err
			return 0, err
		}
		w.buf = append(w.buf[:0], w.buf[w.fs.c.partSize:]...)
	}
	return len(p), nil
}

func (w *writer) uploadPart(b []byte) error {
	api, ctx := w.fs.c.api, w.fs.ctx()
	if w.upload == nil {
		out, err := api.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &w.fs.bucket, Key: aws.String(w.name),
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c, ChecksumType: types.ChecksumTypeFullObject, Metadata: w.metadata()})
		if err != nil {
			return w.fs.fail("CreateMultipartUpload", w.name, err)
		}
		w.upload = out.UploadId
	}
	n := int32(len(w.parts) + 1)
	sum := crcOf(b)
	out, err := api.UploadPart(ctx, &s3.UploadPartInput{Bucket: &w.fs.bucket, Key: aws.String(w.name), UploadId: w.upload,
		PartNumber: aws.Int32(n), Body: bytes.NewReader(b), ContentLength: aws.Int64(int64(len(b))),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c, ChecksumCRC32C: aws.String(sum)})
	if err != nil {
		return w.fs.fail("UploadPart", w.name, err)
	}
	w.parts = append(w.parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag, ChecksumCRC32C: aws.String(sum)})
	return nil
}

// abort abandons a multipart upload, even when the command is cancelled.
func (w *writer) abort() {
	if w.upload == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.fs.ctx()), w.fs.c.timeout)
	defer cancel()
	w.fs.c.api.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &w.fs.bucket, Key: aws.String(w.name), UploadId: w.upload})
	w.upload = nil
}

// Close uploads the file, durable when it returns nil.
func (w *writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	w.err = w.finish()
	return w.err
}

func (w *writer) finish() error {
	api, ctx := w.fs.c.api, w.fs.ctx()
	var ifNone, ifMatch *string
	if w.cond.ifNoneMatch {
		ifNone = aws.String("*")
	}
	if w.cond.ifMatch != "" {
		ifMatch = aws.String(w.cond.ifMatch)
	}
	op := "PutObject"
	var err error
	if w.upload == nil {
		_, err = api.PutObject(ctx, &s3.PutObjectInput{Bucket: &w.fs.bucket, Key: aws.String(w.name),
			Body: bytes.NewReader(w.buf), ContentLength: aws.Int64(int64(len(w.buf))),
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c, ChecksumCRC32C: aws.String(crcString(w.crc)),
			IfNoneMatch: ifNone, IfMatch: ifMatch, Metadata: w.metadata()})
	} else {
		op = "CompleteMultipartUpload"
		if len(w.buf) > 0 {
			if err := w.uploadPart(w.buf); err != nil {
				w.abort()
				return err
			}
		}
		_, err = api.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &w.fs.bucket, Key: aws.String(w.name),
			UploadId: w.upload, MultipartUpload: &types.CompletedMultipartUpload{Parts: w.parts},
			ChecksumCRC32C: aws.String(crcString(w.crc)), ChecksumType: types.ChecksumTypeFullObject,
			IfNoneMatch: ifNone, IfMatch: ifMatch})
		if err != nil {
			w.abort()
		}
		w.upload = nil
	}
	w.buf = nil
	if err == nil {
		return nil
	}
	if isStatus(err, http.StatusPreconditionFailed) || isStatus(err, http.StatusConflict) {
		if w.cond.ifNoneMatch {
			return &fs.PathError{Op: op, Path: w.fs.Path(w.name), Err: fs.ErrExist}
		}
		return &fs.PathError{Op: op, Path: w.fs.Path(w.name), Err: ErrChanged}
	}
	if w.cond.ifMatch != "" && isStatus(err, http.StatusNotFound) {
		return &fs.PathError{Op: op, Path: w.fs.Path(w.name), Err: ErrChanged}
	}
	return w.fs.fail(op, w.name, err)
}

// WriteFileAtomic writes data to name in one upload (atomic on S3: a
// reader sees the old object or the new one), replacing any file there;
// the directory of name must exist.
func (f *FS) WriteFileAtomic(name string, data []byte, perm fs.FileMode) error {
	if err := f.check("write", name); err != nil {
		return err
	}
	if err := f.parentExists("write", name); err != nil {
		return err
	}
	w := f.newWriter(name, perm, cond{})
	if _, err := w.Write(data); err != nil {
		return err
	}
	return w.Close()
}

// ReadFileVersion reads the whole file and returns its ETag, the version
// ReplaceIfVersion is conditional on.
func (f *FS) ReadFileVersion(name string) ([]byte, string, error) {
	fl, err := f.Open(name)
	if err != nil {
		return nil, "", err
	}
	defer fl.Close()
	b, err := io.ReadAll(fl)
	if err != nil {
		return nil, "", err
	}
	return b, fl.(*file).info.etag, nil
}

// ReplaceIfVersion replaces the file name by data in one upload with
// If-Match on version (an ETag from ReadFileVersion or Stat): it fails
// with ErrChanged, writing nothing, if the object changed since.
func (f *FS) ReplaceIfVersion(name string, data []byte, perm fs.FileMode, version string) error {
	if err := f.check("write", name); err != nil {
		return err
	}
	if version == "" {
		return &fs.PathError{Op: "write", Path: f.Path(name), Err: errors.New("no version to replace")}
	}
	w := f.newWriter(name, perm, cond{ifMatch: version})
	if _, err := w.Write(data); err != nil {
		return err
	}
	return w.Close()
}

// Version returns the ETag of a file.
func (f *FS) Version(name string) (string, error) {
	fi, err := f.head(name)
	if err != nil {
		return "", err
	}
	if fi == nil {
		return "", &fs.PathError{Op: "stat", Path: f.Path(name), Err: fs.ErrNotExist}
	}
	return fi.etag, nil
}

// MkdirAll makes a directory exist: where no object is under it yet, an
// empty "name/" marker object.
func (f *FS) MkdirAll(name string, perm fs.FileMode) error {
	if err := f.check("mkdir", name); err != nil {
		return err
	}
	if ok, err := f.isDir(name); err != nil || ok {
		return err
	}
	// No file may be in the way of any element.
	var elems []string
	for n := name; n != "."; n = path.Dir(n) {
		elems = append(elems, n)
	}
	for i := len(elems) - 1; i >= 0; i-- {
		n := elems[i]
		if i > 0 {
			if ok, err := f.isDir(n); err != nil {
				return err
			} else if ok {
				continue
			}
		}
		fi, err := f.head(n)
		if err != nil {
			return err
		}
		if fi != nil {
			return &fs.PathError{Op: "mkdir", Path: f.Path(n), Err: fmt.Errorf("a file is in the way: %w", errNotDir)}
		}
	}
	if err := f.putMarker(name, prefix(name)); err != nil {
		return err
	}
	f.known(name)
	return nil
}

// putMarker puts the empty directory marker object k.
func (f *FS) putMarker(name, k string) error {
	_, err := f.c.api.PutObject(f.ctx(), &s3.PutObjectInput{Bucket: &f.bucket, Key: aws.String(k),
		Body: bytes.NewReader(nil), ContentLength: aws.Int64(0),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c, ChecksumCRC32C: aws.String(crcOf(nil)), IfNoneMatch: aws.String("*")})
	if err != nil && !isStatus(err, http.StatusPreconditionFailed) && !isStatus(err, http.StatusConflict) {
		return f.fail("PutObject", name, err)
	}
	return nil
}

// Remove removes a file, or an empty directory (its markers).
func (f *FS) Remove(name string) error {
	if err := f.check("remove", name); err != nil {
		return err
	}
	if name == "." {
		return &fs.PathError{Op: "remove", Path: f.Path(name), Err: fs.ErrInvalid}
	}
	fi, err := f.head(name)
	if err != nil {
		return err
	}
	if fi != nil {
		return f.deleteKey(name, name)
	}
	out, err := f.c.api.ListObjectsV2(f.ctx(), &s3.ListObjectsV2Input{Bucket: &f.bucket, Prefix: aws.String(prefix(name)), MaxKeys: aws.Int32(2)})
	if err != nil {
		return f.fail("ListObjectsV2", name, err)
	}
	if len(out.Contents) == 0 {
		f.forget(name)
		return &fs.PathError{Op: "remove", Path: f.Path(name), Err: fs.ErrNotExist}
	}
	for _, o := range out.Contents {
		if aws.ToString(o.Key) != prefix(name) {
			return &fs.PathError{Op: "remove", Path: f.Path(name), Err: errNotEmpty}
		}
	}
	f.forget(name)
	if err := f.deleteKey(name, prefix(name)); err != nil {
		return err
	}
	return f.deleteKey(name, name+FolderSuffix)
}

func (f *FS) deleteKey(name, k string) error {
	_, err := f.c.api.DeleteObject(f.ctx(), &s3.DeleteObjectInput{Bucket: &f.bucket, Key: aws.String(k)})
	if err != nil && !isStatus(err, http.StatusNotFound) {
		return f.fail("DeleteObject", name, err)
	}
	return nil
}

// keysUnder lists every key under the prefix of directory name.
func (f *FS) keysUnder(name string, fn func(key string) error) error {
	p := s3.NewListObjectsV2Paginator(f.c.api, &s3.ListObjectsV2Input{Bucket: &f.bucket, Prefix: aws.String(prefix(name))})
	for p.HasMorePages() {
		out, err := p.NextPage(f.ctx())
		if err != nil {
			return f.fail("ListObjectsV2", name, err)
		}
		for _, o := range out.Contents {
			if err := fn(aws.ToString(o.Key)); err != nil {
				return err
			}
		}
	}
	return nil
}

// RemoveAll removes name and every object under it (DeleteObjects, 1000
// keys a request). A missing name is not an error.
func (f *FS) RemoveAll(name string) error {
	if err := f.check("removeall", name); err != nil {
		return err
	}
	f.forget(name)
	var batch []types.ObjectIdentifier
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		out, err := f.c.api.DeleteObjects(f.ctx(), &s3.DeleteObjectsInput{Bucket: &f.bucket,
			Delete: &types.Delete{Objects: batch, Quiet: aws.Bool(true)}, ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c})
		batch = batch[:0]
		if err != nil {
			return f.fail("DeleteObjects", name, err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return &fs.PathError{Op: "DeleteObjects", Path: f.Path(aws.ToString(e.Key)), Err: fmt.Errorf("%s: %s", aws.ToString(e.Code), aws.ToString(e.Message))}
		}
		return nil
	}
	err := f.keysUnder(name, func(k string) error {
		batch = append(batch, types.ObjectIdentifier{Key: aws.String(k)})
		if len(batch) == 1000 {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	if name == "." {
		return nil
	}
	if err := f.deleteKey(name, name); err != nil {
		return err
	}
	return f.deleteKey(name, name+FolderSuffix)
}

// copySource is the x-amz-copy-source of a key, URL-encoded.
func (f *FS) copySource(k string) string {
	parts := strings.Split(k, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return f.bucket + "/" + strings.Join(parts, "/")
}

// copyObject copies the object src to dst, metadata and all, with a
// CRC32C checksum on the copy.
func (f *FS) copyObject(name, src, dst string) error {
	_, err := f.c.api.CopyObject(f.ctx(), &s3.CopyObjectInput{Bucket: &f.bucket, Key: aws.String(dst),
		CopySource: aws.String(f.copySource(src)), MetadataDirective: types.MetadataDirectiveCopy,
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c})
	if err != nil {
		return f.fail("CopyObject", name, err)
	}
	return nil
}

var _ store.Copier = (*FS)(nil)

// CopyFile copies the file oldname to newname server side (CopyObject,
// with a CRC32C checksum on the copy). newname must not exist; its
// directory must (as for Create).
func (f *FS) CopyFile(oldname, newname string) error {
	if err := f.check("copy", oldname); err != nil {
		return err
	}
	if err := f.check("copy", newname); err != nil {
		return err
	}
	if err := f.parentExists("copy", newname); err != nil {
		return err
	}
	fi, err := f.head(newname)
	if err != nil {
		return err
	}
	if fi != nil {
		return &fs.PathError{Op: "copy", Path: f.Path(newname), Err: fs.ErrExist}
	}
	return f.copyObject(oldname, key(oldname), key(newname))
}

// Rename moves a file (CopyObject, then DeleteObject of the source) or a
// directory (every object under it, copied then deleted: not atomic).
// See the package documentation for what a crash leaves.
func (f *FS) Rename(oldname, newname string) error {
	if err := f.check("rename", oldname); err != nil {
		return err
	}
	if err := f.check("rename", newname); err != nil {
		return err
	}
	if oldname == "." || newname == "." {
		return &fs.PathError{Op: "rename", Path: f.Path(oldname), Err: fs.ErrInvalid}
	}
	if oldname == newname {
		return nil
	}
	fi, err := f.head(oldname)
	if err != nil {
		return err
	}
	if fi == nil {
		ok, err := f.isDir(oldname)
		if err != nil {
			return err
		}
		if !ok {
			return &fs.PathError{Op: "rename", Path: f.Path(oldname), Err: fs.ErrNotExist}
		}
		return f.renameDir(oldname, newname)
	}
	if err := f.parentExists("rename", newname); err != nil {
		return err
	}
	if ok, err := f.isDir(newname); err != nil {
		return err
	} else if ok {
		return &fs.PathError{Op: "rename", Path: f.Path(newname), Err: fmt.Errorf("a directory is in the way: %w", fs.ErrExist)}
	}
	if err := f.copyObject(oldname, oldname, newname); err != nil {
		return err
	}
	return f.deleteKey(oldname, oldname)
}

func (f *FS) renameDir(oldname, newname string) error {
	if strings.HasPrefix(newname, oldname+"/") {
		return &fs.PathError{Op: "rename", Path: f.Path(newname), Err: fmt.Errorf("inside %s: %w", f.Path(oldname), fs.ErrInvalid)}
	}
	if err := f.parentExists("rename", newname); err != nil {
		return err
	}
	if fi, err := f.head(newname); err != nil {
		return err
	} else if fi != nil {
		return &fs.PathError{Op: "rename", Path: f.Path(newname), Err: fmt.Errorf("a file is in the way: %w", fs.ErrExist)}
	}
	out, err := f.c.api.ListObjectsV2(f.ctx(), &s3.ListObjectsV2Input{Bucket: &f.bucket, Prefix: aws.String(prefix(newname)), MaxKeys: aws.Int32(2)})
	if err != nil {
		return f.fail("ListObjectsV2", newname, err)
	}
	for _, o := range out.Contents {
		if aws.ToString(o.Key) != prefix(newname) {
			return &fs.PathError{Op: "rename", Path: f.Path(newname), Err: fmt.Errorf("%w: %w", errNotEmpty, fs.ErrExist)}
		}
	}
	var keys []string
	err = f.keysUnder(oldname, func(k string) error {
		dst := prefix(newname) + strings.TrimPrefix(k, prefix(oldname))
		if strings.HasSuffix(k, "/") { // a directory marker: made anew, not copied
			if err := f.putMarker(oldname, dst); err != nil {
				return err
			}
			keys = append(keys, k)
			return nil
		}
		if err := f.copyObject(oldname, k, dst); err != nil {
			return err
		}
		keys = append(keys, k)
		return nil
	})
	if err != nil {
		return err
	}
	f.forget(oldname)
	f.known(newname)
	for _, k := range keys {
		if err := f.deleteKey(oldname, k); err != nil {
			return err
		}
	}
	return f.deleteKey(oldname, oldname+FolderSuffix)
}

// Upload is an incomplete multipart upload.
type Upload struct {
	Name      string // store name of the key
	ID        string
	Initiated time.Time
}

// Uploads lists the incomplete multipart uploads under the directory
// name (left by an interrupted upload; S3 keeps, and bills, their parts
// until they are aborted).
func (f *FS) Uploads(name string) ([]Upload, error) {
	var ups []Upload
	in := &s3.ListMultipartUploadsInput{Bucket: &f.bucket, Prefix: aws.String(prefix(name))}
	for {
		out, err := f.c.api.ListMultipartUploads(f.ctx(), in)
		if err != nil {
			return nil, f.fail("ListMultipartUploads", name, err)
		}
		for _, u := range out.Uploads {
			ups = append(ups, Upload{Name: aws.ToString(u.Key), ID: aws.ToString(u.UploadId), Initiated: aws.ToTime(u.Initiated)})
		}
		if !aws.ToBool(out.IsTruncated) {
			return ups, nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

// AbortUpload aborts an incomplete multipart upload.
func (f *FS) AbortUpload(u Upload) error {
	_, err := f.c.api.AbortMultipartUpload(f.ctx(), &s3.AbortMultipartUploadInput{Bucket: &f.bucket, Key: aws.String(u.Name), UploadId: aws.String(u.ID)})
	return f.fail("AbortMultipartUpload", u.Name, err)
}
