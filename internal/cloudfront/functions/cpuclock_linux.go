package functions

import (
	"time"

	"golang.org/x/sys/unix"
)

// threadClock is the CPU clock of the calling thread, readable from any
// thread: Linux encodes a thread's CPU clock as ^tid<<3 | CPUCLOCK_PERTHREAD
// | CPUCLOCK_SCHED. A run holds its thread (LockOSThread), so this clock
// counts the run's compute and not the time it waited for a CPU.
func threadClock() cpuClock {
	return cpuClock{id: int32(^unix.Gettid()<<3 | 6)}
}

type cpuClock struct {
	id int32
}

// now is the CPU time the thread has used, or false when it cannot be read.
func (c cpuClock) now() (time.Duration, bool) {
	var ts unix.Timespec
	if err := unix.ClockGettime(c.id, &ts); err != nil {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}
