// Command hdfs-testserver runs the in-process HDFS test namenode and
// datanode of package hdfstest as a server, for trying sparkckpt (or any
// HDFS client speaking the same protocols) by hand:
//
//	go run ./store/hdfs/hdfstest/cmd/hdfs-testserver --addr 127.0.0.1:0
//
// It serves an empty in-memory namespace and prints the file system's URI
// (hdfs://127.0.0.1:PORT) as its first line of output, then the datanode's
// address, and serves until interrupted. It listens on 127.0.0.1 only.
// What it implements and what not: go doc ./store/hdfs/hdfstest.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/sparkckpt/sparkckpt/store/hdfs/hdfstest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "hdfs-testserver: %v\n", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("hdfs-testserver", flag.ContinueOnError)
	fl.SetOutput(stderr)
	addr := fl.String("addr", "127.0.0.1:0", "namenode RPC listen address (127.0.0.1 only; port 0 picks a free one, e.g. 127.0.0.1:8020 for a fixed one)")
	dnAddr := fl.String("datanode-addr", "127.0.0.1:0", "datanode data transfer listen address (127.0.0.1 only)")
	blockSize := fl.Int64("block-size", 128<<20, "block size clients are told to use (a multiple of 512)")
	verbose := fl.Bool("v", false, "log every namenode call and datanode operation to stderr")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %q", fl.Args())
	}
	o := hdfstest.Options{Addr: *addr, DatanodeAddr: *dnAddr, BlockSize: *blockSize}
	if *verbose {
		o.Log = func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }
	}
	srv, err := hdfstest.New(o)
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintln(stdout, srv.URI())
	fmt.Fprintf(stdout, "datanode %s; empty in-memory namespace; SIMPLE authentication (set HADOOP_USER_NAME); Ctrl-C stops\n", srv.DatanodeAddr())
	if f, ok := stdout.(interface{ Sync() error }); ok {
		f.Sync()
	}
	<-ctx.Done()
	return nil
}
