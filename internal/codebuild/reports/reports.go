// Package reports turns the test and coverage result files a build leaves behind
// into CodeBuild's test cases, code coverages and report summaries.
//
// Every test format maps onto CodeBuild's five test case statuses the way the
// console shows them: a passing test SUCCEEDED, an assertion failure FAILED, an
// unexpected exception ERROR, a test that did not run SKIPPED, anything the
// format reports that is none of those UNKNOWN.
package reports

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Test case statuses.
const (
	Succeeded = "SUCCEEDED"
	Failed    = "FAILED"
	Error     = "ERROR"
	Skipped   = "SKIPPED"
	Unknown   = "UNKNOWN"
)

// Report file formats, as a buildspec's file-format names them.
const (
	JUnitXML        = "JUNITXML"
	CucumberJSON    = "CUCUMBERJSON"
	NUnitXML        = "NUNITXML"
	NUnit3XML       = "NUNIT3XML"
	TestNGXML       = "TESTNGXML"
	VisualStudioTRX = "VISUALSTUDIOTRX"

	CloverXML    = "CLOVERXML"
	CoberturaXML = "COBERTURAXML"
	JaCoCoXML    = "JACOCOXML"
	SimpleCov    = "SIMPLECOV"
)

// Report types, as a report group's type names them.
const (
	TypeTest         = "TEST"
	TypeCodeCoverage = "CODE_COVERAGE"
)

// MaxTestCases is how many test cases one report keeps; past it the report is
// truncated, keeping failures first as CodeBuild does.
const MaxTestCases = 500

// ErrUnknownFormat is returned for a file-format CodeBuild does not have.
var ErrUnknownFormat = errors.New("reports: unknown file format")

// TypeOf says whether format is a test or a code coverage format.
func TypeOf(format string) (string, error) {
	switch format {
	case JUnitXML, CucumberJSON, NUnitXML, NUnit3XML, TestNGXML, VisualStudioTRX:
		return TypeTest, nil
	case CloverXML, CoberturaXML, JaCoCoXML, SimpleCov:
		return TypeCodeCoverage, nil
	}
	return "", fmt.Errorf("%w %q", ErrUnknownFormat, format)
}

// TestCase is one test's result.
type TestCase struct {
	Name     string
	Prefix   string // the class, fixture or feature the test belongs to
	Suite    string
	Status   string
	Duration time.Duration
	Message  string
	RawPath  string // the result file the test came from
}

// TestSummary totals a test report.
type TestSummary struct {
	Total        int
	StatusCounts map[string]int
	Duration     time.Duration
}

// FileCoverage is one source file's coverage.
type FileCoverage struct {
	Path            string
	LinesCovered    int
	LinesMissed     int
	BranchesCovered int
	BranchesMissed  int
}

// LinePercentage is the share of the file's lines the tests ran, 0-100.
func (c FileCoverage) LinePercentage() float64 {
	return percentage(c.LinesCovered, c.LinesMissed)
}

// BranchPercentage is the share of the file's branches the tests took, 0-100.
func (c FileCoverage) BranchPercentage() float64 {
	return percentage(c.BranchesCovered, c.BranchesMissed)
}

// CoverageSummary totals a code coverage report.
type CoverageSummary struct {
	LinesCovered, LinesMissed       int
	BranchesCovered, BranchesMissed int
}

// LinePercentage is the report's line coverage, 0-100.
func (s CoverageSummary) LinePercentage() float64 {
	return percentage(s.LinesCovered, s.LinesMissed)
}

// BranchPercentage is the report's branch coverage, 0-100.
func (s CoverageSummary) BranchPercentage() float64 {
	return percentage(s.BranchesCovered, s.BranchesMissed)
}

func percentage(covered, missed int) float64 {
	if covered+missed == 0 {
		return 0
	}
	// Two decimals, as the console and the API show them.
	return math.Round(float64(covered)*10000/float64(covered+missed)) / 100
}

