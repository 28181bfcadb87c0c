package check

import (
	"fmt"
	"sort"
)

// Symlink is a symbolic link below the checked directory, as the caller's
// file system listing classified it (package store's rule: links inside
// the directory are followed, the others are not). Kind is "inside",
// "outside", "broken" or "loop".
type Symlink struct {
	Name     string // slash-separated, relative to the checked directory
	Target   string // as stored
	Kind     string
	Resolved string // for an inside link, where it leads (relative)
	Dest     string // for an outside link, where it leaves the directory
}

// SymlinkFindings returns one finding per symbolic link:
//
//	symlink          info     a link inside the directory: followed, as Spark does
//	symlink-outside  error    a link leading outside: not followed, so what Spark reads through it is not checked
//	symlink-broken   warning  a link to nothing: Spark cannot read it either
//	symlink-loop     warning  a link loop, or a directory link to its own ancestor: not followed
func SymlinkFindings(links []Symlink) []Finding {
	var out []Finding
	for _, l := range links {
		f := Finding{File: l.Name}
		switch l.Kind {
		case "inside":
			f.Severity, f.Code = Info, "symlink"
			f.Message = fmt.Sprintf("%s is a symbolic link to %s, inside the directory: followed (Spark follows it too); copies and rewrites take the file it leads to", l.Name, l.Resolved)
		case "outside":
			dest := l.Target
			if l.Dest != "" {
				dest = l.Dest
			}
			f.Severity, f.Code = Error, "symlink-outside"
			f.Message = fmt.Sprintf("%s is a symbolic link to %s, outside the checkpoint directory: not followed, so what Spark would read through it is not checked here, and a copy or a rewrite of the directory does not carry it", l.Name, dest)
			f.Fix = "replace the link by a copy of what it leads to (cp -L), then check again"
		case "broken":
			f.Severity, f.Code = Warning, "symlink-broken"
			f.Message = fmt.Sprintf("%s is a broken symbolic link (to %s, which does not exist): Spark cannot read it either", l.Name, l.Target)
			f.Fix = "remove the link, or restore what it leads to"
		default:
			f.Severity, f.Code = Warning, "symlink-loop"
			f.Message = fmt.Sprintf("%s is a symbolic link loop (to %s), or a directory link to its own ancestor: not followed", l.Name, l.Target)
			f.Fix = "remove the link"
		}
		out = append(out, f)
	}
	return out
}

// AddFindings adds findings to a report's findings, keeping them sorted
// by severity, and updates the counts and the verdict.
func AddFindings(findings []Finding, counts *Counts, ok *bool, add []Finding) []Finding {
	findings = append(findings, add...)
	sort.SliceStable(findings, func(i, j int) bool { return findings[i].Severity.rank() < findings[j].Severity.rank() })
	for _, f := range add {
		switch f.Severity {
		case Error:
			counts.Error++
			*ok = false
		case Warning:
			counts.Warning++
		default:
			counts.Info++
		}
	}
	return findings
}

// outsideLink reports whether name is a symbolic link leading outside the
// directory (Options.Symlinks).
func (c *checker) outsideLink(name string) bool {
	for _, l := range c.opts.Symlinks {
		if l.Name == name && l.Kind == "outside" {
			return true
		}
	}
	return false
}
