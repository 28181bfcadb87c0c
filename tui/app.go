package tui

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/charmbracelet/bubbles/help"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/sparkckpt/sparkckpt/decode"
	"github.com/sparkckpt/sparkckpt/decode/dstream"
	"github.com/sparkckpt/sparkckpt/rewrite"
)

// Options configure the browser.
type Options struct {
	// Root is the checkpoint directory. A rewrite reads and writes it
	// through the rewrite package.
	Root string
	// Name is what the title bar calls Root; "" means Root itself.
	Name string
	// FS reads Root; nil means os.DirFS(Root).
	FS fs.FS
	// Dir is Root as the rewrite reads and writes it (the store it is
	// on: the local disk, HDFS); the zero Place means Root on the local disk.
	Dir rewrite.Place
	// ExpectFS are the filesystems the restored application may use
	// (--expect-fs); URIs elsewhere are drawn in the warning colour.
	ExpectFS []string
	// ShowSecrets shows secret conf values instead of masking them.
	ShowSecrets bool
	// Clipboard is the terminal: y writes an OSC 52 sequence to it. Nil
	// disables copying.
	Clipboard io.Writer
	// ReadOnly disables applying a rewrite (the preview still works).
	ReadOnly bool
	// Select is a file to select first (slash-separated, relative to Root).
	Select string
	// Now is the clock (for the backup directory's name); nil means time.Now.
	Now func() time.Time
	// Limits bound what decoding one file may cost (MaxDecompressed:
	// what it may decompress to); zero fields mean the defaults. A file
	// past them shows its error, like any file that does not decode.
	Limits decode.Limits
}

// mode is what the browser is doing; it decides how every message is
// handled (one mode at a time, never a set of booleans).
type mode int

const (
	modeBrowse      mode = iota // the two panes
	modeSearchInput             // typing a query
	modeResults                 // search results
	modeURIs                    // all URIs by authority
	modeHex                     // object tree and hex side by side
	modeRewriteForm             // typing from/to
	modePlan                    // the rewrite plan, as a diff per file
	modeConfirm                 // apply? y / anything else
	modeApplying                // waiting for the apply
	modeHelp                    // every key
)

type focus int

const (
	focusFiles focus = iota
	focusDetail
	focusHex
)

// fileState is what is known about a file from decoding it.
type fileState struct {
	ok  bool
	err error
}

// Cache bounds: decoded files kept for going back to them.
const (
	maxDocs      = 64
	maxDocsBytes = 512 << 20
	maxBgFiles   = 500 // metadata files decoded in the background
)

// Model is the browser: the root bubbletea model.
type Model struct {
	opts  Options
	fsys  fs.FS
	keys  KeyMap
	st    *Styles
	help  help.Model
	judge *judge
	ctx   context.Context
	stop  context.CancelFunc

	width, height int
	mode          mode
	back          mode // the mode help returns to
	focus         focus

	list    *listing
	files   *fileTree
	listErr error
	order   []*entry // every file in tree order (the search order)

	docs   map[string]*doc
	lru    []string
	states map[string]fileState

	chosen      string // the checkpoint Spark restores from
	chosenKnown bool
	skipped     map[string]string // newer candidates Spark skips, and why

	sel      string // the selected file
	selSeq   int
	inflight string
	cancel   context.CancelFunc
	reveal   *jump // where to go once the selected file is decoded

	bg       []*entry
	bgBusy   bool
	statting bool // reading the sizes of big directories

	input     lineInput
	query     string
	searchID  int
	searching bool
	searchPos int
	hits      []hit
	hitIdx    int
	results   *listView

	uris     *listView
	urisBusy bool

	hex *hexView

	from, to  lineInput
	formField int
	plan      *rewrite.Plan
	mapper    *rewrite.Mapper
	refusal   error
	planView  *listView
	backup    rewrite.Place // where an apply keeps the journal and originals

	detail detailView
	status string
	bad    bool // the status is an error
}

