//go:build !linux

package functions

import "time"

// threadClock has no per-thread CPU clock to read outside Linux: the
// watchdog falls back to wall-clock time.
func threadClock() cpuClock { return cpuClock{} }

type cpuClock struct{}

func (cpuClock) now() (time.Duration, bool) { return 0, false }
