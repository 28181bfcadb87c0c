package store

import (
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// syncTree makes everything under dir durable with one syncfs(2) of its
// file system: data and metadata of every file, directory entries included.
func syncTree(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		return &fs.PathError{Op: "syncfs", Path: dir, Err: err}
	}
	return nil
}