// New returns the browser for o.Root.
func New(o Options) (*Model, error) {
	j, err := newJudge(o.ExpectFS)
	if err != nil {
		return nil, err
	}
	if o.FS == nil {
		o.FS = os.DirFS(o.Root)
	}
	if o.Dir.Store == nil {
		if o.Dir, err = rewrite.LocalPlace(o.Root); err != nil {
			return nil, err
		}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Name == "" {
		o.Name = o.Root
	}
	ctx, stop := context.WithCancel(context.Background())
	m := &Model{opts: o, fsys: o.FS, keys: DefaultKeyMap(), st: DefaultStyles(), help: help.New(), judge: j,
		ctx: ctx, stop: stop, docs: map[string]*doc{}, states: map[string]fileState{}, skipped: map[string]string{},
		width: 100, height: 30}
	m.input = newLineInput(m.st, "/", "", 256)
	m.from = newLineInput(m.st, "", "hdfs://old-namenode:8020", 1024)
	m.to = newLineInput(m.st, "", "hdfs://new-namenode:8020", 1024)
	m.hex = &hexView{}
	return m, nil
}

// Init lists the directory.
func (m *Model) Init() tea.Cmd { return listCmd(m.ctx, m.fsys) }

// leftWidth is the width of the file tree (browse) or object tree (hex).
func (m *Model) leftWidth() int {
	if m.mode == modeHex {
		return max(20, m.width-m.hex.needWidth()-1)
	}
	return min(max(m.width*42/100, 28), 60)
}

func (h *hexView) needWidth() int { return 46 }

func (m *Model) bodyHeight() int { return max(3, m.height-3) }

func (m *Model) layout() {
	bh := m.bodyHeight()
	lw := m.leftWidth()
	if m.files != nil {
		m.files.SetSize(lw, bh)
	}
	switch m.mode {
	case modeHex:
		m.detail.SetSize(lw, bh)
		m.hex.SetSize(m.width-lw-1, bh)
	default:
		m.detail.SetSize(m.width-lw-1, bh)
		m.hex.SetSize(m.width-lw-1, bh)
	}
	for _, l := range []*listView{m.results, m.uris, m.planView} {
		if l != nil {
			l.SetSize(m.width, bh)
		}
	}
	if t := m.tree(); t != nil {
		m.detail.scroll(t)
	}
	m.help.Width = m.width
	m.from.Width, m.to.Width = max(10, m.width-12), max(10, m.width-12)
	m.input.Width = max(10, m.width-4)
}

// cur is the selected file's decoded document, nil if not (yet) decoded.
func (m *Model) cur() *doc { return m.docs[m.sel] }

// tree is the selected file's display tree, built on first use.
func (m *Model) tree() *otree {
	d := m.cur()
	if d == nil {
		return nil
	}
	if d.tree == nil {
		d.tree = buildDocTree(d, m.opts.ShowSecrets)
	}
	return d.tree
}

func (m *Model) store(d *doc) {
	if _, ok := m.docs[d.rel]; !ok {
		m.lru = append(m.lru, d.rel)
	}
	m.docs[d.rel] = d
	m.setState(d)
	total := 0
	for _, x := range m.docs {
		total += len(x.data)
	}
	for i := 0; i < len(m.lru) && (len(m.lru) > maxDocs || total > maxDocsBytes); {
		r := m.lru[i]
		if r == m.sel {
			i++
			continue
		}
		total -= len(m.docs[r].data)
		delete(m.docs, r)
		m.lru = append(m.lru[:i], m.lru[i+1:]...)
	}
}

func (m *Model) setState(d *doc) {
	if d.failed() {
		err := d.err
		if err == nil {
			err = d.crcErr
		}
		m.states[d.rel] = fileState{err: err}
	} else {
		m.states[d.rel] = fileState{ok: true}
	}
	if e := m.list.byRel[d.rel]; e != nil && e.kind == kindCheckpoint {
		m.updateChosen()
	}
}

// updateChosen finds the checkpoint Spark restores from once every newer
// candidate has been decoded, with dstream.Choose over what is known.
func (m *Model) updateChosen() {
	for _, c := range m.list.cands {
		st, known := m.states[c.Name]
		if !known {
			return
		}
		if st.ok {
			break
		}
	}
	read := func(name string) (*dstream.File, error) {
		st := m.states[name]
		if !st.ok {
			return nil, st.err
		}
		if d := m.docs[name]; d != nil && d.file != nil {
			return d.file, nil
		}
		return &dstream.File{}, nil
	}
	chosen, _, skipped := dstream.Choose(m.list.cands, read)
	m.chosenKnown = true
	m.chosen = ""
	if chosen != nil {
		m.chosen = chosen.Name
	}
	m.skipped = map[string]string{}
	for _, s := range skipped {
		m.skipped[s.Name] = s.Reason
	}
}

func (m *Model) mark(e *entry) fileMark {
	st, known := m.states[e.rel]
	fm := fileMark{failed: known && !st.ok && st.err != context.Canceled, ok: known && st.ok}
	if e.kind == kindCheckpoint && m.chosenKnown {
		fm.chosen = e.rel == m.chosen
		_, fm.newer = m.skipped[e.rel]
	}
	return fm
}

// Update handles a message according to the mode.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, nil
	case listedMsg:
		return m, m.listed(msg)
	case statMsg:
		m.gotStats(msg)
		return m, nil
	case decodeReqMsg:
		return m, m.decodeRequested(msg)
	case decodedMsg:
		return m, m.decoded(msg)
	case searchMsg:
		return m, m.searched(msg)
	case urisMsg:
		m.gotURIs(msg)
		return m, nil
	case planMsg:
		m.gotPlan(msg)
		return m, nil
	case appliedMsg:
		return m, m.applied(msg)
	case copiedMsg:
		if msg.err != nil {
			m.setStatus(true, "copy: %v", msg.err)
		} else {
			m.setStatus(false, "copied %s (%d bytes) to the clipboard with OSC 52", msg.what, msg.n)
		}
		return m, nil
	case tea.MouseMsg:
		return m, m.mouse(msg)
	case tea.KeyMsg:
		return m, m.key(msg)
	}
	return m, nil
}

