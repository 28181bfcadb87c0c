package main

import (
	"fmt"
	"path"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode/check"
	"github.com/sparkckpt/sparkckpt/store/s3"
)

// addUploadFindings reports, for a checkpoint on S3, the incomplete
// multipart uploads under it (left by an interrupted upload: S3 keeps and
// bills their parts until they are aborted). It only lists them: check
// writes nothing; the fix aborts them.
func addUploadFindings(in *input, rep *check.Report) error {
	if !in.remote() {
		return nil
	}
	f, ok := in.loc.store.(*s3.FS)
	if !ok {
		return nil
	}
	ups, err := f.Uploads(in.loc.name)
	if err != nil || len(ups) == 0 {
		return err
	}
	rel := func(key string) string {
		if in.loc.name == "." {
			return key
		}
		return strings.TrimPrefix(key, in.loc.name+"/")
	}
	first := ups[0]
	fix := "abort the upload (the command, with the AWS CLI)"
	if len(ups) > 1 {
		fix = fmt.Sprintf("abort the uploads: the command aborts the first, and so for the %d others (--json lists them)", len(ups)-1)
	}
	fd := check.Finding{Severity: check.Warning, Code: "incomplete-upload", File: rel(first.Name),
		Message: fmt.Sprintf("%d incomplete multipart upload(s) under %s (e.g. %s, started %s): an upload was interrupted; no object was created, but S3 keeps and bills the parts until the upload is aborted",
			len(ups), in.name, path.Base(first.Name), first.Initiated.UTC().Format("2006-01-02 15:04:05 UTC")),
		Fix: fix}.WithCommand("aws", "s3api", "abort-multipart-upload", "--bucket", f.Bucket(), "--key", first.Name, "--upload-id", first.ID)
	if len(ups) > 1 {
		fd.Count = len(ups)
		for _, u := range ups {
			fd.Places = append(fd.Places, check.Place{File: rel(u.Name), Location: "upload " + u.ID, URI: f.Path(u.Name)})
		}
	}
	// After the errors and warnings already there, before the infos.
	i := 0
	for i < len(rep.Findings) && rep.Findings[i].Severity != check.Info {
		i++
	}
	rep.Findings = append(rep.Findings[:i], append([]check.Finding{fd}, rep.Findings[i:]...)...)
	rep.Counts.Warning++
	return nil
}
