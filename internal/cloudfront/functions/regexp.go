package functions

import "github.com/dlclark/regexp2"

// goja runs backtracking regular expressions with regexp2, in native code
// that the VM's interrupt cannot stop: a catastrophic pattern would hold
// its goroutine for ever. regexp2 gives up a match after
// DefaultMatchTimeout, read when a pattern is compiled; twice the run's
// time limit lets the watchdog stop the run first, the timeout only
// bounding how long that takes. This package is the only user of goja,
// hence of regexp2.
func init() {
	regexp2.DefaultMatchTimeout = 2 * defaultLimits.time
}
