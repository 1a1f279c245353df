package placement

import "math/rand/v2"

// A RunningTask is one of a service's tasks, a candidate to stop.
type RunningTask struct {
	ARN         string
	InstanceARN string
	CPU         int
	Memory      int
}

// ChooseToStop picks count of the group's tasks to stop when a service
// scales in, with the service's strategies read in reverse, as the
// developer guide describes: spread stops tasks where the field's value
// (Availability Zone, instance) has the most of them, keeping the spread
// balanced; binpack stops the task on the instance with the most CPU or
// memory left, emptying it first; random picks at random. Ties and the
// task within the chosen instance are random. Tasks on instances not in
// instances (deregistered ones) go first. It returns the ARNs in the order
// chosen.
func ChooseToStop(instances []*Instance, group string, tasks []RunningTask, strategies []Strategy, count int, rnd *rand.Rand) []string {
	if rnd == nil {
		rnd = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	// Stopping considers every instance the group's tasks run on, DRAINING
	// ones included, so the state covers all of them: copies marked ACTIVE,
	// which own() copies again before changing their maps.
	all := make([]*Instance, len(instances))
	byARN := map[string]*candidate{}
	for i, inst := range instances {
		cp := *inst
		cp.Status = StatusActive
		all[i] = &cp
	}
	s := newState(all, group, strategies, Task{})
	for i := range s.candidates {
		byARN[s.candidates[i].orig.ARN] = &s.candidates[i]
	}
	onInstance := map[*candidate][]RunningTask{}
	var stop []string
	for _, t := range tasks {
		if c, ok := byARN[t.InstanceARN]; ok {
			onInstance[c] = append(onInstance[c], t)
		} else if len(stop) < count {
			stop = append(stop, t.ARN)
		}
	}
	for len(stop) < count {
		c := s.best(rnd, stopOrder, func(c *candidate) bool { return len(onInstance[c]) > 0 })
		if c == nil {
			break
		}
		ts := onInstance[c]
		i := rnd.IntN(len(ts))
		t := ts[i]
		onInstance[c] = append(ts[:i:i], ts[i+1:]...)
		s.release(c, Task{CPU: t.CPU, Memory: t.Memory})
		stop = append(stop, t.ARN)
	}
	return stop
}
