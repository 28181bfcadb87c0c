//go:build !linux

package main

import (
	"fmt"
	"os"
)

// memRunEnv and memRunMain are the memory tests' helper (memory_test.go),
// which reads peak RSS the Linux way; elsewhere those tests do not run.
const memRunEnv = "SPARKCKPT_TEST_MEMRUN"

func memRunMain() int {
	fmt.Fprintln(os.Stderr, "the memory tests run on Linux only")
	return 3
}
