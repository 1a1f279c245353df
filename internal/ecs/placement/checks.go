package placement

// A check decides whether an instance can take the task; it returns ""
// when it can, else the reason RunTask reports.
type check func(*Instance) string

// checks is the filter chain in the order the developer guide gives: the
// instance's agent, its resources (CPU, memory, ports), the attributes the
// task requires, then the placement constraints. An instance's failure is
// the first check it fails.
type checks []check

func (cs checks) reason(inst *Instance) string {
	for _, c := range cs {
		if r := c(inst); r != "" {
			return r
		}
	}
	return ""
}

func (cs checks) pass(inst *Instance) bool { return cs.reason(inst) == "" }

func newChecks(task Task) (checks, error) {
	cs := checks{checkAgent, checkCPU(task.CPU), checkMemory(task.Memory)}
	if checksPorts(task) && len(task.Ports) > 0 {
		cs = append(cs, checkPorts(task.Ports))
	}
	if len(task.RequiredAttributes) > 0 {
		cs = append(cs, checkAttributes(task.RequiredAttributes))
	}
	for _, c := range task.Constraints {
		switch c.Type {
		case ConstraintDistinctInstance:
			cs = append(cs, checkDistinctInstance(task.Group))
		case ConstraintMemberOf:
			expr, err := Parse(c.Expression)
			if err != nil {
				return nil, err
			}
			cs = append(cs, checkMemberOf(expr))
		}
	}
	return cs, nil
}

// An instance whose agent is disconnected is refused rather than waited
// for.
func checkAgent(inst *Instance) string {
	if !inst.AgentConnected {
		return ReasonAgent
	}
	return ""
}

func checkAttributes(required []Attribute) check {
	return func(inst *Instance) string {
		for _, a := range required {
			v, ok := inst.Attributes[a.Name]
			if !ok || (a.Value != "" && v != a.Value) {
				return ReasonAttribute
			}
		}
		return ""
	}
}

func checkCPU(cpu int) check {
	return func(inst *Instance) string {
		if cpu > inst.RemainingCPU {
			return ReasonCPU
		}
		return ""
	}
}

func checkMemory(memory int) check {
	return func(inst *Instance) string {
		if memory > inst.RemainingMemory {
			return ReasonMemory
		}
		return ""
	}
}

// checksPorts reports whether the task's host ports can collide: awsvpc
// tasks get their own network interface and none have no ports.
func checksPorts(task Task) bool {
	return task.NetworkMode != "awsvpc" && task.NetworkMode != "none"
}

func checkPorts(ports []Port) check {
	return func(inst *Instance) string {
		for _, want := range ports {
			if want.Number == 0 {
				continue
			}
			for _, used := range inst.UsedPorts {
				if want.conflicts(used) {
					return ReasonPorts
				}
			}
		}
		return ""
	}
}

// distinctInstance keeps each task of the group on its own instance,
// counting the tasks placed earlier in the same call.
func checkDistinctInstance(group string) check {
	return func(inst *Instance) string {
		if inst.Groups[group] > 0 {
			return ReasonDistinctInstance
		}
		return ""
	}
}

func checkMemberOf(expr *Expression) check {
	return func(inst *Instance) string {
		if !expr.Match(inst) {
			return ReasonMemberOf
		}
		return ""
	}
}
