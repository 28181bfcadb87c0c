package lock_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sparkckpt/sparkckpt/rewrite/lock"
	"github.com/sparkckpt/sparkckpt/store"
	"github.com/sparkckpt/sparkckpt/store/hdfs"
	"github.com/sparkckpt/sparkckpt/store/hdfs/hdfstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stores gives a fresh directory name on the local disk and on the test HDFS.
func stores(t *testing.T) map[string]func() (store.Store, string) {
	srv, err := hdfstest.New(hdfstest.Options{BlockSize: 1 << 20})
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	cfg := &hdfs.Config{Props: map[string]string{}, User: "spark", ConnectTimeout: 5 * time.Second, IOTimeout: 10 * time.Second, Dial: hdfstest.LoopbackDial}
	h, err := hdfs.Connect(context.Background(), cfg, srv.Addr())
	require.NoError(t, err)
	t.Cleanup(func() { h.Close() })
	n := 0
	return map[string]func() (store.Store, string){
		"local": func() (store.Store, string) {
			name, err := store.LocalName(filepath.Join(t.TempDir(), "ckpt"))
			require.NoError(t, err)
			return store.NewLocal("/"), name
		},
		"hdfs": func() (store.Store, string) {
			n++
			dir := "user/spark/ckpt" + string(rune('a'+n))
			require.NoError(t, h.MkdirAll("user/spark", 0o755))
			return h, dir
		},
	}
}

// TestExclusive: while one holds the lock every other Acquire fails,
// naming the holder; after Release the lock can be taken again.
func TestExclusive(t *testing.T) {
	for name, fresh := range stores(t) {
		t.Run(name, func(t *testing.T) {
			s, dir := fresh()
			l, err := lock.Acquire(s, dir, "/x/ckpt")
			require.NoError(t, err)
			assert.Nil(t, l.TookOver)
			assert.Equal(t, "/x/ckpt.sparkckpt-lock", l.File())
			b, err := store.ReadFile(s, dir+lock.Suffix)
			require.NoError(t, err)
			var o lock.Owner
			require.NoError(t, json.Unmarshal(b, &o))
			host, _ := os.Hostname()
			assert.Equal(t, host, o.Host)
			assert.Equal(t, os.Getpid(), o.PID)
			assert.NotEmpty(t, o.User)
			assert.WithinDuration(t, time.Now(), o.Time, time.Minute)

			_, err = lock.Acquire(s, dir, "/x/ckpt")
			require.ErrorIs(t, err, lock.ErrLocked)
			var he *lock.HeldError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, o.Token, he.Owner.Token)
			assert.Empty(t, he.Stale, "its holder is running")
			assert.Contains(t, err.Error(), "/x/ckpt is locked by another sparkckpt: ")
			assert.Contains(t, err.Error(), host)
			assert.Contains(t, err.Error(), "wait for it to finish")

			require.NoError(t, l.Release())
			_, err = s.Stat(dir + lock.Suffix)
			assert.ErrorIs(t, err, os.ErrNotExist)
			l2, err := lock.Acquire(s, dir, "/x/ckpt")
			require.NoError(t, err)
			require.NoError(t, l2.Release())
		})
	}
}

// TestConcurrent: of many runs acquiring at once exactly one gets the
// lock, also when they all take over one stale lock at once.
func TestConcurrent(t *testing.T) {
	for name, fresh := range stores(t) {
		t.Run(name, func(t *testing.T) {
			for _, stale := range []bool{false, true} {
				s, dir := fresh()
				dead := lock.Me()
				dead.PID = 1 << 30
				if stale {
					_, err := lock.AcquireAs(s, dir, dir, dead, func(int) bool { return true })
					require.NoError(t, err)
				}
				running := func(pid int) bool { return pid != dead.PID }
				var wg sync.WaitGroup
				var mu sync.Mutex
				var won []*lock.Lock
				held := 0
				for range 8 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						l, err := lock.AcquireAs(s, dir, dir, lock.Me(), running)
						mu.Lock()
						defer mu.Unlock()
						if err == nil {
							won = append(won, l)
						} else if errors.Is(err, lock.ErrLocked) {
							held++
						} else {
							t.Error(err)
						}
					}()
				}
				wg.Wait()
				require.Len(t, won, 1, "stale=%v", stale)
				assert.Equal(t, 7, held)
				if stale {
					require.NotNil(t, won[0].TookOver)
					assert.Equal(t, dead.Token, won[0].TookOver.Token)
				}
				require.NoError(t, won[0].Release())
			}
		})
	}
}

// TestStale: a lock of a process gone from this host is taken over (and
// says whose it was); an old lock of another host is refused, reported as
// stale with how to remove it; an unreadable old lock too.
func TestStale(t *testing.T) {
	s := store.NewLocal("/")
	dir := filepath.Join(t.TempDir(), "ckpt")
	name, err := store.LocalName(dir)
	require.NoError(t, err)

	// A process that ran here and is gone (a real pid, waited for).
	cmd := exec(t)
	dead := lock.Me()
	dead.PID = cmd
	_, err = lock.AcquireAs(s, name, dir, dead, func(int) bool { return true })
	require.NoError(t, err)
	l, err := lock.Acquire(s, name, dir)
	require.NoError(t, err)
	require.NotNil(t, l.TookOver)
	assert.Equal(t, cmd, l.TookOver.PID)
	require.NoError(t, l.Release())

	// Another host, a day and more ago.
	other := lock.Me()
	other.Host, other.Time = "other-host.example", time.Now().Add(-25*time.Hour)
	_, err = lock.AcquireAs(s, name, dir, other, func(int) bool { return true })
	require.NoError(t, err)
	_, err = lock.Acquire(s, name, dir)
	var he *lock.HeldError
	require.ErrorAs(t, err, &he)
	assert.Contains(t, he.Stale, "25h0m0s old")
	assert.Contains(t, err.Error(), "other-host.example")
	assert.Contains(t, err.Error(), "remove "+dir+".sparkckpt-lock and run again")
	// Another host, recent: its holder may be at work.
	require.NoError(t, os.Remove(dir+lock.Suffix))
	other.Time = time.Now()
	_, err = lock.AcquireAs(s, name, dir, other, func(int) bool { return true })
	require.NoError(t, err)
	_, err = lock.Acquire(s, name, dir)
	require.ErrorAs(t, err, &he)
	assert.Empty(t, he.Stale)

	// Unreadable and old.
	require.NoError(t, os.WriteFile(dir+lock.Suffix, []byte("{tor"), 0o644))
	old := time.Now().Add(-time.Hour)
	require.NoError(t, os.Chtimes(dir+lock.Suffix, old, old))
	_, err = lock.Acquire(s, name, dir)
	require.ErrorAs(t, err, &he)
	assert.Nil(t, he.Owner)
	assert.Contains(t, err.Error(), "unreadable")
	assert.Contains(t, err.Error(), "remove "+dir+".sparkckpt-lock")
}

// exec runs a short process to its end and returns its (now free) pid.
func exec(t *testing.T) int {
	p, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{})
	require.NoError(t, err)
	_, err = p.Wait()
	require.NoError(t, err)
	return p.Pid
}

// TestOwnerEscaped: a crafted lock file cannot put control characters on
// the terminal of the run it refuses.
func TestOwnerEscaped(t *testing.T) {
	o := lock.Owner{User: "a\x1b]52;c;aGk=\x07", Host: "h\x1b[2J", PID: 1, Command: "rm\r\n"}
	assert.Equal(t, `a\x1b]52;c;aGk=\a@h\x1b[2J pid 1 since 0001-01-01T00:00:00Z (rm\r\n)`, o.String())
}
