package placement

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// newInstance returns an ACTIVE, connected instance in az of type itype
// with cpu units and mem MiB free of as many registered.
func newInstance(id, az, itype string, cpu, mem int) *Instance {
	return &Instance{
		ARN:              "arn:aws:ecs:us-east-1:123456789012:container-instance/default/" + id,
		EC2InstanceID:    "i-" + id,
		Status:           StatusActive,
		AgentConnected:   true,
		AgentVersion:     "1.80.0",
		RegisteredAt:     time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC),
		Attributes:       map[string]string{"ecs.availability-zone": az, "ecs.instance-type": itype, "ecs.os-type": "linux"},
		RegisteredCPU:    cpu,
		RegisteredMemory: mem,
		RemainingCPU:     cpu,
		RemainingMemory:  mem,
	}
}

func with(inst *Instance, change func(*Instance)) *Instance {
	change(inst)
	return inst
}

// TestMatchDocumentedExamples runs every example of the developer guide's
// cluster query language and task placement constraint pages, on an
// instance that matches and one that does not.
func TestMatchDocumentedExamples(t *testing.T) {
	t2small := newInstance("a", "us-east-1a", "t2.small", 1024, 2048)
	t2medium := newInstance("b", "us-east-1b", "t2.medium", 2048, 4096)
	g2d := newInstance("c", "us-east-1d", "g2.2xlarge", 8192, 15360)
	g2a := newInstance("d", "us-east-1a", "g2.2xlarge", 8192, 15360)
	m5c := newInstance("e", "us-east-1c", "m5.large", 2048, 8192)
	production := with(newInstance("f", "us-east-1a", "m5.large", 2048, 8192), func(i *Instance) {
		i.Groups = map[string]int{"service:production": 2, "databases": 1}
		i.RunningTasksCount = 3
	})
	database := with(newInstance("g", "us-east-1b", "m5.large", 2048, 8192), func(i *Instance) {
		i.Groups = map[string]int{"database": 1}
		i.RunningTasksCount = 1
	})
	oldAgent := with(newInstance("h", "us-east-1b", "t2.small", 1024, 2048), func(i *Instance) {
		i.AgentVersion = "1.14.4"
		i.RegisteredAt = time.Date(2018, 2, 12, 23, 59, 0, 0, time.UTC)
	})
	prod := with(newInstance("p", "us-east-1a", "t2.small", 1024, 2048), func(i *Instance) { i.Attributes["stack"] = "prod" })
	dev := with(newInstance("q", "us-east-1a", "t2.small", 1024, 2048), func(i *Instance) { i.Attributes["stack"] = "dev" })
	listed := with(newInstance("x", "us-east-1a", "t2.small", 1024, 2048), func(i *Instance) { i.EC2InstanceID = "i-wxyx7890" })

	tests := []struct {
		expr      string
		match     []*Instance
		noMatch   []*Instance
		reference string
	}{
		{"attribute:ecs.instance-type == t2.small", []*Instance{t2small}, []*Instance{t2medium, g2d}, "string equality"},
		{"attribute:ecs.availability-zone in [us-east-1a, us-east-1b]", []*Instance{t2small, t2medium}, []*Instance{g2d, m5c}, "argument list"},
		{"attribute:ecs.instance-type =~ g2.* and attribute:ecs.availability-zone != us-east-1d", []*Instance{g2a}, []*Instance{g2d, t2small}, "compound expression"},
		{"task:group == service:production", []*Instance{production}, []*Instance{database, t2small}, "task affinity"},
		{"not(task:group == database)", []*Instance{production, t2small}, []*Instance{database}, "task anti-affinity"},
		{"runningTasksCount == 1", []*Instance{database}, []*Instance{production, t2small}, "running task count"},
		{"agentVersion < 1.14.5", []*Instance{oldAgent}, []*Instance{t2small}, "agent version"},
		{"registeredAt < 2018-02-13", []*Instance{oldAgent}, []*Instance{t2small}, "registration time"},
		{"ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']", []*Instance{listed}, []*Instance{t2small}, "EC2 instance ID"},
		{"attribute:ecs.instance-type =~ t2.*", []*Instance{t2small, t2medium}, []*Instance{g2d, m5c}, "memberOf T2 constraint"},
		{"task:group == databases", []*Instance{production}, []*Instance{database}, "memberOf databases group constraint"},
		{"attribute:ecs.instance-type == g2.2xlarge", []*Instance{g2d, g2a}, []*Instance{t2small}, "filter: built-in attribute"},
		{"attribute:stack == prod", []*Instance{prod}, []*Instance{dev, t2small}, "filter: custom attribute"},
		{"attribute:stack != prod", []*Instance{dev}, []*Instance{prod, t2small}, "filter: exclude an attribute value (instances with stack only)"},
		{"attribute:ecs.instance-type in [t2.small, t2.medium]", []*Instance{t2small, t2medium}, []*Instance{g2d}, "filter: multiple attribute values"},
		{"attribute:ecs.instance-type =~ t2.* and attribute:ecs.availability-zone == us-east-1a", []*Instance{t2small}, []*Instance{t2medium, g2a}, "filter: multiple attributes"},
		{"attribute:ecs.availability-zone == us-east-1a", []*Instance{t2small, g2a}, []*Instance{t2medium}, "memberOf AZ"},
		{"attribute:ecs.os-type == linux", []*Instance{t2small}, nil, "os-type"},
	}
	for _, tt := range tests {
		t.Run(tt.reference, func(t *testing.T) {
			expr, err := Parse(tt.expr)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.expr, err)
			}
			for _, inst := range tt.match {
				if !expr.Match(inst) {
					t.Errorf("%q on %s: got no match, want a match", tt.expr, inst.EC2InstanceID)
				}
			}
			for _, inst := range tt.noMatch {
				if expr.Match(inst) {
					t.Errorf("%q on %s: got a match, want none", tt.expr, inst.EC2InstanceID)
				}
			}
		})
	}
}

