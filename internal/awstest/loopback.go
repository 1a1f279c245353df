package awstest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Every test server gets its own stretch of loopback for default VPCs.
// Containers publish their ports on the addresses EC2 hands out, and the
// test processes of several packages share one Docker engine: two servers
// drawing from the same 127.16.0.0/16 would now and then bind the same
// address and port. A block is held by an exclusive lock on a file, which
// the kernel releases when the process dies, so a killed test leaks none.
const (
	blockStride = 8   // /16s per server: one per account it makes a default VPC for
	firstBlock  = 24  // above the product's default (16), which `overcast up` uses
	lastBlock   = 248 // the last block a server starts at
)

// holdLoopbackBlock claims a free stretch of loopback for one server until
// the test ends and returns its first block.
func holdLoopbackBlock(t testing.TB) int {
	t.Helper()
	slots := (lastBlock-firstBlock)/blockStride + 1
	start := rand.IntN(slots)
	for i := range slots {
		block := firstBlock + (start+i)%slots*blockStride
		f, err := os.OpenFile(filepath.Join(os.TempDir(), fmt.Sprintf("overcast-test-vpc-%03d.lock", block)), os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			t.Fatalf("awstest: loopback block lock: %v", err)
		}
		// flock locks belong to the open file, so a second server in this
		// very process is refused as one in another process is.
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			continue
		}
		t.Cleanup(func() { f.Close() })
		return block
	}
	t.Fatalf("awstest: all %d loopback blocks are held by other test servers", slots)
	return 0
}
