// Package tui is sparkckpt's interactive checkpoint browser (sparkckpt
// browse), built with bubbletea, bubbles and lipgloss.
//
// # Layout
//
// The root model (Model, app.go) holds one mode at a time (browse, search
// input, search results, URIs, hex, rewrite form, plan, confirm, applying,
// help); every message is handled according to it. Components are dumb:
// the file tree (filetree.go), the detail pane (detail.go, drawing an otree
// from onode.go and summary.go), the hex view (hexview.go) and the list
// view (listview.go, for search results, URIs and the rewrite plan) expose
// SetSize and Render and never see a message. Keys are a KeyMap of
// key.Binding (keys.go, also the help screen's source); styles are all in
// styles.go; messages in messages.go.
//
// # I/O
//
// All I/O runs in tea.Cmds (commands.go): listing (names first, sizes of
// big directories after the first screen), decoding (decodefile.go) with a
// context cancelled when the selection moves and a debounce so that moving
// through thousands of files decodes none of them, the background pass over
// the metadata checkpoints (which marks undecodable files and, through
// dstream.Choose, the file Spark restores from), search, URIs, rewrite
// plans and applies. Rewrites go through the rewrite package only:
// rewrite.NewPlanAt for the preview, rewrite.ApplyAt with
// rewrite.DefaultBackup (journal and backups, as 'sparkckpt rewrite
// --apply') after an explicit confirmation, on the store Options.Dir names. The package reads the checkpoint
// through an fs.FS and writes nothing itself; copying to the clipboard is an
// OSC 52 escape sequence written to the terminal given in Options.
//
// # Offsets
//
// Every row of an object tree knows its bytes: [offset, end) in the
// decompressed stream (node.Offset() and the encoded length), in the file
// for write-ahead logs. The hex view highlights them, and moving the hex
// cursor selects the deepest row holding it (otree.at).
package tui
