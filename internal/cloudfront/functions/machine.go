package functions

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/dop251/goja"
)

// limits bound one run of a function.
type limits struct {
	// time is the CPU time a run may use. CloudFront's own budget is about
	// a millisecond of compute; this one is far more generous so that a
	// busy machine does not fail correct functions, and still stops
	// while(true){} within tens of milliseconds.
	time time.Duration
	// wall is the wall-clock time a run may take: the bound where the
	// thread's CPU clock cannot be read, and a backstop where it can.
	wall time.Duration
	// memory is what one built-in call may allocate (repeat, padStart,
	// join, Array and typed-array lengths...), CloudFront's 2 MB.
	memory int64
	// allocated is what the process may allocate during a run before the
	// run is stopped. goja cannot account memory per VM, so a watchdog reads
	// the process's allocation counter: a function that grows its data
	// without bound (s = s + s) is stopped within a tick. Other goroutines'
	// allocations count too; the bound is set well above what a serving
	// process allocates in one time limit.
	allocated uint64
	// tick is how often the watchdog looks at a running function.
	tick time.Duration
	// budget is what ComputeUtilization is a percentage of.
	budget time.Duration
}

var defaultLimits = limits{
	time:      20 * time.Millisecond,
	wall:      time.Second,
	memory:    2 << 20,
	allocated: 64 << 20,
	tick:      time.Millisecond,
	budget:    time.Millisecond,
}

//go:embed prelude.js
var preludeSource string

var prelude = sync.OnceValue(func() *goja.Program {
	return goja.MustCompile("prelude.js", preludeSource, true)
})

const maxCallDepth = 1000

var promiseType = reflect.TypeFor[*goja.Promise]()

// machine is one VM with a function's code loaded. It runs one event at a
// time; Program keeps idle ones in a pool.
type machine struct {
	vm      *goja.Runtime
	handler goja.Callable
	limits  limits
	v2      bool
	// bufferFrom is the runtime's Buffer.from (cloudfront-js-2.0 only).
	bufferFrom goja.Callable

	// now is what Date reports during a run: the time the run started, as
	// CloudFront does.
	now  time.Time
	logs []string

	// The watchdog's state, shared with the timer's goroutine.
	mu        sync.Mutex
	running   bool
	ctx       context.Context
	start     time.Time
	allocBase uint64
	clock     cpuClock
	cpuBase   time.Duration
	baseRead  bool
	stopped   error
	timer     *time.Timer
	sample    [1]metrics.Sample
}

func (m *machine) setup(v2 bool) {
	m.v2 = v2
	m.vm.SetMaxCallStackSize(maxCallDepth)
	m.vm.SetTimeSource(func() time.Time { return m.now })
	m.sample[0].Name = "/gc/heap/allocs:bytes"

	native := m.vm.NewObject()
	native.Set("overMemory", func(goja.FunctionCall) goja.Value {
		m.interrupt(&LimitError{Limit: "memory", Message: "The function exceeded the maximum allowed memory"})
		panic(m.vm.NewGoError(errors.New("MemoryError: out of memory")))
	})
	native.Set("log", func(call goja.FunctionCall) goja.Value {
		m.logs = append(m.logs, call.Argument(0).String())
		return goja.Undefined()
	})
	native.Set("encode", m.encode)
	native.Set("decode", m.decode)
	native.Set("crypto", m.cryptoModule())

	install, err := m.vm.RunProgram(prelude())
	if err != nil {
		panic(fmt.Sprintf("functions: prelude: %v", err))
	}
	fn, _ := goja.AssertFunction(install)
	from, err := fn(goja.Undefined(), native, m.vm.ToValue(v2), m.vm.ToValue(m.limits.memory))
	if err != nil {
		panic(fmt.Sprintf("functions: prelude: %v", err))
	}
	m.bufferFrom, _ = goja.AssertFunction(from)
}

// run calls the handler with ev. It returns the handler's value, settled
// if it was a promise, and how long the run took.
func (m *machine) run(ctx context.Context, ev goja.Value) (goja.Value, time.Duration, error) {
	m.logs = m.logs[:0]
	m.now = time.Now()
	var v goja.Value
	elapsed, err := m.watched(ctx, func() (err error) {
		if v, err = m.handler(goja.Undefined(), ev); err == nil {
			v, err = m.settle(v)
		}
		return err
	})
	return v, elapsed, err
}

