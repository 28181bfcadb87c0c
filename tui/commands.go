package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/aymanbagabas/go-osc52/v2"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/dstream"
	"github.com/sparkckpt/sparkckpt/decode/javaser"
	"github.com/sparkckpt/sparkckpt/decode/structured"
	"github.com/sparkckpt/sparkckpt/rewrite"
)

// All I/O happens here, in commands run off the UI goroutine. They read
// only what they are given and report back with a message; they never
// touch the model.

// debounce is how long the selection must rest before its file decodes.
const debounce = 40 * time.Millisecond

func listCmd(ctx context.Context, fsys fs.FS) tea.Cmd {
	return func() tea.Msg {
		l, err := listDir(ctx, fsys)
		return listedMsg{l: l, err: err}
	}
}

func statCmd(ctx context.Context, es []*entry) tea.Cmd {
	return func() tea.Msg { return statMsg{stats: statAll(ctx, es)} }
}

func debounceCmd(seq int) tea.Cmd {
	return tea.Tick(debounce, func(time.Time) tea.Msg { return decodeReqMsg{seq: seq} })
}

func decodeCmd(ctx context.Context, fsys fs.FS, e *entry, bg bool, lim decode.Limits) tea.Cmd {
	return func() tea.Msg {
		d := decodeFile(ctx, fsys, e, lim)
		if d == nil {
			d = &doc{rel: e.rel, errOff: -1, err: context.Canceled}
		}
		return decodedMsg{d: d, bg: bg}
	}
}

// searchBatch bounds the time one search command runs before reporting.
const searchBatch = 150 * time.Millisecond

// searchCmd searches files[start:] until searchBatch has passed, using
// the cached documents it is given and decoding the others.
func searchCmd(ctx context.Context, fsys fs.FS, id int, q string, files []*entry, start int, cached map[string]*doc, showSecrets bool, lim decode.Limits) tea.Cmd {
	return func() tea.Msg {
		t0 := time.Now()
		msg := searchMsg{id: id, next: start}
		for msg.next < len(files) && time.Since(t0) < searchBatch && ctx.Err() == nil {
			e := files[msg.next]
			msg.next++
			d := cached[e.rel]
			if d == nil {
				d = decodeFile(ctx, fsys, e, lim)
				if d == nil {
					break
				}
				d.data = nil // not kept: a search may read every file
				if d.failed() {
					msg.docs = append(msg.docs, &doc{rel: d.rel, err: d.err, crcErr: d.crcErr, errOff: -1})
				}
			}
			msg.hits = append(msg.hits, searchDoc(d, q, showSecrets)...)
		}
		return msg
	}
}

// uriRef is one reference with the file and bytes it was found in.
type uriRef struct {
	dstream.Reference
	rel string
	off int64
}

// urisCmd collects the references of every metadata checkpoint and driver
// log, decoding the files not in cached (which it hands back to cache).
func urisCmd(ctx context.Context, fsys fs.FS, files []*entry, cached map[string]*doc, ss bool, lim decode.Limits) tea.Cmd {
	return func() tea.Msg {
		var msg urisMsg
		if ss {
			msg.refs = structuredRefs(fsys)
		}
		for _, e := range files {
			d := cached[e.rel]
			if d == nil {
				if d = decodeFile(ctx, fsys, e, lim); d == nil {
					break
				}
				msg.docs = append(msg.docs, d)
			}
			msg.refs = append(msg.refs, docRefs(d)...)
		}
		return msg
	}
}

// structuredRefs lists the URIs of a Structured Streaming checkpoint at the
// root of fsys, as decode/structured finds them (source logs, operator
// metadata), each at its JSON string in its file.
func structuredRefs(fsys fs.FS) []uriRef {
	if !structured.IsCheckpointDir(fsys) {
		return nil
	}
	cp, err := structured.Open(fsys)
	if err != nil {
		return nil
	}
	refs, _ := cp.References()
	var out []uriRef
	for _, r := range refs {
		scheme, auth := dstream.SplitURI(r.URI)
		out = append(out, uriRef{
			Reference: dstream.Reference{URI: r.URI, Scheme: scheme, Authority: auth, File: r.File, Location: r.Location, Role: r.Role, Source: "json"},
			rel:       r.File, off: r.Field.Start})
	}
	return out
}

