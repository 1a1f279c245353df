package tabletest_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"overcast/internal/tabletest"
)

// recorder is a testing.TB that keeps what a test reports.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestRunReportsEachWrongResultInOrder(t *testing.T) {
	r := &recorder{TB: t}
	tabletest.Run(r, "strings.ToUpper", strings.ToUpper, map[string]string{
		"a": "A",
		"c": "x",
		"b": "y",
	})
	want := []string{`strings.ToUpper("b"): got B, want y`, `strings.ToUpper("c"): got C, want x`}
	if strings.Join(r.errors, "\n") != strings.Join(want, "\n") {
		t.Errorf("got errors %q, want %q", r.errors, want)
	}
}

func TestRunCommaOK(t *testing.T) {
	cut := func(s string) (string, bool) {
		before, _, found := strings.Cut(s, "=")
		if !found {
			return "", false
		}
		return before, true
	}
	tabletest.RunCommaOK(t, "cut", cut, map[string]string{"a=1": "a", "=1": ""}, "a", "")
	tabletest.RunCommaOK(t, "strconv.Atoi", tabletest.NoError(strconv.Atoi), map[string]int{"12": 12, "-1": -1}, "x")

	r := &recorder{TB: t}
	fails := func(string) (int, error) { return 1, errors.New("no") }
	tabletest.RunCommaOK(r, "fails", tabletest.NoError(fails), map[string]int{"in": 1}, "out")
	want := []string{`fails("in"): got 1, false, want 1, true`, `fails("out"): got 1, false, want 0, false`}
	if strings.Join(r.errors, "\n") != strings.Join(want, "\n") {
		t.Errorf("got errors %q, want %q", r.errors, want)
	}
}
