package main

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFirstLineIsURI: a person (or a script) reads the URI from the first line.
func TestFirstLineIsURI(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0"}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	assert.Regexp(t, `^hdfs://127\.0\.0\.1:[0-9]+\n$`, line)
	go io.Copy(io.Discard, pr)
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("server did not stop")
	}
}

func TestRefusesNonLoopback(t *testing.T) {
	err := run(context.Background(), []string{"--addr", "0.0.0.0:0"}, io.Discard, io.Discard)
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "127.0.0.1"), err.Error())
}
