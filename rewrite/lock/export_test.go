package lock

import "github.com/sparkckpt/sparkckpt/store"

// AcquireAs is Acquire as owner me, with running telling which pids run.
func AcquireAs(s store.Store, dir, dirURI string, me Owner, running func(int) bool) (*Lock, error) {
	return acquire(s, dir, dirURI, me, running)
}
