package placement_test

import (
	"fmt"
	"math/rand/v2"

	"overcast/internal/ecs/placement"
)

// RunTask with the documented "spread across zones, then binpack on
// memory, only on T2 instances": one task fits, the second finds no room.
func ExamplePlace() {
	instances := []*placement.Instance{
		{ARN: "ci/a", Status: placement.StatusActive, AgentConnected: true,
			Attributes:   map[string]string{"ecs.availability-zone": "us-east-1a", "ecs.instance-type": "t2.small"},
			RemainingCPU: 1024, RemainingMemory: 2048},
		{ARN: "ci/b", Status: placement.StatusActive, AgentConnected: true,
			Attributes:   map[string]string{"ecs.availability-zone": "us-east-1b", "ecs.instance-type": "m5.large"},
			RemainingCPU: 2048, RemainingMemory: 8192},
	}
	task := placement.Task{
		CPU: 512, Memory: 1536, Group: "family:web",
		Constraints: []placement.Constraint{{Type: placement.ConstraintMemberOf, Expression: "attribute:ecs.instance-type =~ t2.*"}},
		Strategies: []placement.Strategy{
			{Type: placement.StrategySpread, Field: "attribute:ecs.availability-zone"},
			{Type: placement.StrategyBinpack, Field: placement.FieldMemory},
		},
	}
	placements, failures, err := placement.Place(instances, task, 2, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		fmt.Println(err) // an InvalidParameterException
		return
	}
	for _, p := range placements {
		fmt.Println("placed on", p.Instance.ARN)
	}
	for _, f := range failures {
		fmt.Printf("failure: %s %s\n", f.ARN, f.Reason)
	}
	// Output:
	// placed on ci/a
	// failure: ci/a RESOURCE:MEMORY
	// failure: ci/b MemberOf placement constraint unsatisfied.
}

// ListContainerInstances' filter uses the same language.
func ExampleParse() {
	expr, err := placement.Parse("attribute:ecs.instance-type in [t2.small, t2.medium] and runningTasksCount < 2")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(expr.Match(&placement.Instance{
		Attributes:        map[string]string{"ecs.instance-type": "t2.medium"},
		RunningTasksCount: 1,
	}))
	_, err = placement.Parse("attribute:ecs.instance-type in t2.small")
	fmt.Println(err)
	// Output:
	// true
	// Invalid expression 'attribute:ecs.instance-type in t2.small': expected '[' to open the argument list at position 32.
}
