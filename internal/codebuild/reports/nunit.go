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

func parseNUnit2(data []byte) ([]TestCase, error) {
	// The root holds suites directly, not through <results>.
	var root struct {
		Suites []nunit2Suite `xml:"test-suite"`
	}
	if err := decodeXML(data, &root, "test-results"); err != nil {
		return nil, err
	}
	var cases []TestCase
	var walk func(s nunit2Suite)
	walk = func(s nunit2Suite) {
		for _, c := range s.Cases {
			tc := TestCase{Name: c.Name, Prefix: namespaceOf(c.Name), Suite: s.Name, Duration: seconds(c.Time)}
			switch c.Result {
			case "Success":
				tc.Status = Succeeded
			case "Failure":
				tc.Status, tc.Message = Failed, c.Failure.String()
			case "Error", "NotRunnable":
				tc.Status, tc.Message = Error, message(c.Failure.String(), c.Reason.String())
			case "Ignored", "Skipped", "Cancelled":
				tc.Status, tc.Message = Skipped, c.Reason.String()
			default:
				tc.Status, tc.Message = Unknown, message(c.Failure.String(), c.Reason.String())
			}
			cases = append(cases, tc)
		}
		for _, child := range s.Suites {
			walk(child)
		}
	}
	for _, s := range root.Suites {
		walk(s)
	}
	return cases, nil
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
	var cases []TestCase
	var walk func(s nunit3Suite)
	walk = func(s nunit3Suite) {
		for _, c := range s.Cases {
			name := c.Fullname
			if name == "" {
				name = c.Name
			}
			prefix := c.Classname
			if prefix == "" {
				prefix = namespaceOf(name)
			}
			tc := TestCase{Name: name, Prefix: prefix, Suite: s.Name, Duration: seconds(c.Duration)}
			switch {
			case c.Result == "Passed":
				tc.Status = Succeeded
			// NUnit 3 reports exceptions and unrunnable tests as failures
			// with a label.
			case c.Result == "Failed" && (c.Label == "Error" || c.Label == "Invalid" || c.Label == "Cancelled"):
				tc.Status, tc.Message = Error, message(c.Failure.String(), c.Reason.String())
			case c.Result == "Failed":
				tc.Status, tc.Message = Failed, c.Failure.String()
			case c.Result == "Skipped":
				tc.Status, tc.Message = Skipped, c.Reason.String()
			default:
				tc.Status, tc.Message = Unknown, message(c.Failure.String(), c.Reason.String())
			}
			cases = append(cases, tc)
		}
		for _, child := range s.Suites {
			walk(child)
		}
	}
	walk(root)
	return cases, nil
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
