package placement

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func seeded() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

// ids returns the EC2 instance IDs of placements, in order.
func ids(placements []Placement) []string {
	var out []string
	for _, p := range placements {
		out = append(out, p.Instance.EC2InstanceID)
	}
	return out
}

// countBy counts placements per value of key.
func countBy(placements []Placement, key func(*Instance) string) map[string]int {
	out := map[string]int{}
	for _, p := range placements {
		out[key(p.Instance)]++
	}
	return out
}

func az(i *Instance) string { return i.Attributes["ecs.availability-zone"] }

func running(inst *Instance, group string, n int) *Instance {
	if inst.Groups == nil {
		inst.Groups = map[string]int{}
	}
	inst.Groups[group] += n
	inst.RunningTasksCount += n
	return inst
}

// threeAZs returns two instances in each of us-east-1a, 1b and 1c; in each
// zone instance 1 has less memory left than instance 2.
func threeAZs() []*Instance {
	var out []*Instance
	for _, zone := range []string{"a", "b", "c"} {
		out = append(out,
			newInstance(zone+"1", "us-east-1"+zone, "m5.large", 2048, 2048),
			newInstance(zone+"2", "us-east-1"+zone, "m5.large", 2048, 8192))
	}
	return out
}

// TestPlaceDocumentedStrategies runs the strategy examples of the
// developer guide's task placement strategies page.
func TestPlaceDocumentedStrategies(t *testing.T) {
	spreadAZ := Strategy{Type: StrategySpread, Field: "attribute:ecs.availability-zone"}
	tests := []struct {
		name       string
		instances  []*Instance
		strategies []Strategy
		count      int
		check      func(t *testing.T, got []Placement)
	}{
		{
			name: "spread across Availability Zones", instances: threeAZs(), count: 6,
			strategies: []Strategy{spreadAZ},
			check: func(t *testing.T, got []Placement) {
				want := map[string]int{"us-east-1a": 2, "us-east-1b": 2, "us-east-1c": 2}
				if diff := cmp.Diff(want, countBy(got, az)); diff != "" {
					t.Errorf("tasks per zone (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "spread across all instances", instances: threeAZs(), count: 6,
			strategies: []Strategy{{Type: StrategySpread, Field: FieldInstanceID}},
			check: func(t *testing.T, got []Placement) {
				per := countBy(got, func(i *Instance) string { return i.EC2InstanceID })
				if len(per) != 6 {
					t.Errorf("got tasks on %v, want one on each of the 6 instances", per)
				}
			},
		},
		{
			name: "spread by host is spread by instance", instances: threeAZs(), count: 6,
			strategies: []Strategy{{Type: StrategySpread, Field: FieldHost}},
			check: func(t *testing.T, got []Placement) {
				if per := countBy(got, func(i *Instance) string { return i.EC2InstanceID }); len(per) != 6 {
					t.Errorf("got tasks on %v, want one on each of the 6 instances", per)
				}
			},
		},
		{
			name: "binpack on memory", instances: threeAZs(), count: 3,
			strategies: []Strategy{{Type: StrategyBinpack, Field: FieldMemory}},
			check: func(t *testing.T, got []Placement) {
				// 512 MiB tasks: the three 2048 MiB instances are the fullest;
				// binpack fills one (4 fit) before touching another.
				per := countBy(got, func(i *Instance) string { return i.EC2InstanceID })
				if len(per) != 1 || got[0].Instance.RegisteredMemory != 2048 {
					t.Errorf("got %v, want all three on one 2048 MiB instance", ids(got))
				}
			},
		},
		{
			name: "random", instances: threeAZs(), count: 10,
			strategies: []Strategy{{Type: StrategyRandom}},
			check: func(t *testing.T, got []Placement) {
				if per := countBy(got, func(i *Instance) string { return i.EC2InstanceID }); len(per) < 2 {
					t.Errorf("got every task on %v, want them scattered", per)
				}
			},
		},
		{
			name: "spread across zones, then across instances in each zone", instances: threeAZs(), count: 6,
			strategies: []Strategy{spreadAZ, {Type: StrategySpread, Field: FieldInstanceID}},
			check: func(t *testing.T, got []Placement) {
				if per := countBy(got, func(i *Instance) string { return i.EC2InstanceID }); len(per) != 6 {
					t.Errorf("got tasks on %v, want one on each of the 6 instances", per)
				}
			},
		},
		{
			name: "spread across zones, then binpack on memory in each zone", instances: threeAZs(), count: 6,
			strategies: []Strategy{spreadAZ, {Type: StrategyBinpack, Field: FieldMemory}},
			check: func(t *testing.T, got []Placement) {
				want := map[string]int{"i-a1": 2, "i-b1": 2, "i-c1": 2}
				if diff := cmp.Diff(want, countBy(got, func(i *Instance) string { return i.EC2InstanceID })); diff != "" {
					t.Errorf("tasks per instance (-want +got):\n%s", diff)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := Task{CPU: 256, Memory: 512, Group: "family:web", Strategies: tt.strategies}
			got, failures, err := Place(tt.instances, task, tt.count, seeded())
			if err != nil || failures != nil {
				t.Fatalf("Place: got failures %v, error %v; want none", failures, err)
			}
			if len(got) != tt.count {
				t.Fatalf("got %d placements, want %d", len(got), tt.count)
			}
			tt.check(t, got)
		})
	}
}

// TestPlaceDocumentedConstraints runs the constraint examples of the
// developer guide's task placement constraints page, and RunTask's failure
// reasons for the instances that do not qualify.
func TestPlaceDocumentedConstraints(t *testing.T) {
	cluster := func() []*Instance {
		return []*Instance{
			newInstance("t2a", "us-east-1a", "t2.micro", 1024, 1024),
			newInstance("g2b", "us-east-1b", "g2.2xlarge", 8192, 15360),
			running(newInstance("m5c", "us-east-1c", "m5.large", 2048, 8192), "databases", 1),
		}
	}
	tests := []struct {
		name         string
		constraints  []Constraint
		count        int
		wantOn       []string
		wantFailures []Failure
	}{
		{
			name:        "memberOf T2 instances",
			constraints: []Constraint{{Type: ConstraintMemberOf, Expression: "attribute:ecs.instance-type =~ t2.*"}},
			count:       1, wantOn: []string{"i-t2a"},
		},
		{
			name:        "memberOf the databases task group",
			constraints: []Constraint{{Type: ConstraintMemberOf, Expression: "task:group == databases"}},
			count:       2, wantOn: []string{"i-m5c", "i-m5c"},
		},
		{
			name:        "memberOf an Availability Zone",
			constraints: []Constraint{{Type: ConstraintMemberOf, Expression: "attribute:ecs.availability-zone == us-east-1b"}},
			count:       1, wantOn: []string{"i-g2b"},
		},
		{
			name:        "memberOf listed EC2 instances",
			constraints: []Constraint{{Type: ConstraintMemberOf, Expression: "ec2InstanceId in ['i-m5c', 'i-t2a']"}},
			count:       1, wantOn: []string{"i-t2a"}, // spread: i-m5c already runs a task
		},
		{
			name:        "memberOf G2 instances",
			constraints: []Constraint{{Type: ConstraintMemberOf, Expression: "attribute:ecs.instance-type =~ g2.*"}},
			count:       1, wantOn: []string{"i-g2b"},
		},
		{
			name:        "memberOf not in the databases group",
			constraints: []Constraint{{Type: ConstraintMemberOf, Expression: "not(task:group == databases) and attribute:ecs.instance-type !~ t2.*"}},
			count:       1, wantOn: []string{"i-g2b"},
		},
		{
			name:        "distinctInstance, one task per instance",
			constraints: []Constraint{{Type: ConstraintDistinctInstance}},
			count:       3, wantOn: []string{"i-g2b", "i-m5c", "i-t2a"},
		},
		{
			name:        "distinctInstance, more tasks than instances",
			constraints: []Constraint{{Type: ConstraintDistinctInstance}},
			count:       4, wantOn: []string{"i-g2b", "i-m5c", "i-t2a"},
			wantFailures: []Failure{
				{ARN: cluster()[0].ARN, Reason: ReasonDistinctInstance},
				{ARN: cluster()[1].ARN, Reason: ReasonDistinctInstance},
				{ARN: cluster()[2].ARN, Reason: ReasonDistinctInstance},
			},
		},
		{
			name:        "memberOf that no instance satisfies",
			constraints: []Constraint{{Type: ConstraintMemberOf, Expression: "attribute:ecs.instance-type == p3.2xlarge"}},
			count:       1,
			wantFailures: []Failure{
				{ARN: cluster()[0].ARN, Reason: ReasonMemberOf},
				{ARN: cluster()[1].ARN, Reason: ReasonMemberOf},
				{ARN: cluster()[2].ARN, Reason: ReasonMemberOf},
			},
		},
		{
			name: "constraints are ANDed",
			constraints: []Constraint{
				{Type: ConstraintMemberOf, Expression: "attribute:ecs.availability-zone in [us-east-1a, us-east-1c]"},
				{Type: ConstraintMemberOf, Expression: "runningTasksCount == 0"},
			},
			count: 1, wantOn: []string{"i-t2a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := Task{CPU: 128, Memory: 256, Group: "family:web", Constraints: tt.constraints,
				Strategies: []Strategy{{Type: StrategySpread, Field: FieldInstanceID}, {Type: StrategyBinpack, Field: FieldMemory}}}
			got, failures, err := Place(cluster(), task, tt.count, seeded())
			if err != nil {
				t.Fatal(err)
			}
			gotOn := ids(got)
			if strings.HasPrefix(tt.name, "distinctInstance") {
				// The order is the strategies' business; the set is the point.
				slices.Sort(gotOn)
			}
			if diff := cmp.Diff(tt.wantOn, gotOn); diff != "" {
				t.Errorf("instances (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantFailures, failures); diff != "" {
				t.Errorf("failures (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPlaceResources checks the resource filter and the reason each
// refused instance reports.
func TestPlaceResources(t *testing.T) {
	small := newInstance("small", "us-east-1a", "t2.micro", 256, 4096)
	tight := newInstance("tight", "us-east-1a", "t2.micro", 4096, 256)
	busy := with(newInstance("busy", "us-east-1a", "t2.micro", 4096, 4096), func(i *Instance) {
		i.UsedPorts = []Port{{Number: 22}, {Number: 80, Protocol: "tcp"}}
	})
	gone := with(newInstance("gone", "us-east-1a", "t2.micro", 4096, 4096), func(i *Instance) { i.AgentConnected = false })
	plain := with(newInstance("plain", "us-east-1a", "t2.micro", 4096, 4096), func(i *Instance) { delete(i.Attributes, "ecs.os-type") })
	draining := with(newInstance("draining", "us-east-1a", "t2.micro", 4096, 4096), func(i *Instance) { i.Status = StatusDraining })

	task := Task{CPU: 512, Memory: 512, Group: "family:web", NetworkMode: "bridge",
		Ports:              []Port{{Number: 80, Protocol: "tcp"}},
		RequiredAttributes: []Attribute{{Name: "ecs.os-type", Value: "linux"}}}
	got, failures, err := Place([]*Instance{small, tight, busy, gone, plain, draining}, task, 1, seeded())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("got placements on %v, want none", ids(got))
	}
	want := []Failure{
		{ARN: small.ARN, Reason: ReasonCPU},
		{ARN: tight.ARN, Reason: ReasonMemory},
		{ARN: busy.ARN, Reason: ReasonPorts},
		{ARN: gone.ARN, Reason: ReasonAgent},
		{ARN: plain.ARN, Reason: ReasonAttribute},
		// DRAINING instances are not candidates and report nothing.
	}
	if diff := cmp.Diff(want, failures); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
}

func TestPlacePorts(t *testing.T) {
	udp := Task{CPU: 10, Memory: 10, NetworkMode: "bridge", Ports: []Port{{Number: 80, Protocol: "udp"}}}
	tcp := Task{CPU: 10, Memory: 10, NetworkMode: "host", Ports: []Port{{Number: 80}}}
	awsvpc := Task{CPU: 10, Memory: 10, NetworkMode: "awsvpc", Ports: []Port{{Number: 80}}}
	dynamic := Task{CPU: 10, Memory: 10, NetworkMode: "bridge", Ports: []Port{{Number: 0}}}
	tests := []struct {
		name   string
		task   Task
		count  int
		placed int
	}{
		{"udp does not collide with tcp", udp, 1, 1},
		{"tcp collides with tcp", tcp, 1, 0},
		{"awsvpc tasks have their own interface", awsvpc, 3, 3},
		{"dynamic host ports never collide", dynamic, 3, 3},
		{"a port placed earlier in the call collides", Task{CPU: 10, Memory: 10, Ports: []Port{{Number: 8080}}}, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst := with(newInstance("a", "us-east-1a", "t2.micro", 1024, 1024), func(i *Instance) {
				i.UsedPorts = []Port{{Number: 80, Protocol: "tcp"}}
			})
			got, failures, err := Place([]*Instance{inst}, tt.task, tt.count, seeded())
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.placed {
				t.Errorf("got %d placed, want %d", len(got), tt.placed)
			}
			if tt.placed < tt.count {
				want := []Failure{{ARN: inst.ARN, Reason: ReasonPorts}}
				if diff := cmp.Diff(want, failures); diff != "" {
					t.Errorf("failures (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestPlaceBinpackFullestThatFits: binpack takes the instance with the
// least of the resource left, among those the task still fits.
func TestPlaceBinpackFullestThatFits(t *testing.T) {
	instances := []*Instance{
		newInstance("roomy", "us-east-1a", "m5.large", 4096, 8192),
		newInstance("tooFull", "us-east-1a", "m5.large", 4096, 256),
		newInstance("snug", "us-east-1a", "m5.large", 4096, 1024),
		newInstance("middle", "us-east-1a", "m5.large", 4096, 2048),
	}
	task := Task{CPU: 256, Memory: 512, Strategies: []Strategy{{Type: StrategyBinpack, Field: FieldMemory}}}
	got, _, err := Place(instances, task, 4, seeded())
	if err != nil {
		t.Fatal(err)
	}
	// snug takes two (1024 MiB), then middle, the next fullest, takes more.
	want := []string{"i-snug", "i-snug", "i-middle", "i-middle"}
	if diff := cmp.Diff(want, ids(got)); diff != "" {
		t.Errorf("placements (-want +got):\n%s", diff)
	}

	cpu := Task{CPU: 1024, Memory: 10, Strategies: []Strategy{{Type: StrategyBinpack, Field: "CPU"}}}
	instances[0].RemainingCPU = 1500
	got, _, _ = Place(instances, cpu, 1, seeded())
	if diff := cmp.Diff([]string{"i-roomy"}, ids(got)); diff != "" {
		t.Errorf("binpack cpu (-want +got):\n%s", diff)
	}
}

// TestPlaceSpreadBalancesZones starts from an unbalanced cluster: spread
// fills the emptiest zones first, counting the group's running tasks.
func TestPlaceSpreadBalancesZones(t *testing.T) {
	instances := threeAZs()
	running(instances[0], "service:web", 2) // us-east-1a
	running(instances[1], "service:web", 1) // us-east-1a
	running(instances[2], "service:web", 1) // us-east-1b
	running(instances[4], "other", 5)       // us-east-1c, another group
	task := Task{CPU: 10, Memory: 10, Group: "service:web",
		Strategies: []Strategy{{Type: StrategySpread, Field: "attribute:ecs.availability-zone"}}}
	got, _, err := Place(instances, task, 5, seeded())
	if err != nil {
		t.Fatal(err)
	}
	// Before: a 3, b 1, c 0. Five more make a 3, b 4, c 4 at best.
	want := map[string]int{"us-east-1b": 2, "us-east-1c": 3}
	if diff := cmp.Diff(want, countBy(got, az)); diff != "" {
		t.Errorf("new tasks per zone (-want +got):\n%s", diff)
	}
}

func TestPlaceSpreadMissingAttribute(t *testing.T) {
	instances := []*Instance{
		newInstance("a", "us-east-1a", "m5.large", 1024, 1024),
		with(newInstance("x", "", "m5.large", 1024, 1024), func(i *Instance) { delete(i.Attributes, "ecs.availability-zone") }),
	}
	task := Task{CPU: 10, Memory: 10, Group: "g", Strategies: []Strategy{{Type: StrategySpread, Field: "attribute:ecs.availability-zone"}}}
	got, _, _ := Place(instances, task, 2, seeded())
	if per := countBy(got, func(i *Instance) string { return i.EC2InstanceID }); len(per) != 2 {
		t.Errorf("got %v, want an instance without the attribute to count as a zone of its own", per)
	}
}

func TestPlaceLeavesInstancesUnchanged(t *testing.T) {
	inst := running(newInstance("a", "us-east-1a", "m5.large", 1024, 1024), "g", 1)
	inst.UsedPorts = []Port{{Number: 22}}
	before := *inst
	beforeGroups := map[string]int{"g": 1}
	task := Task{CPU: 100, Memory: 100, Group: "g", Ports: []Port{{Number: 80}}}
	got, _, _ := Place([]*Instance{inst}, task, 1, seeded())
	if len(got) != 1 || got[0].Instance != inst {
		t.Fatalf("got %v, want the task on the caller's instance", got)
	}
	if diff := cmp.Diff(before, *inst); diff != "" {
		t.Errorf("instance changed (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(beforeGroups, inst.Groups); diff != "" {
		t.Errorf("groups changed (-before +after):\n%s", diff)
	}
}

func TestPlaceNoInstances(t *testing.T) {
	draining := with(newInstance("a", "us-east-1a", "m5.large", 1024, 1024), func(i *Instance) { i.Status = StatusDraining })
	for name, instances := range map[string][]*Instance{
		"empty cluster":     nil,
		"only DRAINING one": {draining},
	} {
		_, _, err := Place(instances, Task{CPU: 1, Memory: 1}, 1, seeded())
		if !errors.Is(err, ErrNoContainerInstances) {
			t.Errorf("%s: got %v, want ErrNoContainerInstances", name, err)
		}
		if err.Error() != "No Container Instances were found in your cluster." {
			t.Errorf("%s: got message %q", name, err)
		}
	}
}

func TestPlaceBadExpression(t *testing.T) {
	task := Task{CPU: 1, Memory: 1, Constraints: []Constraint{{Type: ConstraintMemberOf, Expression: "attribute:x =="}}}
	_, _, err := Place(threeAZs(), task, 1, seeded())
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Errorf("got %v, want a *ParseError", err)
	}
}

// TestPlaceRandomTies: with no strategy, ties go to random instances, and
// each is possible.
func TestPlaceRandomTies(t *testing.T) {
	instances := threeAZs()
	seen := map[string]bool{}
	rnd := seeded()
	for range 200 {
		got, _, _ := Place(instances, Task{CPU: 1, Memory: 1}, 1, rnd)
		seen[got[0].Instance.EC2InstanceID] = true
	}
	if len(seen) != len(instances) {
		t.Errorf("got placements on %d instances, want all %d chosen at some point", len(seen), len(instances))
	}
}

func TestPlaceNilRand(t *testing.T) {
	got, _, err := Place(threeAZs(), Task{CPU: 1, Memory: 1}, 2, nil)
	if err != nil || len(got) != 2 {
		t.Errorf("got %d placements, error %v; want 2", len(got), err)
	}
}