// docRefs lists the references of a decoded checkpoint or driver log.
func docRefs(d *doc) []uriRef {
	var out []uriRef
	switch {
	case d.file != nil:
		for _, r := range dstream.References(d.file) {
			u := uriRef{Reference: r, rel: d.rel, off: -1}
			switch {
			case r.Node != nil:
				u.off = r.Node.Off
			case r.Pickle != nil && r.Pickle.Function != nil:
				u.off = pickleRefOffset(r.Pickle)
			}
			out = append(out, u)
		}
	case d.log != nil:
		base := map[*javaser.String]int64{}
		for _, rec := range d.log.Records {
			for _, e := range rec.Events {
				if e.Syntax == nil {
					continue
				}
				b := rec.Offset + 4 + e.DataOffset
				javaser.Walk(e.Syntax, func(_ javaser.Path, n javaser.Node) bool {
					if s, ok := n.(*javaser.String); ok {
						base[s] = b
					}
					return true
				})
			}
		}
		for _, r := range dstream.WALReferences(d.log) {
			u := uriRef{Reference: r, rel: d.rel, off: -1}
			if r.Node != nil {
				if b, ok := base[r.Node]; ok {
					u.off = b + r.Node.Off
				}
			}
			out = append(out, u)
		}
	}
	return out
}

func pickleRefOffset(pr *dstream.PickleRef) int64 {
	py := pr.Function
	if py.Pickle == nil || py.Object == nil {
		return -1
	}
	bd := dstream.TransformFunctionData(py.Object)
	if bd == nil {
		return -1
	}
	for _, s := range py.Pickle.Strings() {
		if s.Op == pr.Op {
			off, _ := pickleSpan(bd, dstream.PickleString{Offset: s.Off, Opcode: s.Opcode, Value: s.Value})
			return off
		}
	}
	return -1
}

// planCmd computes a rewrite plan; it writes nothing.
func planCmd(dir rewrite.Place, root string, ms []rewrite.Mapping) tea.Cmd {
	return func() tea.Msg {
		mp, err := rewrite.NewMapper(ms)
		if err != nil {
			return planMsg{err: err}
		}
		if j, ok := rewrite.InProgressAt(dir); ok {
			return planMsg{err: fmt.Errorf("an earlier rewrite was interrupted: run 'sparkckpt rewrite --resume %s' to complete it or '--undo %s' to roll it back", j, j)}
		}
		p, err := rewrite.NewPlanAt(dir, mp, rewrite.Options{})
		if err != nil {
			return planMsg{err: err}
		}
		p.Root = root
		return planMsg{plan: p, mapper: mp, refusal: p.Refusal(rewrite.Options{})}
	}
}

// applyCmd carries out a plan exactly as 'sparkckpt rewrite --apply' does:
// journal and backups in backup first, then each file atomically.
func applyCmd(p *rewrite.Plan, mp *rewrite.Mapper, backup rewrite.Place) tea.Cmd {
	return func() tea.Msg {
		var notices []string
		h := &rewrite.Hooks{Notice: func(msg string) { notices = append(notices, msg) }}
		j, err := rewrite.ApplyAt(p, mp, backup, h)
		if err != nil && j != "" {
			err = fmt.Errorf("%w; nothing is lost: complete with 'sparkckpt rewrite --resume %s' or roll back with 'sparkckpt rewrite --undo %s'", err, j, j)
		}
		return appliedMsg{journal: j, notices: notices, err: err}
	}
}

var errNoClipboard = errors.New("no terminal to copy to")

// copyCmd sets the terminal's clipboard with an OSC 52 escape sequence,
// written to w (the terminal) in one write.
func copyCmd(w io.Writer, what, text string) tea.Cmd {
	return func() tea.Msg {
		if w == nil {
			return copiedMsg{what: what, err: errNoClipboard}
		}
		seq := osc52.New(text).String()
		_, err := io.WriteString(w, seq)
		return copiedMsg{what: what, n: len(text), err: err}
	}
}

// oneLine shortens text for the status line.
func oneLine(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", "⏎")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
