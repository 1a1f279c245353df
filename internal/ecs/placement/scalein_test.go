package placement

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// serviceOn returns n tasks of service:web on inst, counted in its groups.
func serviceOn(inst *Instance, n int) []RunningTask {
	running(inst, "service:web", n)
	var out []RunningTask
	for i := range n {
		out = append(out, RunningTask{ARN: inst.EC2InstanceID + "/task-" + string(rune('0'+i)), InstanceARN: inst.ARN, CPU: 100, Memory: 100})
	}
	return out
}

func TestChooseToStopSpreadKeepsZonesBalanced(t *testing.T) {
	instances := threeAZs()
	var tasks []RunningTask
	tasks = append(tasks, serviceOn(instances[0], 3)...) // us-east-1a: 4
	tasks = append(tasks, serviceOn(instances[1], 1)...)
	tasks = append(tasks, serviceOn(instances[2], 2)...) // us-east-1b: 2
	tasks = append(tasks, serviceOn(instances[4], 1)...) // us-east-1c: 1
	strategies := []Strategy{{Type: StrategySpread, Field: "attribute:ecs.availability-zone"}, {Type: StrategySpread, Field: FieldInstanceID}}

	stop := ChooseToStop(instances, "service:web", tasks, strategies, 3, seeded())
	// 4/2/1 → 1a gives up two (its fuller instance first), then 1a and 1b
	// tie at 2 and one of them gives up a third.
	perInstance := map[string]int{}
	for _, arn := range stop {
		for _, task := range tasks {
			if task.ARN == arn {
				perInstance[task.InstanceARN]++
			}
		}
	}
	if got := perInstance[instances[0].ARN]; got < 2 {
		t.Errorf("got %d stopped on the fullest instance of the fullest zone (%v), want at least 2", got, stop)
	}
	if len(stop) != 3 || perInstance[instances[4].ARN] != 0 {
		t.Errorf("got %v, want 3 stops and none in us-east-1c, the emptiest zone", stop)
	}
}

func TestChooseToStopBinpackEmptiesTheEmptiestInstance(t *testing.T) {
	full := newInstance("full", "us-east-1a", "m5.large", 2048, 1024)
	empty := newInstance("empty", "us-east-1a", "m5.large", 2048, 7000)
	tasks := append(serviceOn(full, 2), serviceOn(empty, 2)...)
	strategies := []Strategy{{Type: StrategyBinpack, Field: FieldMemory}}
	stop := ChooseToStop([]*Instance{full, empty}, "service:web", tasks, strategies, 2, seeded())
	want := []string{"i-empty/task-", "i-empty/task-"}
	var got []string
	for _, arn := range stop {
		got = append(got, arn[:len(arn)-1])
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stopped (-want +got):\n%s", diff)
	}
}

func TestChooseToStopOrphansFirst(t *testing.T) {
	inst := newInstance("a", "us-east-1a", "m5.large", 2048, 2048)
	tasks := append(serviceOn(inst, 2), RunningTask{ARN: "orphan", InstanceARN: "arn:aws:ecs:us-east-1:123456789012:container-instance/default/deregistered"})
	stop := ChooseToStop([]*Instance{inst}, "service:web", tasks, nil, 2, seeded())
	if len(stop) != 2 || stop[0] != "orphan" {
		t.Errorf("got %v, want the task on a deregistered instance first", stop)
	}
}

func TestChooseToStopNoMoreThanRunning(t *testing.T) {
	inst := newInstance("a", "us-east-1a", "m5.large", 2048, 2048)
	tasks := serviceOn(inst, 2)
	stop := ChooseToStop([]*Instance{inst}, "service:web", tasks, []Strategy{{Type: StrategyRandom}}, 5, nil)
	if len(stop) != 2 {
		t.Errorf("got %v, want both tasks and no more", stop)
	}
	if inst.Groups["service:web"] != 2 || inst.RemainingMemory != 2048 {
		t.Errorf("the caller's instance changed: %+v", inst)
	}
}

func TestChooseToStopIncludesDraining(t *testing.T) {
	inst := with(newInstance("a", "us-east-1a", "m5.large", 2048, 2048), func(i *Instance) { i.Status = StatusDraining })
	stop := ChooseToStop([]*Instance{inst}, "service:web", serviceOn(inst, 1), nil, 1, seeded())
	if len(stop) != 1 {
		t.Errorf("got %v, want the task on the DRAINING instance", stop)
	}
}
