// Package childtest runs a test again in a child process, the way a crash
// test gets a process it can kill with SIGKILL in the middle of its work.
//
//	func TestCrash(t *testing.T) {
//		if childtest.IsChild(t, crashEnv, crashChild) {
//			return
//		}
//		cmd := childtest.Command(t, crashEnv, dir)
//		...
//	}
package childtest

import (
	"bytes"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// childTimeout bounds a child's run before it must have killed itself.
const childTimeout = 3 * time.Minute

// IsChild reports whether this process is a child that Command started for
// env; if it is, it has run child with env's value.
func IsChild(t *testing.T, env string, child func(t *testing.T, value string)) bool {
	value := os.Getenv(env)
	if value == "" {
		return false
	}
	child(t, value)
	return true
}

// Command is the command that runs t's test again, alone, in a child
// process with env set to value, its stderr passed through. It skips t
// under -short: a child process is slow.
func Command(t *testing.T, env, value string) *exec.Cmd {
	t.Helper()
	if testing.Short() {
		t.Skip("runs a child process and kills it; skipped in -short")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env+"="+value)
	cmd.Stderr = os.Stderr
	return cmd
}

// RunKilled runs t's test again in a child process (Command) that must
// end killed by SIGKILL, as a crash test's child kills itself; it fails t
// otherwise.
func RunKilled(t *testing.T, env, value string) {
	t.Helper()
	cmd := Command(t, env, value)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the child: %v", err)
	}
	var hung atomic.Bool
	// A child that hangs fails its test instead of the whole run's timeout.
	stop := time.AfterFunc(childTimeout, func() {
		hung.Store(true)
		cmd.Process.Kill()
	})
	err := cmd.Wait()
	stop.Stop()
	if hung.Load() {
		t.Fatalf("child did not kill itself within %v: %s", childTimeout, out.Bytes())
	}
	if status, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !status.Signaled() || status.Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by SIGKILL (%v): %s", err, out.Bytes())
	}
}

// CrashedDir is a crash test's first half: in the child process it runs
// child with the data dir and returns ""; in the parent it makes a data
// dir, runs the child in it until it kills itself (RunKilled), and
// returns the dir the child left for the test to start again on.
func CrashedDir(t *testing.T, env string, child func(t *testing.T, dir string)) string {
	t.Helper()
	if IsChild(t, env, child) {
		return ""
	}
	dir := t.TempDir()
	RunKilled(t, env, dir)
	return dir
}