func (m *Model) setStatus(bad bool, format string, args ...any) {
	m.status, m.bad = fmt.Sprintf(format, args...), bad
}

func (m *Model) listed(msg listedMsg) tea.Cmd {
	if msg.err != nil {
		m.listErr = msg.err
		return nil
	}
	m.list = msg.l
	header := filepath.Base(filepath.Clean(m.opts.Root)) + "/ " + plural(len(msg.l.entries), "file")
	m.files = newFileTree(buildTree(msg.l), header, msg.l.entries)
	m.order = m.order[:0]
	var walk func(ns []*fnode)
	walk = func(ns []*fnode) {
		for _, n := range ns {
			if n.e != nil {
				m.order = append(m.order, n.e)
			}
			walk(n.kids)
		}
	}
	walk(m.files.roots)
	// The background pass: metadata checkpoints in Spark's order (to find
	// the one it restores from), then the driver logs.
	m.bg = m.bg[:0]
	for _, e := range m.order {
		if (e.kind == kindCheckpoint || e.kind == kindDriverLog) && len(m.bg) < maxBgFiles {
			m.bg = append(m.bg, e)
		}
	}
	m.layout()
	sel := m.opts.Select
	if sel == "" && len(msg.l.cands) > 0 {
		sel = msg.l.cands[0].Name
	}
	if sel == "" || !m.files.Reveal(sel) {
		for i, r := range m.files.rows {
			if r.e != nil {
				m.files.cursor = i
				m.files.scroll()
				break
			}
		}
	}
	m.sel = ""
	cmds := []tea.Cmd{m.selectionChanged(true), m.nextBg()}
	if len(msg.l.unknown) > 0 {
		m.statting = true
		cmds = append(cmds, statCmd(m.ctx, msg.l.unknown))
	}
	return tea.Batch(cmds...)
}

