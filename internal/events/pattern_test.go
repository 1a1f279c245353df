package events

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
)

const sampleEvent = `{
  "version": "0", "id": "1", "detail-type": "EC2 Instance State-change Notification",
  "source": "aws.ec2", "account": "123456789012", "time": "2017-12-22T18:43:48Z",
  "region": "us-west-1", "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
  "detail": {
    "instance-id": "i-1234567890abcdef0", "state": "terminated", "c-count": 5, "d-count": 300.0,
    "source-ip": "10.0.0.7", "flag": true, "nothing": null, "empty": "", "tags": ["a", "b"],
    "list": [], "obj": {"x": 1}, "name": "EventBridge-Rule", "host": "api.example.com"
  }
}`

// matchCases are patterns and whether each matches sampleEvent.
var matchCases = []struct {
	pattern string
	want    bool
}{
	{`{"source":["aws.ec2"]}`, true},
	{`{"source":["aws.s3"]}`, false},
	{`{"source":["aws.s3","aws.ec2"],"detail":{"state":["terminated"]}}`, true},
	{`{"detail":{"state":["running"]}}`, false},
	{`{"detail":{"missing":["x"]}}`, false},
	{`{"detail":{"c-count":[5]}}`, true},
	{`{"detail":{"c-count":["5"]}}`, false},
	{`{"detail":{"d-count":[300]}}`, true},
	{`{"detail":{"d-count":[3e2]}}`, true},
	{`{"detail":{"flag":[true]}}`, true},
	{`{"detail":{"flag":["true"]}}`, false},
	{`{"detail":{"nothing":[null]}}`, true},
	{`{"detail":{"empty":[null]}}`, false},
	{`{"detail":{"empty":[""]}}`, true},
	{`{"detail":{"tags":["b","z"]}}`, true},
	{`{"detail":{"tags":["z"]}}`, false},
	{`{"detail":{"state":[{"prefix":"term"}]}}`, true},
	{`{"detail":{"state":[{"prefix":"TERM"}]}}`, false},
	{`{"detail":{"state":[{"prefix":{"equals-ignore-case":"TERM"}}]}}`, true},
	{`{"detail":{"state":[{"suffix":"ated"}]}}`, true},
	{`{"detail":{"state":[{"suffix":{"equals-ignore-case":"ATED"}}]}}`, true},
	{`{"detail":{"state":[{"equals-ignore-case":"TERMINATED"}]}}`, true},
	{`{"detail":{"name":[{"wildcard":"Event*Rule"}]}}`, true},
	{`{"detail":{"name":[{"wildcard":"*Bridge*"}]}}`, true},
	{`{"detail":{"name":[{"wildcard":"Event*rule"}]}}`, false},
	{`{"detail":{"host":[{"wildcard":"*.example.com"}]}}`, true},
	{`{"detail":{"state":[{"anything-but":"running"}]}}`, true},
	{`{"detail":{"state":[{"anything-but":["terminated","running"]}]}}`, false},
	{`{"detail":{"c-count":[{"anything-but":[4,6]}]}}`, true},
	{`{"detail":{"c-count":[{"anything-but":5}]}}`, false},
	{`{"detail":{"state":[{"anything-but":{"prefix":"term"}}]}}`, false},
	{`{"detail":{"state":[{"anything-but":{"suffix":"ing"}}]}}`, true},
	{`{"detail":{"state":[{"anything-but":{"equals-ignore-case":["TERMINATED"]}}]}}`, false},
	{`{"detail":{"state":[{"anything-but":{"wildcard":"*min*"}}]}}`, false},
	{`{"detail":{"missing":[{"anything-but":"x"}]}}`, false},
	{`{"detail":{"c-count":[{"numeric":[">",0,"<=",5]}]}}`, true},
	{`{"detail":{"c-count":[{"numeric":[">",0,"<",5]}]}}`, false},
	{`{"detail":{"c-count":[{"numeric":["=",5]}]}}`, true},
	{`{"detail":{"d-count":[{"numeric":[">=",300]}]}}`, true},
	{`{"detail":{"state":[{"numeric":[">",0]}]}}`, false},
	{`{"detail":{"source-ip":[{"cidr":"10.0.0.0/24"}]}}`, true},
	{`{"detail":{"source-ip":[{"cidr":"10.0.1.0/24"}]}}`, false},
	{`{"detail":{"state":[{"exists":true}]}}`, true},
	{`{"detail":{"state":[{"exists":false}]}}`, false},
	{`{"detail":{"missing":[{"exists":false}]}}`, true},
	{`{"detail":{"obj":[{"exists":false}]}}`, true},
	{`{"detail":{"list":[{"exists":false}]}}`, true},
	{`{"detail":{"obj":{"x":[1]}}}`, true},
	{`{"source":["aws.ec2"],"$or":[{"detail":{"state":["running"]}},{"detail":{"c-count":[5]}}]}`, true},
	{`{"source":["aws.ec2"],"$or":[{"detail":{"state":["running"]}},{"detail":{"c-count":[6]}}]}`, false},
	{`{"detail":{"$or":[{"state":["x"]},{"$or":[{"flag":[false]},{"tags":["a"]}]}]}}`, true},
	{`{"detail":{"state":["running"],"state":["terminated"]}}`, true},
	{`{"resources":[{"prefix":"arn:aws:ec2:"}]}`, true},
	{`{"resources":[{"prefix":"arn:aws:s3:"}]}`, false},
	{`{"detail":{"host":[{"wildcard":"api.*.org"}]}}`, false},
}

