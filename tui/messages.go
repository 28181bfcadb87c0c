package tui

import (
	"github.com/sparkckpt/sparkckpt/rewrite"
)

// listedMsg carries the directory listing.
type listedMsg struct {
	l   *listing
	err error
}

// statMsg carries the sizes and times of the files of big directories,
// read after the first screen.
type statMsg struct {
	stats []stat
}

// decodeReqMsg fires after the selection rested for debounce: decode the
// selected file now if it is still selected.
type decodeReqMsg struct{ seq int }

// decodedMsg carries a decoded file. bg marks the background pass over
// the metadata files (which marks undecodable files and finds the one
// Spark restores from).
type decodedMsg struct {
	d  *doc
	bg bool
}

// searchMsg carries the hits of one batch of files; next is where the
// following batch starts.
type searchMsg struct {
	id   int
	hits []hit
	next int
	docs []*doc // files decoded for the search, offered to the cache
}

// urisMsg carries every URI of the metadata files.
type urisMsg struct {
	refs []uriRef
	docs []*doc
}

// planMsg carries a rewrite plan (or why there is none).
type planMsg struct {
	plan    *rewrite.Plan
	mapper  *rewrite.Mapper
	refusal error
	err     error
}

// appliedMsg reports a finished apply.
type appliedMsg struct {
	journal string
	notices []string // what the apply said that is not an error (a stale lock taken over)
	err     error
}

// copiedMsg reports a clipboard copy.
type copiedMsg struct {
	what string
	n    int
	err  error
}
