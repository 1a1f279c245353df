package awstest

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// HoldTaskEndpointAddress waits until no other test process on the machine
// serves ECS tasks on 169.254.170.2, and keeps it so until t ends: test
// packages run in parallel processes, and the address exists once per
// machine. Start takes it for servers made with TaskEndpoint.
func HoldTaskEndpointAddress(t testing.TB) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "overcast-test-task-endpoint.lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Fatalf("awstest: task endpoint lock: %v", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		t.Fatalf("awstest: task endpoint lock: %v", err)
	}
	t.Cleanup(func() { f.Close() }) // closing releases the lock
}
