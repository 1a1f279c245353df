package reports

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// decodeXML decodes data into v after checking the root element is one of roots,
// so a file of another format is refused instead of read as an empty report.
func decodeXML(data []byte, v any, roots ...string) error {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = false
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	for {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("no <%s> element: %w", strings.Join(roots, "> or <"), err)
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		found := false
		for _, r := range roots {
			found = found || start.Name.Local == r
		}
		if !found {
			return fmt.Errorf("root element is <%s>, want <%s>", start.Name.Local, strings.Join(roots, "> or <"))
		}
		return dec.DecodeElement(v, &start)
	}
}

// JUnit XML: <testsuites> or a single <testsuite>, suites nesting freely.
type junitSuite struct {
	Name   string       `xml:"name,attr"`
	Suites []junitSuite `xml:"testsuite"`
	Cases  []junitCase  `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *resultDetail `xml:"failure"`
	Error     *resultDetail `xml:"error"`
	Skipped   *resultDetail `xml:"skipped"`
}

// resultDetail is a failure, error or skip element with a message attribute
// and the detail (often a stack trace) as its text.
type resultDetail struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func (d *resultDetail) String() string { return message(d.Message, d.Text) }

func parseJUnit(data []byte) ([]TestCase, error) {
	var root junitSuite
	if err := decodeXML(data, &root, "testsuites", "testsuite"); err != nil {
		return nil, err
	}
	return collect([]junitSuite{root}, func(s junitSuite) []junitSuite { return s.Suites }, func(s junitSuite) []TestCase {
		cases := make([]TestCase, 0, len(s.Cases))
		for _, c := range s.Cases {
			tc := TestCase{Name: c.Name, Prefix: c.Classname, Suite: s.Name, Status: Succeeded, Duration: seconds(c.Time)}
			// A case can carry several elements; the worst one decides.
			switch {
			case c.Error != nil:
				tc.Status, tc.Message = Error, c.Error.String()
			case c.Failure != nil:
				tc.Status, tc.Message = Failed, c.Failure.String()
			case c.Skipped != nil:
				tc.Status, tc.Message = Skipped, c.Skipped.String()
			}
			cases = append(cases, tc)
		}
		return cases
	}), nil
}
