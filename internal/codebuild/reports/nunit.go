package reports

import "strings"

// NUnit 2 XML: <test-results>, suites nesting through <results>.
type nunit2Suite struct {
	Name   string        `xml:"name,attr"`
	Type   string        `xml:"type,attr"`
	Suites []nunit2Suite `xml:"results>test-suite"`
	Cases  []nunitCase   `xml:"results>test-case"`
}

// nunitCase is a test case of either NUnit version: NUnit 3 added fullname,
// classname, label and duration, and renamed the results.
type nunitCase struct {
	Name      string       `xml:"name,attr"`
	Fullname  string       `xml:"fullname,attr"`
	Classname string       `xml:"classname,attr"`
	Result    string       `xml:"result,attr"`
	Label     string       `xml:"label,attr"`
	Time      string       `xml:"time,attr"`
	Duration  string       `xml:"duration,attr"`
	Failure   nunitMessage `xml:"failure"`
	Reason    nunitMessage `xml:"reason"`
}

type nunitMessage struct {
	Message    string `xml:"message"`
	StackTrace string `xml:"stack-trace"`
}

func (m nunitMessage) String() string { return message(m.Message, m.StackTrace) }

// nunit2Statuses are the statuses of NUnit 2's results; any other is Unknown.
var nunit2Statuses = map[string]string{
	"Success": Succeeded, "Failure": Failed, "Error": Error, "NotRunnable": Error,
	"Ignored": Skipped, "Skipped": Skipped, "Cancelled": Skipped,
}

// testCase is tc with status and the message NUnit gives a case of that
// status, in either version: a failure's, a skip's reason, or both.
func (c nunitCase) testCase(tc TestCase, status string) TestCase {
	tc.Status = status
	switch status {
	case Failed:
		tc.Message = c.Failure.String()
	case Skipped:
		tc.Message = c.Reason.String()
	case Error, Unknown:
		tc.Message = message(c.Failure.String(), c.Reason.String())
	}
	return tc
}

func parseNUnit2(data []byte) ([]TestCase, error) {
	// The root holds suites directly, not through <results>.
	var root struct {
		Suites []nunit2Suite `xml:"test-suite"`
	}
	if err := decodeXML(data, &root, "test-results"); err != nil {
		return nil, err
	}
	return collect(root.Suites, func(s nunit2Suite) []nunit2Suite { return s.Suites }, func(s nunit2Suite) []TestCase {
		cases := make([]TestCase, 0, len(s.Cases))
		for _, c := range s.Cases {
			status, ok := nunit2Statuses[c.Result]
			if !ok {
				status = Unknown
			}
			cases = append(cases, c.testCase(TestCase{Name: c.Name, Prefix: namespaceOf(c.Name), Suite: s.Name, Duration: seconds(c.Time)}, status))
		}
		return cases
	}), nil
}

// NUnit 3 XML: <test-run>, suites nesting directly.
type nunit3Suite struct {
	Name   string        `xml:"name,attr"`
	Suites []nunit3Suite `xml:"test-suite"`
	Cases  []nunitCase   `xml:"test-case"`
}

func parseNUnit3(data []byte) ([]TestCase, error) {
	var root nunit3Suite
	if err := decodeXML(data, &root, "test-run"); err != nil {
		return nil, err
	}
	return collect([]nunit3Suite{root}, func(s nunit3Suite) []nunit3Suite { return s.Suites }, func(s nunit3Suite) []TestCase {
		cases := make([]TestCase, 0, len(s.Cases))
		for _, c := range s.Cases {
			name := c.Fullname
			if name == "" {
				name = c.Name
			}
			prefix := c.Classname
			if prefix == "" {
				prefix = namespaceOf(name)
			}
			status := Unknown
			switch {
			case c.Result == "Passed":
				status = Succeeded
			// NUnit 3 reports exceptions and unrunnable tests as failures
			// with a label.
			case c.Result == "Failed" && (c.Label == "Error" || c.Label == "Invalid" || c.Label == "Cancelled"):
				status = Error
			case c.Result == "Failed":
				status = Failed
			case c.Result == "Skipped":
				status = Skipped
			}
			cases = append(cases, c.testCase(TestCase{Name: name, Prefix: prefix, Suite: s.Name, Duration: seconds(c.Duration)}, status))
		}
		return cases
	}), nil
}

// namespaceOf is a dotted test name without its last part: the fixture of
// NUnit.Tests.Fixture.Method.
func namespaceOf(name string) string {
	// Parameterised names carry dots in their arguments: Method(1.5).
	base := name
	if i := strings.IndexByte(base, '('); i >= 0 {
		base = base[:i]
	}
	if i := strings.LastIndexByte(base, '.'); i >= 0 {
		return base[:i]
	}
	return ""
}
