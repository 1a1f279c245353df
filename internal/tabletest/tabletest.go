// Package tabletest runs the tables tests are made of, so that a test is
// its table and not also a loop written again for every one: a pure
// function's inputs mapped to the results each must give (Run,
// RunCommaOK), or a conformance suite's named tests (Suite).
package tabletest

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
)

// Run calls f on every input in want and reports (t.Errorf, naming f by
// name) each result that go-cmp finds different from the wanted one. It
// goes through the inputs in the order of their printed form, so that
// failures read the same on every run.
func Run[In comparable, Out any](t testing.TB, name string, f func(In) Out, want map[In]Out) {
	t.Helper()
	ins := make([]In, 0, len(want))
	for in := range want {
		ins = append(ins, in)
	}
	slices.SortFunc(ins, func(a, b In) int { return cmp.Compare(fmt.Sprintf("%#v", a), fmt.Sprintf("%#v", b)) })
	for _, in := range ins {
		if got := f(in); !gocmp.Equal(got, want[in]) {
			t.Errorf("%s(%#v): got %v, want %v", name, in, got, want[in])
		}
	}
}

// RunCommaOK checks a comma-ok function: each input in found must give the
// value it maps to and true, each input in none the zero value and false.
func RunCommaOK[In comparable, Out any](t testing.TB, name string, f func(In) (Out, bool), found map[In]Out, none ...In) {
	t.Helper()
	want := make(map[In]result[Out], len(found)+len(none))
	for in, v := range found {
		want[in] = result[Out]{v, true}
	}
	for _, in := range none {
		want[in] = result[Out]{}
	}
	Run(t, name, func(in In) result[Out] {
		v, ok := f(in)
		return result[Out]{v, ok}
	}, want)
}

// result is a comma-ok function's pair of results, as one value.
// Its fields are exported for go-cmp.
type result[T any] struct {
	Value T
	OK    bool
}

func (r result[T]) String() string { return fmt.Sprintf("%#v, %v", r.Value, r.OK) }

// NoError makes a function that returns an error a comma-ok one for
// RunCommaOK: ok says that the error was nil. With an error, it gives the
// zero value, whatever f returned beside it.
func NoError[In, T any](f func(In) (T, error)) func(In) (T, bool) {
	return func(in In) (T, bool) {
		v, err := f(in)
		if err != nil {
			var zero T
			return zero, false
		}
		return v, true
	}
}

// Suite runs each of a conformance suite's tests as a subtest of t, in the
// order of their names, giving each a value (a store, say) that open makes
// for that subtest alone.
func Suite[S any](t *testing.T, open func(t *testing.T) S, tests map[string]func(t *testing.T, s S)) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(tests)) {
		t.Run(name, func(t *testing.T) { tests[name](t, open(t)) })
	}
}

// Outcome is how a table states the result of a call that can fail: its
// value, or "error" and the error's code when it has one (as AWS's errors
// do, with an ErrorCode method), else its text.
func Outcome(v string, err error) string {
	if err == nil {
		return v
	}
	var coded interface{ ErrorCode() string }
	if errors.As(err, &coded) {
		return "error " + coded.ErrorCode()
	}
	return "error " + err.Error()
}
