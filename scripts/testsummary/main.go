// Command testsummary reads `go test -json` on stdin and prints what a
// person reading a CI log needs: the output of every failed test and
// package, the conformance totals the suites log (the wire protocols'
// botocore vectors and the OCI distribution spec), and one line of counts.
// It exits 1 when anything failed.
//
//	go test -json ./... | go run ./scripts/testsummary
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// event is one line of test2json's output; build output comes as
// build-output and build-fail events naming the ImportPath.
type event struct {
	Action     string
	Package    string
	ImportPath string
	Test       string
	Output     string
}

// summary is what the events add up to.
type summary struct {
	passed, failed, skipped int
	failedPkgs              []string
	output                  map[string][]string // package/test → its output, kept until it ends
	failures                []string            // output of what failed, in order
	conformance             []string            // totals lines the conformance suites log
}

// conformanceLines are the markers of the totals the suites log.
var conformanceLines = []string{"OCI Conformance", "Pass....", "FAIL....", "Total...", " pass ", "cases pass"}

func main() {
	s, err := read(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(2)
	}
	s.print(os.Stdout)
	if s.failed > 0 || len(s.failedPkgs) > 0 {
		os.Exit(1)
	}
}

func read(r io.Reader) (*summary, error) {
	s := &summary{output: map[string][]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var ev event
		if err := json.Unmarshal(line, &ev); err != nil || ev.Action == "" {
			// Not test2json (a build error printed as is): keep it.
			s.failures = append(s.failures, string(line))
			continue
		}
		s.add(ev)
	}
	return s, sc.Err()
}

func (s *summary) add(ev event) {
	key := ev.Package + " " + ev.Test
	switch ev.Action {
	case "build-output":
		s.output["build "+ev.ImportPath] = append(s.output["build "+ev.ImportPath], ev.Output)
	case "build-fail":
		s.failures = append(s.failures, fmt.Sprintf("--- build of %s failed\n%s", ev.ImportPath, strings.Join(s.output["build "+ev.ImportPath], "")))
	case "output":
		s.output[key] = append(s.output[key], ev.Output)
		if ev.Test != "" && isConformance(ev.Test, ev.Output) {
			s.conformance = append(s.conformance, logText(ev.Output))
		}
	case "pass", "fail", "skip":
		out := s.output[key]
		delete(s.output, key)
		if ev.Test == "" {
			if ev.Action == "fail" {
				s.failedPkgs = append(s.failedPkgs, ev.Package)
				s.failures = append(s.failures, s.unfinished(ev.Package)...)
				s.failures = append(s.failures, fmt.Sprintf("--- package %s failed\n%s", ev.Package, strings.Join(out, "")))
			}
			return
		}
		switch ev.Action {
		case "pass":
			s.passed++
		case "skip":
			s.skipped++
		case "fail":
			s.failed++
			s.failures = append(s.failures, fmt.Sprintf("--- %s %s\n%s", ev.Package, ev.Test, strings.Join(out, "")))
		}
	}
}

// unfinishedTail bounds what is printed of a test that never ended: the
// end of it holds the timeout's panic and the goroutines.
const unfinishedTail = 300

// unfinished is the output of pkg's tests that never ended (the package
// timed out or crashed in them), which would otherwise go unprinted.
func (s *summary) unfinished(pkg string) []string {
	var keys []string
	for key := range s.output {
		if p, test, _ := strings.Cut(key, " "); p == pkg && test != "" {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)
	var out []string
	for _, key := range keys {
		lines := s.output[key]
		delete(s.output, key)
		if len(lines) > unfinishedTail {
			lines = lines[len(lines)-unfinishedTail:]
		}
		out = append(out, fmt.Sprintf("--- %s did not finish\n%s", key, strings.Join(lines, "")))
	}
	return out
}

// isConformance reports whether a line of a conformance test's output is
// one of its totals.
func isConformance(test, line string) bool {
	if !strings.Contains(test, "Conformance") {
		return false
	}
	for _, m := range conformanceLines {
		if strings.Contains(line, m) {
			return true
		}
	}
	return false
}

// logText strips the "file_test.go:12: " that t.Log puts before a message.
func logText(line string) string {
	line = strings.TrimSpace(line)
	if loc, msg, ok := strings.Cut(line, ": "); ok && strings.Contains(loc, ".go:") {
		return msg
	}
	return line
}

func (s *summary) print(w io.Writer) {
	for _, f := range s.failures {
		fmt.Fprintln(w, strings.TrimRight(f, "\n"))
	}
	if len(s.conformance) > 0 {
		fmt.Fprintln(w, "conformance:")
		for _, l := range s.conformance {
			fmt.Fprintln(w, "  "+l)
		}
	}
	sort.Strings(s.failedPkgs)
	fmt.Fprintf(w, "tests: %d passed, %d failed, %d skipped", s.passed, s.failed, s.skipped)
	if len(s.failedPkgs) > 0 {
		fmt.Fprintf(w, "; packages failed: %s", strings.Join(s.failedPkgs, ", "))
	}
	fmt.Fprintln(w)
}