func (m *Model) gotStats(msg statMsg) {
	m.statting = false
	if m.list == nil {
		return
	}
	for _, s := range msg.stats {
		if s.e != nil && m.list.byRel[s.e.rel] == s.e {
			s.e.size, s.e.mod, s.e.de = s.size, s.mod, nil
		}
	}
	m.list.unknown = nil
	for _, r := range m.files.roots {
		r.tally()
	}
	m.files.setDay(m.list.entries)
}

// selectionChanged starts decoding the newly selected file: at once if
// now, else once the selection rests (moving through 25,000 files decodes
// none of them).
func (m *Model) selectionChanged(now bool) tea.Cmd {
	e := m.files.SelectedEntry()
	rel := ""
	if e != nil {
		rel = e.rel
	}
	if rel == m.sel {
		return nil
	}
	m.sel = rel
	m.selSeq++
	if m.cancel != nil && m.inflight != rel {
		m.cancel()
		m.cancel, m.inflight = nil, ""
	}
	if e == nil || m.docs[rel] != nil {
		if t := m.tree(); t != nil {
			m.detail.scroll(t)
		}
		return nil
	}
	if now {
		return m.startDecode(e)
	}
	return debounceCmd(m.selSeq)
}

func (m *Model) startDecode(e *entry) tea.Cmd {
	if m.inflight == e.rel {
		return nil
	}
	ctx, cancel := context.WithCancel(m.ctx)
	m.cancel, m.inflight = cancel, e.rel
	return decodeCmd(ctx, m.fsys, e, false, m.opts.Limits)
}

func (m *Model) decodeRequested(msg decodeReqMsg) tea.Cmd {
	if msg.seq != m.selSeq || m.docs[m.sel] != nil {
		return nil
	}
	e := m.list.byRel[m.sel]
	if e == nil {
		return nil
	}
	return m.startDecode(e)
}

func (m *Model) nextBg() tea.Cmd {
	if m.bgBusy {
		return nil
	}
	for len(m.bg) > 0 {
		e := m.bg[0]
		m.bg = m.bg[1:]
		if _, known := m.states[e.rel]; known {
			continue
		}
		m.bgBusy = true
		return decodeCmd(m.ctx, m.fsys, e, true, m.opts.Limits)
	}
	return nil
}

func (m *Model) decoded(msg decodedMsg) tea.Cmd {
	d := msg.d
	var cmd tea.Cmd
	if msg.bg {
		m.bgBusy = false
		cmd = m.nextBg()
	} else if m.inflight == d.rel {
		m.inflight, m.cancel = "", nil
	}
	if d.err == context.Canceled {
		return cmd
	}
	if m.list == nil || m.list.byRel[d.rel] == nil {
		return cmd // from before a re-listing
	}
	if old := m.docs[d.rel]; old != nil && old.tree != nil {
		return cmd // already shown: keep its tree and cursor
	}
	m.store(d)
	if d.rel == m.sel {
		t := m.tree()
		if m.reveal != nil && m.reveal.rel == d.rel {
			m.revealOffset(m.reveal.off)
			m.reveal = nil
		}
		m.detail.scroll(t)
	}
	return cmd
}

// revealOffset selects the deepest row of the current file holding off.
func (m *Model) revealOffset(off int64) bool {
	t := m.tree()
	if t == nil {
		return false
	}
	n := t.at(off)
	if n == nil {
		return false
	}
	t.reveal(n)
	m.detail.scroll(t)
	return true
}

// goTo selects a file and, once decoded, the row at an offset.
func (m *Model) goTo(j jump) tea.Cmd {
	m.mode = modeBrowse
	m.layout()
	if !m.files.Reveal(j.rel) {
		m.setStatus(true, "%s is no longer listed", j.rel)
		return nil
	}
	m.focus = focusDetail
	cmd := m.selectionChanged(true)
	if m.cur() != nil {
		if j.off >= 0 && !m.revealOffset(j.off) {
			m.setStatus(true, "offset %d not found in %s", j.off, j.rel)
		}
		return cmd
	}
	m.reveal = &j
	return cmd
}
