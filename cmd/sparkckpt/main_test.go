package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	if os.Getenv(memRunEnv) != "" {
		os.Exit(memRunMain()) // memory_test.go
	}
	testscript.Main(m, map[string]func(){
		"sparkckpt": func() {
			os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
		},
	})
}

// repoDir is the repository root.
func repoDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// TestScripts runs testdata/script/*.txtar. Scripts see $FIXTURES (the
// repository's fixtures/generated) and $REAL (../shared/fixtures-real);
// the condition [real] is true when $REAL exists.
func TestScripts(t *testing.T) {
	root := repoDir()
	realDir := filepath.Join(root, "..", "shared", "fixtures-real")
	_, realErr := os.Stat(realDir)
	if realErr != nil && os.Getenv("SPARKCKPT_REQUIRE_FIXTURES") == "1" {
		t.Fatalf("real fixtures missing at %s", realDir)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		UpdateScripts:       os.Getenv("UPDATE_SCRIPTS") == "1",
		Setup: func(env *testscript.Env) error {
			env.Setenv("FIXTURES", filepath.Join(root, "fixtures", "generated"))
			env.Setenv("REAL", realDir)
			return nil
		},
		Condition: func(cond string) (bool, error) {
			if cond == "real" {
				return realErr == nil, nil
			}
			return false, nil
		},
	})
}