// testParsers and coverageParsers read the formats of test and coverage reports.
var (
	testParsers = map[string]func([]byte) ([]TestCase, error){
		JUnitXML: parseJUnit, CucumberJSON: parseCucumber, NUnitXML: parseNUnit2, NUnit3XML: parseNUnit3,
		TestNGXML: parseTestNG, VisualStudioTRX: parseTRX,
	}
	coverageParsers = map[string]func([]byte) ([]FileCoverage, error){
		CloverXML: parseClover, CoberturaXML: parseCobertura, JaCoCoXML: parseJaCoCo, SimpleCov: parseSimpleCov,
	}
)

// ParseTests reads one test result file of the given format. path is recorded
// as each case's RawPath.
func ParseTests(format, path string, data []byte) ([]TestCase, error) {
	cases, err := parse(testParsers, "test reports", format, format+" "+path, data)
	for i := range cases {
		cases[i].RawPath = path
	}
	return cases, err
}

// ParseCoverage reads one coverage file of the given format.
func ParseCoverage(format string, data []byte) ([]FileCoverage, error) {
	return parse(coverageParsers, "code coverage reports", format, format, data)
}

// parse reads data with the parser of its format, one of those of a kind of
// report; source names the file in a parser's error.
func parse[T any](parsers map[string]func([]byte) ([]T, error), kind, format, source string, data []byte) ([]T, error) {
	p, ok := parsers[format]
	if !ok {
		return nil, fmt.Errorf("%w %q for %s", ErrUnknownFormat, format, kind)
	}
	out, err := p(data)
	if err != nil {
		return nil, fmt.Errorf("reports: %s: %w", source, err)
	}
	return out, nil
}

// collect gathers what each node of a tree yields, depth first: a node's
// own, then its children's.
func collect[N, T any](roots []N, children func(N) []N, yield func(N) []T) []T {
	var out []T
	var walk func(n N)
	walk = func(n N) {
		out = append(out, yield(n)...)
		for _, c := range children(n) {
			walk(c)
		}
	}
	for _, r := range roots {
		walk(r)
	}
	return out
}

// SummarizeTests totals cases.
func SummarizeTests(cases []TestCase) TestSummary {
	s := TestSummary{Total: len(cases), StatusCounts: map[string]int{}}
	for _, c := range cases {
		s.StatusCounts[c.Status]++
		s.Duration += c.Duration
	}
	return s
}

// SummarizeCoverage totals files.
func SummarizeCoverage(files []FileCoverage) CoverageSummary {
	var s CoverageSummary
	for _, f := range files {
		s.LinesCovered += f.LinesCovered
		s.LinesMissed += f.LinesMissed
		s.BranchesCovered += f.BranchesCovered
		s.BranchesMissed += f.BranchesMissed
	}
	return s
}

// ReportStatus is a finished test report's status: FAILED when any case did
// not succeed or get skipped, SUCCEEDED otherwise.
func ReportStatus(cases []TestCase) string {
	for _, c := range cases {
		if c.Status != Succeeded && c.Status != Skipped {
			return Failed
		}
	}
	return Succeeded
}

// Truncate keeps at most MaxTestCases cases, failing ones first, and says
// whether any were dropped.
func Truncate(cases []TestCase) ([]TestCase, bool) {
	if len(cases) <= MaxTestCases {
		return cases, false
	}
	rank := func(status string) int {
		switch status {
		case Failed:
			return 0
		case Error:
			return 1
		case Unknown:
			return 2
		}
		return 3
	}
	sorted := append([]TestCase(nil), cases...)
	sort.SliceStable(sorted, func(i, j int) bool { return rank(sorted[i].Status) < rank(sorted[j].Status) })
	return sorted[:MaxTestCases], true
}

// seconds parses a duration written in (fractional) seconds; junk is zero, as
// a result file's timing is never worth failing the report over.
func seconds(s string) time.Duration {
	s = strings.TrimSpace(strings.ReplaceAll(s, ",", ""))
	if s == "" {
		return 0
	}
	var f float64
	if _, err := fmt.Sscan(s, &f); err != nil || f < 0 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

// message joins a result's message attribute and body, dropping empty ones.
func message(parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, "\n")
}