// load runs the function's top-level code, under the same limits as a
// run: code that loops at load time must not hold Compile.
func (m *machine) load(code *goja.Program) error {
	m.now = time.Now()
	_, err := m.watched(context.Background(), func() error {
		_, err := m.vm.RunProgram(code)
		return err
	})
	return err
}

// watched runs f under the watchdog and returns how long it took.
func (m *machine) watched(ctx context.Context, f func() error) (time.Duration, error) {
	// Held to one thread, the run's CPU time can be read from the thread's
	// clock.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	m.begin(ctx, threadClock())
	err := f()
	elapsed, stopped := m.end()
	if stopped != nil {
		// What the VM returned after a limit stopped it is a consequence,
		// not the cause.
		return elapsed, stopped
	}
	if err != nil {
		return elapsed, m.runError(err)
	}
	return elapsed, nil
}

// settle returns what a promise returned by an async handler settled to.
// goja runs the promise jobs before the handler's call returns: a promise
// still pending then waits for something a function cannot have (timers,
// I/O).
func (m *machine) settle(v goja.Value) (goja.Value, error) {
	if v == nil || v.ExportType() != promiseType {
		return v, nil
	}
	p, ok := v.Export().(*goja.Promise)
	if !ok {
		return v, nil
	}
	switch p.State() {
	case goja.PromiseStateFulfilled:
		return p.Result(), nil
	case goja.PromiseStateRejected:
		return nil, &RuntimeError{Message: "Uncaught (in promise) " + p.Result().String()}
	}
	return nil, &RuntimeError{Message: "The function returned a promise that never settled"}
}

// runError turns what goja returned into the package's errors.
func (m *machine) runError(err error) error {
	var overflow *goja.StackOverflowError
	if errors.As(err, &overflow) {
		return &RuntimeError{Message: "RangeError: Maximum call stack size exceeded"}
	}
	var re *RuntimeError
	if errors.As(err, &re) {
		return re
	}
	return &RuntimeError{Message: errorMessage(err)}
}

// begin arms the watchdog for a run.
func (m *machine) begin(ctx context.Context, clock cpuClock) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.running, m.ctx, m.start, m.clock, m.baseRead, m.stopped = true, ctx, time.Now(), clock, false, nil
	if m.timer == nil {
		m.timer = time.AfterFunc(m.limits.tick, m.watch)
	} else {
		m.timer.Reset(m.limits.tick)
	}
}

// end disarms the watchdog. Holding mu while clearing the interrupt flag
// makes sure a late watchdog cannot interrupt the VM's next run.
func (m *machine) end() (time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.running = false
	m.timer.Stop()
	m.vm.ClearInterrupt()
	return time.Since(m.start), m.stopped
}

// watch runs on the timer's goroutine every tick while a run lasts: it
// stops the run once it is over its time or allocation limit, or its
// context is done. A trivial run ends before the first tick, so the
// baselines are read at the first one: what a run uses before it is not
// counted.
func (m *machine) watch() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.running {
		return
	}
	if err := m.ctx.Err(); err != nil {
		m.interruptLocked(err)
		return
	}
	wall := time.Since(m.start)
	cpu, ok := m.clock.now()
	if !ok {
		cpu = wall
	}
	metrics.Read(m.sample[:])
	allocs := m.sample[0].Value.Uint64()
	if !m.baseRead {
		m.allocBase, m.cpuBase, m.baseRead = allocs, cpu, true
		if ok {
			m.cpuBase -= m.limits.tick
		}
	}
	switch {
	case cpu-m.cpuBase > m.limits.time || wall > m.limits.wall:
		m.interruptLocked(&LimitError{Limit: "time", Message: "The function exceeded the maximum allowed compute time"})
	case allocs-m.allocBase > m.limits.allocated:
		m.interruptLocked(&LimitError{Limit: "memory", Message: "The function exceeded the maximum allowed memory"})
	default:
		m.timer.Reset(m.limits.tick)
	}
}

func (m *machine) interrupt(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.interruptLocked(err)
}

func (m *machine) interruptLocked(err error) {
	if m.running && m.stopped == nil {
		m.stopped = err
		m.vm.Interrupt(err)
	}
}

// failed reports whether the last run was stopped: its VM may be left in
// any state and is not reused.
func (m *machine) failed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stopped != nil
}

// utilization is elapsed as a percentage of the compute budget, as
// TestFunction reports it.
func (l limits) utilization(elapsed time.Duration) int {
	u := int(math.Ceil(float64(elapsed) * 100 / float64(l.budget)))
	return min(max(u, 1), 100)
}