func TestPatternMatch(t *testing.T) {
	ev, err := flatten([]byte(sampleEvent))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range matchCases {
		p, err := compilePattern(tt.pattern)
		if err != nil {
			t.Errorf("compile %s: %v", tt.pattern, err)
			continue
		}
		if got := p.match(ev); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.pattern, got, tt.want)
		}
	}
}

func TestPatternInvalid(t *testing.T) {
	tests := []struct {
		pattern string
		reason  string
	}{
		{`[]`, "Filter is not an object"},
		{`{}`, "Empty objects are not allowed"},
		{`{"source":"aws.ec2"}`, `"source" must be an object or an array`},
		{`{"source":[]}`, "Empty arrays are not allowed"},
		{`{"source":[{"foo":"x"}]}`, "Unrecognized match type foo"},
		{`{"source":[{"prefix":1}]}`, "prefix match pattern must be a string"},
		{`{"source":[{"prefix":"a","suffix":"b"}]}`, "Only one key allowed in match expression"},
		{`{"source":[{"numeric":5}]}`, "Value of numeric must be an array."},
		{`{"source":[{"numeric":[">","x"]}]}`, "Value of > must be numeric"},
		{`{"source":[{"numeric":["~",1]}]}`, "Unrecognized numeric range operator: ~"},
		{`{"source":[{"numeric":["<",1,">",0]}]}`, "Too many elements in numeric expression"},
		{`{"source":[{"exists":"yes"}]}`, "exists match pattern must be either true or false."},
		{`{"source":[{"anything-but":[1,"a"]}]}`, "Inside anything but list, either all values are number or string, mixed type is not supported"},
		{`{"source":[{"anything-but":{"foo":"a"}}]}`, "Unsupported anything-but pattern: foo"},
		{`{"source":[{"anything-but":{"prefix":""}}]}`, "Null prefix/suffix not allowed"},
		{`{"source":[{"wildcard":"a**b"}]}`, "Consecutive wildcard characters at pos 2"},
		{`{"source":[{"wildcard":"a\\b"}]}`, "Invalid escape character at pos 2"},
		{`{"$or":[{"a":["b"]}]}`, "There must have at least 2 Objects in $or relationship."},
		{`{"$or":{"a":["b"]}}`, "It must be an Array followed with $or."},
		{`{"source":[["x"]]}`, "Match value must be String, number, true, false, or null"},
		{`{"source":[{"cidr":"10.0.0.1"}]}`, "Malformed CIDR, one '/' required"},
	}
	for _, tt := range tests {
		_, err := compilePattern(tt.pattern)
		if err == nil {
			t.Errorf("%s: compiled, want %q", tt.pattern, tt.reason)
			continue
		}
		if got := err.Error(); got != tt.reason {
			t.Errorf("%s: got %q, want %q", tt.pattern, got, tt.reason)
		}
	}
}

func TestPatternErrorMessage(t *testing.T) {
	src := `{"source":"aws.ec2"}`
	_, err := compilePattern(src)
	got := compileErrorMessage(src, err)
	want := `Event pattern is not valid. Reason: "source" must be an object or an array` + "\n" +
		` at [Source: (String)"{"source":"aws.ec2"}"; line: 1, column: 20]`
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestOrCombinationsLimit(t *testing.T) {
	// Four $or of six alternatives each: 6^4 = 1296 branches.
	var b strings.Builder
	b.WriteString("{")
	for i := range 4 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"f%d":{"$or":[`, i)
		for j := range 6 {
			if j > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"k%d":["v"]}`, j)
		}
		b.WriteString("]}")
	}
	b.WriteString("}")
	if _, err := compilePattern(b.String()); err == nil {
		t.Fatal("compiled 1296 combinations, want an error")
	}
}

