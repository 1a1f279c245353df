package reports

import (
	"path"
	"strings"
	"time"
)

// TestNG XML: <testng-results><suite><test><class><test-method>.
type testngResults struct {
	Suites []struct {
		Name  string `xml:"name,attr"`
		Tests []struct {
			Classes []struct {
				Name    string `xml:"name,attr"`
				Methods []struct {
					Name       string `xml:"name,attr"`
					Status     string `xml:"status,attr"`
					DurationMS string `xml:"duration-ms,attr"`
					IsConfig   bool   `xml:"is-config,attr"`
					Exception  struct {
						Class   string `xml:"class,attr"`
						Message string `xml:"message"`
					} `xml:"exception"`
				} `xml:"test-method"`
			} `xml:"class"`
		} `xml:"test"`
	} `xml:"suite"`
}

// testngStatuses are the statuses of TestNG's results; any other is Unknown.
var testngStatuses = map[string]string{"PASS": Succeeded, "FAIL": Failed, "SKIP": Skipped}

func parseTestNG(data []byte) ([]TestCase, error) {
	var root testngResults
	if err := decodeXML(data, &root, "testng-results"); err != nil {
		return nil, err
	}
	var cases []TestCase
	for _, s := range root.Suites {
		for _, t := range s.Tests {
			for _, cl := range t.Classes {
				for _, m := range cl.Methods {
					if m.IsConfig { // @BeforeClass and friends are not tests
						continue
					}
					status, ok := testngStatuses[m.Status]
					if !ok {
						status = Unknown
					}
					cases = append(cases, TestCase{Name: m.Name, Prefix: cl.Name, Suite: s.Name, Status: status,
						Duration: seconds(m.DurationMS) / 1000, Message: message(m.Exception.Class, m.Exception.Message)})
				}
			}
		}
	}
	return cases, nil
}

// Visual Studio TRX: results refer to their definitions by test ID.
type trxRun struct {
	Results []struct {
		TestID   string `xml:"testId,attr"`
		TestName string `xml:"testName,attr"`
		Outcome  string `xml:"outcome,attr"`
		Duration string `xml:"duration,attr"`
		Message  string `xml:"Output>ErrorInfo>Message"`
		Stack    string `xml:"Output>ErrorInfo>StackTrace"`
	} `xml:"Results>UnitTestResult"`
	Definitions []struct {
		ID      string `xml:"id,attr"`
		Storage string `xml:"storage,attr"`
		Method  struct {
			ClassName string `xml:"className,attr"`
		} `xml:"TestMethod"`
	} `xml:"TestDefinitions>UnitTest"`
}

func parseTRX(data []byte) ([]TestCase, error) {
	var run trxRun
	if err := decodeXML(data, &run, "TestRun"); err != nil {
		return nil, err
	}
	type definition struct{ class, storage string }
	defs := map[string]definition{}
	for _, d := range run.Definitions {
		defs[d.ID] = definition{d.Method.ClassName, path.Base(strings.ReplaceAll(d.Storage, `\`, "/"))}
	}
	var cases []TestCase
	for _, r := range run.Results {
		def := defs[r.TestID]
		// className may carry the assembly: "Ns.Class, Assembly, Version=...".
		class, _, _ := strings.Cut(def.class, ",")
		tc := TestCase{Name: r.TestName, Prefix: class, Suite: def.storage, Duration: clockDuration(r.Duration)}
		switch r.Outcome {
		case "Passed", "PassedButRunAborted":
			tc.Status = Succeeded
		case "Failed":
			tc.Status, tc.Message = Failed, message(r.Message, r.Stack)
		case "Error", "Timeout", "Aborted":
			tc.Status, tc.Message = Error, message(r.Message, r.Stack)
		case "NotExecuted", "NotRunnable":
			tc.Status, tc.Message = Skipped, message(r.Message)
		default:
			tc.Status, tc.Message = Unknown, message(r.Message, r.Stack)
		}
		cases = append(cases, tc)
	}
	return cases, nil
}

// clockDuration parses TRX's hh:mm:ss.fffffff.
func clockDuration(s string) time.Duration {
	h, rest, ok := strings.Cut(s, ":")
	if !ok {
		return 0
	}
	m, sec, ok := strings.Cut(rest, ":")
	if !ok {
		return 0
	}
	return seconds(h)*3600 + seconds(m)*60 + seconds(sec)
}
