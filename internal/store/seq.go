package store

import "context"

// Sequencer is what a Store may offer for handing out ordered numbers
// without a counter item: on a store that runs Updates concurrently, a
// counter that every writer bumps makes every pair of writers conflict.
// Callers type-assert for it and fall back to such a counter without it.
//
// Numbers come out increasing, but not in commit order, and a rolled-back
// transaction leaves a gap: a reader scanning by number must not move past
// a number until SettledSeq says it can no longer appear.
type Sequencer interface {
	// NextSeq returns the next number of the named sequence (from 1), for
	// use in tx. The number is taken whether or not tx commits: it never
	// conflicts with another transaction's.
	NextSeq(tx Tx, name string) (uint64, error)
	// RaiseSeq makes every number NextSeq hands out from now on greater
	// than n (for a sequence taking over from a counter kept otherwise).
	// Like NextSeq, it is not undone if tx rolls back.
	RaiseSeq(tx Tx, name string, n uint64) error
	// SettledSeq returns a number n of the named sequence such that every
	// transaction that took a number up to n has committed or rolled back:
	// a View started after SettledSeq returns sees all of them that
	// committed, and no later commit will add one. It grows over calls; a
	// caller that finds nothing new calls again later.
	SettledSeq(ctx context.Context, name string) (uint64, error)
}