// TestRuleSetMatch checks that the indexed rule set, on decoded events
// and on scanned ones, matches exactly the rules each pattern matches on
// its own.
func TestRuleSetMatch(t *testing.T) {
	var names, want []string
	var ps []*pattern
	for i, tt := range matchCases {
		p, err := compilePattern(tt.pattern)
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprint("r", i)
		names, ps = append(names, name), append(ps, p)
		if tt.want {
			want = append(want, name)
		}
	}
	rs := newRuleSet(names, ps)
	flat, _ := flatten([]byte(sampleEvent))
	if got := rs.match(flat); !slices.Equal(got, want) {
		t.Errorf("decoded: got %v, want %v", got, want)
	}
	got, err := rs.matchEvent([]byte(sampleEvent))
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("scanned: got %v (%v), want %v", got, err, want)
	}
}

// BenchmarkMatch1000Rules measures matching one event against 1,000
// rules of the usual shapes (a source and detail-type, a detail field with
// an operator); the issue asks for under 50µs per event.
func BenchmarkMatch1000Rules(b *testing.B) {
	var names []string
	var ps []*pattern
	for i := range 1000 {
		var src string
		switch i % 4 {
		case 0:
			src = fmt.Sprintf(`{"source":["aws.svc%d"],"detail-type":["Thing %d"]}`, i, i)
		case 1:
			src = fmt.Sprintf(`{"source":["aws.ec2"],"detail":{"c-count":[{"numeric":[">",%d]}]}}`, i)
		case 2:
			src = fmt.Sprintf(`{"detail":{"state":[{"prefix":"term%d"}],"name":[{"wildcard":"*%d*"}]}}`, i, i)
		case 3:
			src = fmt.Sprintf(`{"$or":[{"source":["aws.x%d"]},{"detail":{"instance-id":[{"anything-but":"i-%d"}]}}]}`, i, i)
		}
		p, err := compilePattern(src)
		if err != nil {
			b.Fatal(err)
		}
		names = append(names, fmt.Sprint("r", i))
		ps = append(ps, p)
	}
	rs := newRuleSet(names, ps)
	event := []byte(sampleEvent)
	// The scanner reading only the rules' fields agrees with the full
	// decoding: r1 (the one numeric rule below 5) and every anything-but.
	flat, _ := flatten(event)
	want := rs.match(flat)
	if got, _ := rs.matchEvent(event); !slices.Equal(got, want) || len(got) != 251 || got[0] != "r1" {
		b.Fatalf("got %d rules %v, want the 251 of %v", len(got), got, want)
	}
	// ns/op is wall time, which on a shared machine includes waiting for
	// a CPU; cpu-ns/op is the CPU time the process spent.
	var before, after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	for b.Loop() {
		if _, err := rs.matchEvent(event); err != nil {
			b.Fatal(err)
		}
	}
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano()
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
}

// BenchmarkFlatten measures decoding the sample event into its leaves,
// the part of matching paid once per event whatever the rules.
func BenchmarkFlatten(b *testing.B) {
	event := []byte(sampleEvent)
	for b.Loop() {
		if _, err := flatten(event); err != nil {
			b.Fatal(err)
		}
	}
}

func TestScanLeaves(t *testing.T) {
	paths := map[string]int{"a": 0, "b.c": 1, "esc\"key": 2, "list.n": 3, "obj": 4}
	event := `{"a":"x\"y\u00e9","b":{"c":[1,2.50,true,null]},"esc\"key":"v","list":[{"n":1},{"n":"two"}],"obj":{"deep":1},"skip":[{"x":{}}]}`
	vals, err := scanLeaves([]byte(event), paths)
	if err != nil {
		t.Fatal(err)
	}
	got := make([][]string, len(vals))
	for i, vs := range vals {
		for _, v := range vs {
			got[i] = append(got[i], fmt.Sprint(v.kind, ":", v.text))
		}
	}
	want := [][]string{{`0:x"yé`}, {"1:1", "1:2.50", "2:true", "3:null"}, {"0:v"}, {"1:1", "0:two"}, nil}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for _, bad := range []string{``, `[]`, `{"a":`, `{"a":"x}`, `{"a":1,}`, `{"a" 1}`, `{"a":[1,2}`, `{"a":tru}`} {
		if _, err := scanLeaves([]byte(bad), paths); err == nil {
			t.Errorf("%q: scanned, want an error", bad)
		}
	}
}
