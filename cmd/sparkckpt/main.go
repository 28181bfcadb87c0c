// Command sparkckpt opens Apache Spark checkpoints without Spark or a JVM:
// it decodes them, shows what they point at, checks them before a restore
// and rewrites cluster-specific URIs safely.
//
// Exit status: 0 ok, 1 findings (e.g. a failed check), 2 usage error or
// unreadable input.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
