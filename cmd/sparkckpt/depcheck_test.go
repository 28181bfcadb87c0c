package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyDirection asserts the import graph (README "Layout"):
// decode/* imports nothing above it, sibling decoders do not import each
// other, and no non-test code links test support from fixtures/.
func TestDependencyDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}:{{join .Deps " "}}`, "github.com/sparkckpt/sparkckpt/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/sparkckpt/sparkckpt/"
	// atotto/clipboard's init searches $PATH for xclip, xsel,
	// termux-clipboard-set and clip.exe in every process that links it
	// (bubbles/textinput does): the browser copies with OSC 52 only.
	const clipboard = "github.com/atotto/clipboard"
	forbidden := map[string][]string{
		"decode":         {mod + "rewrite", mod + "tui", mod + "cmd", mod + "store", "github.com/spf13/cobra", "github.com/charmbracelet/", "github.com/colinmarc/hdfs", mod + "fixtures"},
		"decode/codec":   {mod + "decode/javaser", mod + "decode/wal", mod + "decode/pickle", mod + "decode/dstream", mod + "decode/structured"},
		"decode/javaser": {mod + "decode/codec", mod + "decode/wal", mod + "decode/pickle", mod + "decode/dstream", mod + "decode/structured"},
		"rewrite":        {mod + "tui", mod + "cmd", "github.com/spf13/cobra", "github.com/charmbracelet/", mod + "fixtures"},
		"tui":            {mod + "cmd", "github.com/spf13/cobra", mod + "store/hdfs", mod + "fixtures", clipboard},
		"cmd":            {mod + "fixtures", "testing", mod + "store/hdfs/hdfstest", mod + "store/storetest", mod + "store/s3/s3test", clipboard},
		// The backup loop works on any store: only the command picks one.
		"rewrite/backup": {mod + "store/hdfs", mod + "store/s3", mod + "tui", mod + "cmd", "github.com/spf13/cobra", "github.com/aws/", "github.com/colinmarc/hdfs"},
		// The store is below everything: it knows nothing of Spark formats.
		"store": {mod + "rewrite", mod + "decode", mod + "tui", mod + "cmd", "github.com/spf13/cobra"},
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, ":")
		rel := strings.TrimPrefix(pkg, mod)
		for prefix, bad := range forbidden {
			if rel != prefix && !strings.HasPrefix(rel, prefix+"/") {
				continue
			}
			checked++
			for _, d := range strings.Fields(deps) {
				for _, b := range bad {
					if d == b || strings.HasPrefix(d, b) && (strings.HasSuffix(b, "/") || strings.HasPrefix(d, b+"/")) {
						t.Errorf("%s must not depend on %s", rel, d)
					}
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no packages checked")
	}
}