// TestMatchOperators covers every operator in its symbolic and word form,
// the boolean connectives and their precedence.
func TestMatchOperators(t *testing.T) {
	inst := with(newInstance("a", "us-east-1a", "t2.small", 1024, 2048), func(i *Instance) {
		i.Attributes["tier"] = "3"
		i.Attributes["gpu"] = ""
		i.AgentVersion = "1.14.5"
		i.RegisteredAt = time.Date(2018, 6, 18, 22, 28, 28, 0, time.UTC)
		i.RunningTasksCount = 4
		i.Groups = map[string]int{"family:web": 3, "service:api": 1, "gone": 0}
	})
	tests := []struct {
		expr string
		want bool
	}{
		{"attribute:tier == 3", true},
		{"attribute:tier equals 3", true},
		{"attribute:tier != 3", false},
		{"attribute:tier not_equals 4", true},
		{"attribute:tier > 20", false}, // numbers compare as numbers
		{"attribute:tier greater_than 2.5", true},
		{"attribute:tier >= 3", true},
		{"attribute:tier greater_than_equal 4", false},
		{"attribute:tier < 10", true},
		{"attribute:tier less_than 3", false},
		{"attribute:tier <= 3", true},
		{"attribute:tier less_than_equal 2", false},
		{"attribute:ecs.instance-type > t2.medium", true}, // text compares as text
		{"attribute:gpu exists", true},
		{"attribute:fpga exists", false},
		{"attribute:fpga !exists", true},
		{"attribute:gpu not_exists", false},
		{"attribute:tier in [1, 2, 3]", true},
		{"attribute:tier !in [1, 2, 3]", false},
		{"attribute:tier not_in [1, 2]", true},
		{"attribute:fpga not_in [1, 2]", false}, // nothing to compare
		{"attribute:ecs.instance-type matches t2\\..*", true},
		{"attribute:ecs.instance-type =~ t2", false}, // the whole value must match
		{"attribute:ecs.instance-type !~ m5.*", true},
		{"attribute:ecs.instance-type not_matches t.*", false},
		{`attribute:ecs.instance-type =~ "t2.(small|medium)"`, true},
		{"attribute:ecs.instance-type =~ t2.(small|medium)", true},
		{`attribute:ecs.availability-zone == "us-east-1a"`, true},
		{"agentConnected == true", true},
		{"agentConnected != true", false},
		{"agentConnected in [false]", false},
		{"agentVersion == 1.14.5", true},
		{"agentVersion >= 1.14", true},
		{"agentVersion > 1.9.9", true}, // 14 > 9 as numbers
		{"agentVersion <= 1.14.4", false},
		{"ec2InstanceId == i-a", true},
		{"ec2InstanceId =~ i-.*", true},
		{"ec2InstanceId !in [i-a]", false},
		{"registeredAt == 2018-06-18T22:28:28+00:00", true},
		{"registeredAt == 2018-06-18T22:28:28Z", true},
		{"registeredAt == 2018-06-18T22:28:28", true},
		{"registeredAt == 2018-06-18", true}, // a day matches any time in it
		{"registeredAt > 2018-06-18", false},
		{"registeredAt >= 2018-06-18T22:28:29Z", false},
		{"registeredAt < 2018-06-19", true},
		{"registeredAt > 2018-06-18T20:28:28-03:00", false}, // 23:28 UTC
		{"runningTasksCount > 3", true},
		{"runningTasksCount <= 3", false},
		{"runningTasksCount != 4", false},
		{"task:group == family:web", true},
		{"task:group == gone", false}, // a group with no running task
		{"task:group != family:web", false},
		{"task:group != databases", true},
		{"task:group in [databases, service:api]", true},
		{"task:group not_in [databases]", true},
		{"task:group =~ service:.*", true},
		{"task:group !~ .*", false},
		{"task:group exists", true},
		{"task:group !exists", false},
		{"attribute:tier == 3 and attribute:gpu exists", true},
		{"attribute:tier == 3 && attribute:tier == 4", false},
		{"attribute:tier == 4 or attribute:gpu exists", true},
		{"attribute:tier == 4 || attribute:tier == 5", false},
		{"!attribute:fpga exists", true},
		{"not attribute:gpu exists", false},
		{"NOT (attribute:tier == 4) AND attribute:gpu exists", true},
		// and binds tighter than or; not tighter than and.
		{"attribute:tier == 3 or attribute:tier == 4 and attribute:tier == 5", true},
		{"(attribute:tier == 3 or attribute:tier == 4) and attribute:tier == 5", false},
		{"not attribute:tier == 3 or attribute:gpu exists", true},
		{"not (attribute:tier == 3 or attribute:gpu exists)", false},
		{"attribute:tier==3&&attribute:gpu exists", true},
		{"((attribute:tier == 3))", true},
		{"(task:group == family:web)and(runningTasksCount == 4)", true},
	}
	for _, tt := range tests {
		expr, err := Parse(tt.expr)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.expr, err)
			continue
		}
		if got := expr.Match(inst); got != tt.want {
			t.Errorf("%q: got %v, want %v", tt.expr, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		expr   string
		reason string
	}{
		{"", "expression is empty"},
		{"   ", "expression is empty"},
		{"attribute:", "attribute name is empty"},
		{"color == red", "unknown subject 'color'"},
		{"attribute:color", "expected an operator after 'attribute:color'"},
		{"attribute:color is red", "expected an operator"},
		{"attribute:color ==", "missing argument"},
		{"attribute:color in red", "expected '[' to open the argument list"},
		{"attribute:color in [red, blue", "expected ',' or ']' in the argument list"},
		{"attribute:color in [red,]", "missing argument"},
		{"attribute:color == 'red", "unterminated '"},
		{"attribute:color =~ [a-", "invalid regular expression '[a-'"},
		{"attribute:color == red and", "expression ends early"},
		{"(attribute:color == red", "missing ')'"},
		{"attribute:color == red)", "unexpected ')'"},
		{"attribute:color == red blue", "unexpected 'blue'"},
		{"agentConnected == yes", "agentConnected takes true or false, not 'yes'"},
		{"agentConnected > true", "operator '>' is not valid for agentConnected"},
		{"agentVersion =~ 1.*", "operator '=~' is not valid for agentVersion"},
		{"agentVersion < latest", "'latest' is not an agent version"},
		{"runningTasksCount == many", "'many' is not a number"},
		{"runningTasksCount exists", "operator 'exists' is not valid for runningTasksCount"},
		{"registeredAt < yesterday", "'yesterday' is not a date"},
		{"registeredAt in [2018-02-13]", "operator 'in' is not valid for registeredAt"},
		{"ec2InstanceId >= i-1", "operator '>=' is not valid for ec2InstanceId"},
		{"task:group < x", "operator '<' is not valid for task:group"},
		{"== red", "expected a subject, found '='"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.expr)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q): got %v, want a *ParseError", tt.expr, err)
			continue
		}
		if !strings.Contains(pe.Reason, tt.reason) {
			t.Errorf("Parse(%q): got reason %q, want %q", tt.expr, pe.Reason, tt.reason)
		}
		if !strings.HasPrefix(err.Error(), "Invalid expression '"+tt.expr+"': ") {
			t.Errorf("Parse(%q): got message %q, want it to quote the expression", tt.expr, err)
		}
	}
}

