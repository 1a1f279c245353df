// Package functions runs CloudFront Functions as CloudFront does: the
// viewer-request and viewer-response handlers of runtimes cloudfront-js-1.0
// and cloudfront-js-2.0, on CloudFront's event object, within limits of
// code size, time and memory. The edge calls Program.Run on each request of
// a behaviour with a function; the API compiles code on CreateFunction and
// UpdateFunction and calls Test for TestFunction.
//
// # Engine
//
// This is the only package that imports a JavaScript engine: goja
// (github.com/dop251/goja), pure Go, ES2017-level with async/await,
// template literals, classes and typed arrays. modernc.org/quickjs was the
// alternative for its real memory limit, but it is not among the packages
// this project may use, it pins a modernc.org/libc that must match the one
// modernc.org/sqlite wants, and every event would cross a C-transpiled
// boundary field by field. goja lets the event reach the function as Go
// maps it wraps without copying (convert.go), which keeps a trivial run
// well under the 20 µs the edge can afford (BenchmarkRunTrivial: 7-10 µs
// on this project's 2-core machines, event conversion included).
//
// # Runtimes
//
// cloudfront-js-1.0 refuses what CloudFront's documentation says it lacks:
// let and const, async functions and await, and classes (arrow functions,
// template literals and the exponent operator are documented for 1.0 and
// accepted). cloudfront-js-2.0 adds them, the Buffer global (and
// require('buffer')), and digest() without an encoding returning a Buffer
// instead of a byte string. Both have require('crypto') (createHash and
// createHmac with md5, sha1 and sha256) and require('querystring'). Code
// runs in strict mode. eval and the Function constructor throw EvalError;
// there are no timers, file system or network. Date reports the time the
// run started for the whole run. Left out: KeyValueStore
// (require('cloudfront')), and 1.0's nonstandard String.prototype
// bytesFrom, fromBytes, fromUTF8, toBytes and toUTF8.
//
// # Limits
//
// Code is at most MaxCodeSize (10 KB) bytes. A run may use 20 ms of CPU
// time, read from the run's thread clock (the run holds its OS thread), so
// that waiting for a CPU on a busy machine is not counted; a wall-clock
// second is the backstop. goja cannot account memory per VM, so memory is
// bounded in two ways: the built-ins that can allocate without bound in
// one call (String repeat/padStart/padEnd, Array join/fill, the Array,
// ArrayBuffer and typed-array constructors) refuse results over 2 MB, and a
// watchdog reading the process's allocation counter every millisecond stops
// a run during which more than 64 MB were allocated. A backtracking regular
// expression, native code the interrupt cannot reach, gives up after twice
// the time limit (regexp.go). The function's top-level code runs under the
// same limits when Compile loads it. Either way the run
// ends with a *LimitError (CloudFront's FunctionThrottledError); an
// exception or an unusable return value is a *RuntimeError
// (FunctionExecutionError). The edge answers both with ErrorStatus (503).
//
// # Reuse
//
// A Program keeps VMs with the code loaded in a pool. Globals a function
// changes persist into later runs on the same VM, where CloudFront gives
// each run a fresh one; a VM whose run hit a limit is dropped.
package functions
