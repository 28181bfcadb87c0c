package rewrite

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode/crcfile"
	"github.com/sparkckpt/sparkckpt/store"
)

// Symbolic links (the rule is store's; see store.Confine):
//
//   - A plan reads the directory through a store.Confined view: links
//     inside the directory are followed, links leading outside are not
//     (Options.FollowSymlinks reads them too), broken links and loops
//     never; every link is listed in Plan.Symlinks.
//   - A file is rewritten at its real name (no link on its way below the
//     root): a file reached through a link is rewritten where the link
//     leads, inside the directory, and only with Options.FollowSymlinks;
//     the link stays a link, and Undo restores the target's bytes. A file
//     that would change but lies outside the directory is never written
//     (Plan.Outside, a refusal --force does not lift).
//   - Apply, Resume and Undo check again, before writing each file, that
//     no link has appeared on its way since the plan.

// links is a plan's view of the directory's symbolic links.
type links struct {
	cv      *store.Confined        // the directory, confined: Real names where files are written
	rd      *store.Confined        // what the plan reads (cv, or cv following outside links)
	follow  bool                   // Options.FollowSymlinks
	planned map[string]*FileChange // by real name
	read    map[string]bool        // real names read and left unchanged
}

// findLinks sets up the plan's views and lists every link in the directory.
func (p *Plan) findLinks(o Options) error {
	p.cv = store.ConfinedPlace(p.dir.Store, p.dir.Name)
	p.rd, p.follow = p.cv, o.FollowSymlinks
	if o.FollowSymlinks {
		p.rd = p.cv.FollowingOutside()
	}
	p.planned, p.read = map[string]*FileChange{}, map[string]bool{}
	ls, err := p.cv.Links()
	if err != nil {
		return err
	}
	p.Symlinks, p.NotFollowed, p.Outside = ls, []Problem{}, []Problem{}
	for _, l := range ls {
		if l.Kind == store.LinkOutside && !o.FollowSymlinks && mayHoldTargets(l.Name) {
			p.NotFollowed = append(p.NotFollowed, Problem{File: l.Name, Error: (&store.LinkError{Link: l}).Error()})
		}
	}
	return nil
}

// mayHoldTargets reports whether the name rel (relative to the checkpoint
// directory) is, or may hold, a file the rewrite reads: a checkpoint or
// log file or its sidecar, or a directory the rewrite reads from.
func mayHoldTargets(rel string) bool {
	if KindOfPath(rel) != "" {
		return true
	}
	dir, base := path.Split(rel)
	if data, ok := crcfile.IsSidecar(base); ok && KindOfPath(dir+data) != "" {
		return true
	}
	parts := strings.Split(rel, "/")
	switch parts[0] {
	case "receivedBlockMetadata", "sources", "_spark_metadata", "offsets", "commits", "metadata":
		return true
	case "state": // state/<op>/_metadata/v2/<batch>; not the state data
		return len(parts) <= 2 || parts[2] == "_metadata"
	}
	return false
}

// reach resolves the name rel a target file is listed under to the real
// name it is written at. skip is true for a file the plan does not read:
// a broken link or a loop (Spark cannot read it either; Plan.Symlinks
// lists it), or a link leading outside without FollowSymlinks
// (Plan.NotFollowed says so). A link leading outside that is followed
// comes back with real == rel: see outside.
func (l *links) reach(rel string) (real string, skip bool, err error) {
	real, err = l.cv.Real(rel)
	var le *store.LinkError
	switch {
	case errors.As(err, &le) && le.Link.Kind == store.LinkOutside && l.follow:
		return rel, false, nil
	case errors.As(err, &le):
		return "", true, nil
	case err != nil:
		return "", false, err
	}
	return real, false, nil
}

// outside reports (and records in Plan.Outside) whether the file rel,
// which would change, lies outside the directory.
func (p *Plan) outside(rel, real string) bool {
	if _, err := p.cv.Real(rel); err == nil {
		return false
	} else {
		p.Outside = append(p.Outside, Problem{File: rel, Error: err.Error()})
	}
	return true
}

// unchanged counts a file read that needs no change, once per real name.
func (p *Plan) unchanged(real string) {
	if !p.read[real] {
		p.read[real] = true
		p.Unchanged++
	}
}

// linkRefusal is the part of Refusal about symbolic links.
func (p *Plan) linkRefusal(o Options) []error {
	var errs []error
	for _, l := range p.Symlinks {
		if l.Name == MarkerName {
			errs = append(errs, fmt.Errorf("%s is a symbolic link (to %s), where a rewrite writes its in-progress marker: remove it first", MarkerName, l.Target))
		}
	}
	if len(p.Outside) > 0 {
		errs = append(errs, fmt.Errorf("%d file(s) that would change lie outside the directory given, behind symbolic links; sparkckpt never writes there (replace each link by a copy of its file, or rewrite the directory it leads to): %s", len(p.Outside), problemList(p.Outside)))
	}
	if len(p.NotFollowed) > 0 {
		errs = append(errs, fmt.Errorf("%d symbolic link(s) lead outside the directory where files to rewrite may be; not followed (read them with --follow-symlinks; nothing outside the directory is ever written): %s", len(p.NotFollowed), problemList(p.NotFollowed)))
	}
	if !o.FollowSymlinks {
		var linked []Problem
		for _, f := range p.Files {
			if f.Link != "" {
				linked = append(linked, Problem{File: f.Link, Error: "reached through a symbolic link; its target " + f.Path + " would be rewritten"})
			}
		}
		if len(linked) > 0 {
			errs = append(errs, fmt.Errorf("%d file(s) to rewrite are reached through symbolic links (rewrite their targets inside the directory with --follow-symlinks; the links stay links): %s", len(linked), problemList(linked)))
		}
	}
	return errs
}

// confined checks, just before a write, that the file rel of the
// checkpoint directory root has no symbolic link on its way (the plan
// named it by its real name; a link that appeared since would lead the
// write elsewhere, perhaps outside the directory).
func confined(root Place, rel string) error {
	real, err := store.ConfinedPlace(root.Store, root.Name).Real(rel)
	if err != nil {
		return fmt.Errorf("%s: %w; not touching it", root.Join(rel).URI, err)
	}
	if real != rel {
		return fmt.Errorf("%s: a symbolic link is now on its way (to %s); sparkckpt writes only files reached without one: not touching it", root.Join(rel).URI, real)
	}
	return nil
}
