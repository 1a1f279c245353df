package reports

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseTests(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		format, file string
		want         []TestCase
	}{
		{JUnitXML, "junit.xml", []TestCase{
			{Name: "TestAdd", Prefix: "calc.Math", Suite: "calc", Status: Succeeded, Duration: 500 * ms},
			{Name: "TestDiv", Prefix: "calc.Math", Suite: "calc", Status: Failed, Duration: 250 * ms, Message: "got 1, want 2\nmath_test.go:12"},
			{Name: "TestPanic", Prefix: "calc.Nested", Suite: "calc.nested", Status: Error, Duration: time.Second, Message: "panic: boom"},
			{Name: "TestLater", Prefix: "calc.Nested", Suite: "calc.nested", Status: Skipped, Message: "not yet"},
		}},
		{JUnitXML, "junit-single.xml", []TestCase{
			{Name: "test_ok", Prefix: "tests.test_app", Suite: "pytest", Status: Succeeded, Duration: ms},
		}},
		{CucumberJSON, "cucumber.json", []TestCase{
			{Name: "valid user", Prefix: "Login", Suite: "features/login.feature", Status: Succeeded, Duration: 3 * ms},
			{Name: "bad password", Prefix: "Login", Suite: "features/login.feature", Status: Failed, Duration: 3000, Message: "expected error page"},
			{Name: "sso", Prefix: "Login", Suite: "features/login.feature", Status: Unknown},
		}},
		{NUnitXML, "nunit2.xml", []TestCase{
			{Name: "NUnit.Tests.MockTestFixture.Passes", Prefix: "NUnit.Tests.MockTestFixture", Suite: "MockTestFixture", Status: Succeeded, Duration: 10 * ms},
			{Name: "NUnit.Tests.MockTestFixture.Fails", Prefix: "NUnit.Tests.MockTestFixture", Suite: "MockTestFixture", Status: Failed, Duration: 20 * ms, Message: "Expected 2 but was 1\nat Fails()"},
			{Name: "NUnit.Tests.MockTestFixture.NotRunnableTest", Prefix: "NUnit.Tests.MockTestFixture", Suite: "MockTestFixture", Status: Error, Message: "No arguments were provided"},
			{Name: "NUnit.Tests.MockTestFixture.Ignored", Prefix: "NUnit.Tests.MockTestFixture", Suite: "MockTestFixture", Status: Skipped, Message: "later"},
		}},
		{NUnit3XML, "nunit3.xml", []TestCase{
			{Name: "App.CalcTests.Add", Prefix: "App.CalcTests", Suite: "CalcTests", Status: Succeeded, Duration: 4 * ms},
			{Name: "App.CalcTests.Div", Prefix: "App.CalcTests", Suite: "CalcTests", Status: Failed, Duration: 500 * ms, Message: "Expected: 2"},
			{Name: "App.CalcTests.Throws", Prefix: "App.CalcTests", Suite: "CalcTests", Status: Error, Duration: 100 * ms, Message: "System.Exception : boom"},
			{Name: "App.CalcTests.Later", Prefix: "App.CalcTests", Suite: "CalcTests", Status: Skipped, Message: "soon"},
			{Name: "App.CalcTests.Maybe", Prefix: "App.CalcTests", Suite: "CalcTests", Status: Unknown},
		}},
		{TestNGXML, "testng.xml", []TestCase{
			{Name: "add", Prefix: "com.example.CalcTest", Suite: "Suite1", Status: Succeeded, Duration: 12 * ms},
			{Name: "divide", Prefix: "com.example.CalcTest", Suite: "Suite1", Status: Failed, Duration: 30 * ms, Message: "java.lang.AssertionError\nexpected [2] but found [1]"},
			{Name: "later", Prefix: "com.example.CalcTest", Suite: "Suite1", Status: Skipped},
		}},
		{VisualStudioTRX, "results.trx", []TestCase{
			{Name: "Adds", Prefix: "Calc.Tests.MathTests", Suite: "Calc.Tests.dll", Status: Succeeded, Duration: 15 * ms},
			{Name: "Divides", Prefix: "Calc.Tests.MathTests", Suite: "Calc.Tests.dll", Status: Failed, Duration: 1500 * ms, Message: "Assert.AreEqual failed\nat Divides()"},
			{Name: "Later", Prefix: "Calc.Tests.MathTests", Suite: "Calc.Tests.dll", Status: Skipped},
			{Name: "Hangs", Prefix: "Calc.Tests.SlowTests", Suite: "Calc.Tests.dll", Status: Error, Duration: time.Minute},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseTests(tt.format, "reports/"+tt.file, readTestdata(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			for i := range tt.want {
				tt.want[i].RawPath = "reports/" + tt.file
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("test cases (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseTestsMalformed(t *testing.T) {
	tests := []struct {
		name, format, data string
	}{
		{"truncated XML", JUnitXML, `<testsuites><testsuite name="a"><testcase`},
		{"another format's root", JUnitXML, `<test-run/>`},
		{"not XML", NUnit3XML, `{"a": 1}`},
		{"empty file", TestNGXML, ``},
		{"JSON object", CucumberJSON, `{"uri": "x"}`},
		{"broken JSON", CucumberJSON, `[{"uri": `},
		{"TRX without TestRun", VisualStudioTRX, `<Results/>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := ParseTests(tt.format, "f", []byte(tt.data)); err == nil {
				t.Errorf("got %v and no error, want an error", got)
			}
		})
	}
	if _, err := ParseTests("CSV", "f", nil); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("unknown format: got %v, want ErrUnknownFormat", err)
	}
}

func TestParseCoverage(t *testing.T) {
	tests := []struct {
		format, file string
		want         []FileCoverage
	}{
		{CloverXML, "clover.xml", []FileCoverage{
			{Path: "/src/boot.php", LinesMissed: 5},
			{Path: "/src/App/Calc.php", LinesCovered: 8, LinesMissed: 2, BranchesCovered: 1, BranchesMissed: 3},
		}},
		{CoberturaXML, "cobertura.xml", []FileCoverage{
			{Path: "app/calc.py", LinesCovered: 3, LinesMissed: 1, BranchesCovered: 1, BranchesMissed: 1},
			{Path: "app/main.py", LinesMissed: 1, BranchesMissed: 4},
		}},
		{JaCoCoXML, "jacoco.xml", []FileCoverage{
			{Path: "Main.java", LinesCovered: 1, LinesMissed: 3},
			{Path: "com/example/Calc.java", LinesCovered: 6, LinesMissed: 2, BranchesCovered: 3, BranchesMissed: 1},
		}},
		{SimpleCov, "resultset.json", []FileCoverage{
			{Path: "/app/lib/calc.rb", LinesCovered: 2, LinesMissed: 1, BranchesCovered: 1, BranchesMissed: 1},
			{Path: "/app/lib/old.rb", LinesCovered: 1, LinesMissed: 1},
		}},
		{SimpleCov, "coverage.json", []FileCoverage{
			{Path: "/app/lib/calc.rb", LinesCovered: 1, LinesMissed: 1, BranchesCovered: 1, BranchesMissed: 1},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseCoverage(tt.format, readTestdata(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("coverage (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseCoverageMalformed(t *testing.T) {
	tests := []struct {
		name, format, data string
	}{
		{"JaCoCo as Cobertura", CoberturaXML, `<report name="x"/>`},
		{"truncated", JaCoCoXML, `<report><package name="a">`},
		{"JSON array", SimpleCov, `[1, 2]`},
		{"no coverage", SimpleCov, `{"meta": {}}`},
		{"bad lines", SimpleCov, `{"coverage": {"a.rb": "x"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := ParseCoverage(tt.format, []byte(tt.data)); err == nil {
				t.Errorf("got %v and no error, want an error", got)
			}
		})
	}
}

func TestSummaries(t *testing.T) {
	cases := []TestCase{
		{Status: Succeeded, Duration: time.Second},
		{Status: Failed, Duration: 2 * time.Second},
		{Status: Skipped},
		{Status: Succeeded},
	}
	wantTests := TestSummary{Total: 4, StatusCounts: map[string]int{Succeeded: 2, Failed: 1, Skipped: 1}, Duration: 3 * time.Second}
	if diff := cmp.Diff(wantTests, SummarizeTests(cases)); diff != "" {
		t.Errorf("test summary (-want +got):\n%s", diff)
	}
	if got := ReportStatus(cases); got != Failed {
		t.Errorf("ReportStatus: got %s, want FAILED", got)
	}
	if got := ReportStatus(cases[2:]); got != Succeeded {
		t.Errorf("ReportStatus without failures: got %s, want SUCCEEDED", got)
	}

	cov := SummarizeCoverage([]FileCoverage{
		{LinesCovered: 2, LinesMissed: 1, BranchesCovered: 1},
		{LinesCovered: 0, LinesMissed: 0, BranchesMissed: 2},
	})
	if got, want := cov.LinePercentage(), 66.67; got != want {
		t.Errorf("line coverage: got %v, want %v", got, want)
	}
	if got, want := cov.BranchPercentage(), 33.33; got != want {
		t.Errorf("branch coverage: got %v, want %v", got, want)
	}
	if got := (FileCoverage{}).LinePercentage(); got != 0 {
		t.Errorf("line coverage of an empty file: got %v, want 0", got)
	}
}

func TestTruncate(t *testing.T) {
	var cases []TestCase
	for i := 0; i < MaxTestCases; i++ {
		cases = append(cases, TestCase{Status: Succeeded})
	}
	cases = append(cases, TestCase{Name: "last", Status: Failed})
	got, truncated := Truncate(cases)
	if !truncated || len(got) != MaxTestCases {
		t.Fatalf("got %d cases, truncated %v; want %d, true", len(got), truncated, MaxTestCases)
	}
	if got[0].Name != "last" {
		t.Errorf("first kept case: got %+v, want the failure", got[0])
	}
	if _, truncated := Truncate(cases[:10]); truncated {
		t.Error("10 cases: got truncated, want kept")
	}
}
