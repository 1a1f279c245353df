// Package storetest is the conformance suite for store.Store
// implementations, in the manner of distribution's storage-driver test
// suites: every implementation's tests are one call to Run.
//
// The suite is the contract in executable form. The store package documents
// the semantics; this package pins down the corners prose leaves open (which
// error a conditional Delete of a missing item returns, whether a failed
// condition poisons the transaction, what After means in a reverse scan, how
// keys with 0xFF bytes sort) so that SQLite today and PostgreSQL later behave
// identically, and services may rely on anything the suite checks.
//
// Crash is the other half: a process writing to the store is killed with
// SIGKILL, and every commit it acknowledged must be there afterwards.
//
// Run needs only a function returning a fresh empty store, so it also serves
// wrappers (a caching or metrics-recording Store) that must not change
// behaviour.
package storetest
