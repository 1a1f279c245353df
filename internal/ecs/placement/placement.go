// Package placement decides which container instance runs an ECS task, as
// the ECS developer guide describes task placement for the EC2 launch type:
// keep the instances with the CPU, memory and ports the task needs, then
// those that satisfy every placement constraint, then rank them by the
// placement strategies and take the best. Every rejected instance carries
// the reason RunTask reports in failures[].
//
// The package is pure: it works on the Instance and Task values the ECS
// service adapts its records to, and changes none of them.
package placement

import (
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Container instance statuses that matter to placement. Only ACTIVE
// instances take new tasks; DRAINING ones are being emptied.
const (
	StatusActive   = "ACTIVE"
	StatusDraining = "DRAINING"
)

// Failure reasons, as RunTask reports them per container instance
// (developer guide, "API failure reasons").
const (
	ReasonCPU              = "RESOURCE:CPU"
	ReasonMemory           = "RESOURCE:MEMORY"
	ReasonPorts            = "RESOURCE:PORTS"
	ReasonAttribute        = "ATTRIBUTE"
	ReasonAgent            = "AGENT"
	ReasonMemberOf         = "MemberOf placement constraint unsatisfied."
	ReasonDistinctInstance = "DistinctInstance placement constraint unsatisfied."
)

// Constraint and strategy types and fields.
const (
	ConstraintDistinctInstance = "distinctInstance"
	ConstraintMemberOf         = "memberOf"

	StrategyBinpack = "binpack"
	StrategySpread  = "spread"
	StrategyRandom  = "random"

	FieldCPU        = "cpu"
	FieldMemory     = "memory"
	FieldInstanceID = "instanceId"
	FieldHost       = "host" // same as instanceId
)

// An Instance is a container instance as placement sees it.
type Instance struct {
	ARN            string
	EC2InstanceID  string
	Status         string // StatusActive, StatusDraining, …
	AgentConnected bool
	AgentVersion   string
	RegisteredAt   time.Time

	// Attributes holds built-in (ecs.availability-zone, ecs.instance-type,
	// ecs.ami-id, ecs.os-type, ecs.os-family, ecs.cpu-architecture,
	// ecs.vpc-id, ecs.subnet-id, ecs.capability.*) and custom attributes;
	// an attribute without a value maps to "".
	Attributes map[string]string

	RegisteredCPU    int // CPU units
	RegisteredMemory int // MiB
	RemainingCPU     int
	RemainingMemory  int
	// UsedPorts are the host ports taken, by running tasks or reserved by
	// the agent's configuration.
	UsedPorts []Port

	RunningTasksCount int
	// Groups counts the instance's running tasks per task group
	// ("service:web", "family:nginx", or a RunTask group).
	Groups map[string]int
}

// A Port is a host port and its protocol, "tcp" (the default) or "udp".
type Port struct {
	Number   int
	Protocol string
}

func (p Port) conflicts(q Port) bool {
	return p.Number == q.Number && protocol(p) == protocol(q)
}

func protocol(p Port) string {
	if p.Protocol == "" {
		return "tcp"
	}
	return strings.ToLower(p.Protocol)
}

// A Task is what one task asks of its container instance.
type Task struct {
	CPU    int // CPU units
	Memory int // MiB charged: the containers' memory, or their memoryReservation
	// Ports are the static host ports (host mode, or bridge with a fixed
	// hostPort); dynamic ports (hostPort 0) are not listed.
	Ports       []Port
	NetworkMode string // bridge, host, awsvpc or none
	// Group is the task group: "service:<name>" for a service's tasks, the
	// RunTask group, or "family:<name>" by default. The caller fills it.
	Group              string
	RequiredAttributes []Attribute
	// Constraints are the task definition's and the request's, together.
	Constraints []Constraint
	Strategies  []Strategy
}

// An Attribute is one an instance must have; an empty Value accepts any.
type Attribute struct {
	Name  string
	Value string
}

// A Constraint is a placement constraint: distinctInstance, or memberOf
// with a cluster query language expression.
type Constraint struct {
	Type       string
	Expression string
}

// A Strategy is a placement strategy: binpack (cpu|memory), spread
// (instanceId|host|attribute:<name>) or random.
type Strategy struct {
	Type  string
	Field string
}

// A Placement is one task placed on Instance (the caller's pointer).
type Placement struct {
	Instance *Instance
}

// A Failure is a container instance that could not take the task, and why.
type Failure struct {
	ARN    string
	Reason string
}

// ErrNoContainerInstances is RunTask's answer when the cluster has no
// container instance that could take a task at all (none registered, or
// none ACTIVE). It is an InvalidParameterException.
var ErrNoContainerInstances = &InvalidParameterError{Message: "No Container Instances were found in your cluster."}

// An InvalidParameterError is a request ECS refuses with an
// InvalidParameterException; Message is ECS's text.
type InvalidParameterError struct {
	Message string
}

func (e *InvalidParameterError) Error() string { return e.Message }

// Place places count tasks (RunTask allows up to 10) one after another,
// each on the best instance left after the previous ones took their CPU,
// memory, ports and group membership. It stops at the first task that fits
// nowhere and returns, for that task, the reason each ACTIVE instance
// refused it. rnd breaks ties; nil uses a random seed.
//
// The error is a *ParseError for a memberOf expression that does not parse,
// or ErrNoContainerInstances; the caller validates constraints and
// strategies first (ValidateConstraints, ValidateStrategies).
func Place(instances []*Instance, task Task, count int, rnd *rand.Rand) ([]Placement, []Failure, error) {
	if rnd == nil {
		rnd = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	checks, err := newChecks(task)
	if err != nil {
		return nil, nil, err
	}
	s := newState(instances, task.Group, task.Strategies, task)
	if len(s.candidates) == 0 {
		return nil, nil, ErrNoContainerInstances
	}
	var placements []Placement
	for range count {
		best := s.best(rnd, placeOrder, func(c *candidate) bool { return checks.pass(c.cur) })
		if best == nil {
			return placements, s.failures(checks), nil
		}
		s.reserve(best, task)
		placements = append(placements, Placement{Instance: best.orig})
	}
	return placements, nil, nil
}

// A candidate is an ACTIVE instance. cur is the instance as this call sees
// it: the caller's until a task is placed there, then a private copy, so
// placing never changes the caller's values and costs nothing on the
// instances that take no task.
type candidate struct {
	orig, cur *Instance
}

func (c *candidate) own() *Instance {
	if c.cur == c.orig {
		cp := *c.orig
		cp.Groups = maps.Clone(c.orig.Groups)
		if cp.Groups == nil {
			cp.Groups = map[string]int{}
		}
		cp.UsedPorts = slices.Clone(c.orig.UsedPorts)
		c.cur = &cp
	}
	return c.cur
}

// state is the cluster during one placement or scale-in decision.
type state struct {
	candidates []candidate
	group      string
	rankers    []ranker
	// buckets counts the group's tasks per value of each spread attribute
	// (by strategy index), so spreading over AZs compares zones, not hosts.
	buckets []map[string]int
}

func newState(instances []*Instance, group string, strategies []Strategy, task Task) *state {
	s := &state{group: group, candidates: make([]candidate, 0, len(instances))}
	for _, inst := range instances {
		if inst.Status == StatusActive {
			s.candidates = append(s.candidates, candidate{orig: inst, cur: inst})
		}
	}
	s.rankers, s.buckets = newRankers(strategies, task, s)
	return s
}

// Ranking directions: placing prefers the lowest score (least remaining
// resource, emptiest spread bucket); stopping prefers the highest.
const (
	placeOrder = 1
	stopOrder  = -1
)

// best returns the eligible candidate ranked first by the strategies,
// lexicographically: the best under the first strategy, ties broken by the
// second, and so on, remaining ties at random. It scans once and keeps the
// scores of the best so far; ties are resolved by reservoir sampling so
// that each tied candidate is equally likely.
func (s *state) best(rnd *rand.Rand, order int, eligible func(*candidate) bool) *candidate {
	var (
		best       *candidate
		bestScores [maxStrategies]int
		scores     [maxStrategies]int
		ties       int
	)
	for i := range s.candidates {
		c := &s.candidates[i]
		if !eligible(c) {
			continue
		}
		for k, r := range s.rankers {
			scores[k] = order * r.score(c.cur)
		}
		cmp := 0
		if best != nil {
			cmp = compareScores(scores[:len(s.rankers)], bestScores[:len(s.rankers)])
		}
		switch {
		case best == nil || cmp < 0:
			best, bestScores, ties = c, scores, 1
		case cmp == 0:
			ties++
			if rnd.IntN(ties) == 0 {
				best = c
			}
		}
	}
	return best
}

func compareScores(a, b []int) int {
	for k := range a {
		if a[k] != b[k] {
			if a[k] < b[k] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// reserve charges task to c's instance and to the spread buckets.
func (s *state) reserve(c *candidate, task Task) {
	inst := c.own()
	inst.RemainingCPU -= task.CPU
	inst.RemainingMemory -= task.Memory
	if checksPorts(task) {
		inst.UsedPorts = append(inst.UsedPorts, task.Ports...)
	}
	inst.RunningTasksCount++
	inst.Groups[s.group]++
	s.count(inst, 1)
}

// release gives a stopped task's resources back to c's instance.
func (s *state) release(c *candidate, task Task) {
	inst := c.own()
	inst.RemainingCPU += task.CPU
	inst.RemainingMemory += task.Memory
	inst.RunningTasksCount--
	inst.Groups[s.group]--
	s.count(inst, -1)
}

func (s *state) count(inst *Instance, delta int) {
	for k, r := range s.rankers {
		if sa, ok := r.(spreadAttribute); ok {
			s.buckets[k][bucketOf(inst, sa.name)] += delta
		}
	}
}

// failures lists, for every candidate, the first check it fails.
func (s *state) failures(checks checks) []Failure {
	out := make([]Failure, 0, len(s.candidates))
	for _, c := range s.candidates {
		if reason := checks.reason(c.cur); reason != "" {
			out = append(out, Failure{ARN: c.orig.ARN, Reason: reason})
		}
	}
	return out
}