func TestParseErrorPosition(t *testing.T) {
	_, err := Parse("attribute:a == 1 and colour == red")
	want := "Invalid expression 'attribute:a == 1 and colour == red': unknown subject 'colour' at position 22."
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestExpressionString(t *testing.T) {
	const text = "attribute:ecs.instance-type =~ t2.*"
	expr, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	if got := expr.String(); got != text {
		t.Errorf("got %q, want %q", got, text)
	}
}

// TestPrefixPatternsAgreeWithRegexp checks the shortcut for patterns such
// as t2.* against the regular expression it stands for.
func TestPrefixPatternsAgreeWithRegexp(t *testing.T) {
	for _, pattern := range []string{"t2.*", "g2.*", ".*", "us-east-1.*"} {
		expr, err := Parse("attribute:x =~ " + pattern)
		if err != nil {
			t.Fatal(err)
		}
		term := expr.root.(*term)
		if !term.isPrefix {
			t.Errorf("%s: not taken as a prefix", pattern)
		}
		for _, value := range []string{"", "t2", "t2.micro", "xt2.micro", "g2.2xlarge", "t2\nx", "us-east-1a", "us-east-2a"} {
			if got, want := term.matches(value), term.re.MatchString(value); got != want {
				t.Errorf("%s on %q: got %v, want %v as the regular expression says", pattern, value, got, want)
			}
		}
	}
	expr, _ := Parse(`attribute:x =~ t2\..*`)
	if expr.root.(*term).isPrefix {
		t.Errorf(`t2\..* taken as a prefix; it has an escape`)
	}
}
