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
	want := []string{`fails("in"): got 0, false, want 1, true`}
	if strings.Join(r.errors, "\n") != strings.Join(want, "\n") {
		t.Errorf("got errors %q, want %q", r.errors, want)
	}
}

func TestSuiteGivesEachTestItsOwnValueInNameOrder(t *testing.T) {
	var opened, ran []string
	open := func(t *testing.T) string {
		opened = append(opened, t.Name())
		return t.Name()
	}
	record := func(t *testing.T, s string) {
		if s != t.Name() {
			t.Errorf("got the value made for %s, want the one made for %s", s, t.Name())
		}
		ran = append(ran, s)
	}
	tabletest.Suite(t, open, map[string]func(*testing.T, string){"b": record, "a": record})
	want := []string{t.Name() + "/a", t.Name() + "/b"}
	if strings.Join(ran, " ") != strings.Join(want, " ") || len(opened) != 2 {
		t.Errorf("ran %q after opening %q, want each of %q once, in order", ran, opened, want)
	}
}

type codedError struct{}

func (codedError) Error() string     { return "coded: the text" }
func (codedError) ErrorCode() string { return "NoSuchThing" }

func TestOutcome(t *testing.T) {
	outcome := func(err error) string { return tabletest.Outcome("value", err) }
	tabletest.Run(t, "Outcome", outcome, map[error]string{
		nil:                                     "value",
		fmt.Errorf("wrapped: %w", codedError{}): "error NoSuchThing",
		errors.New("plain"):                     "error plain",
	})
}
