package cloudwatch

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"overcast"
	api "overcast/internal/api/cloudwatch"
	"overcast/internal/clock"
	"overcast/internal/service/servicetest"
)

// recordedActions is an AlarmActions that remembers what it was asked to run.
type recordedActions struct {
	mu      sync.Mutex
	ran     []string
	changes []StateChange
}

func (r *recordedActions) RunAlarmAction(_ context.Context, arn string, c StateChange) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ran = append(r.ran, c.Previous+"->"+c.State+" "+arn)
	r.changes = append(r.changes, c)
	return nil
}

func (r *recordedActions) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ran...)
}

// alarmOnECS is an alarm "cpu-high" above 75 on a service's AWS/ECS
// CPUUtilization, in a running CloudWatch whose actions are recorded.
type alarmOnECS struct {
	actions *recordedActions
	fake    *clock.Fake
	// put sends a datapoint as ECS does.
	put func(v float64)
}

func startAlarmOnECS(t *testing.T, alarmActions, okActions []string) alarmOnECS {
	t.Helper()
	env := servicetest.Env(t)
	a := alarmOnECS{actions: &recordedActions{}, fake: servicetest.Fake(env)}
	s := New(env, a.actions)
	env.Controllers.Start()
	ctx := overcast.WithCaller(context.Background(), overcast.RootCaller("123456789012", "eu-west-1"))
	dims := []Dimension{{Name: "ClusterName", Value: "prod"}, {Name: "ServiceName", Value: "web"}}
	err := s.PutMetricAlarm(ctx, &api.PutMetricAlarmInput{AlarmName: new("cpu-high"), Namespace: new("AWS/ECS"), MetricName: new("CPUUtilization"),
		Dimensions: apiDimensions(dims), Statistic: new("Average"), Period: new(int32(60)), EvaluationPeriods: new(int32(1)),
		Threshold: new(75.0), ComparisonOperator: new(api.ComparisonOperatorGreaterThanThreshold),
		AlarmActions: alarmActions, OKActions: okActions})
	if err != nil {
		t.Fatal(err)
	}
	a.put = func(v float64) {
		t.Helper()
		if err := s.Put(context.Background(), "123456789012", "eu-west-1", "AWS/ECS",
			[]Datum{{MetricName: "CPUUtilization", Dimensions: dims, Values: []float64{v}, Unit: "Percent"}}); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// TestPutFeedsAlarmsAndActionsRun is how ECS will use CloudWatch: its
// metrics arrive through Put under AWS/ECS, an alarm on them (as
// Application Auto Scaling makes) runs its action on each transition.
func TestPutFeedsAlarmsAndActionsRun(t *testing.T) {
	const high = "arn:aws:autoscaling:eu-west-1:123456789012:scalingPolicy:p:resource/ecs/service/prod/web:policyName/out"
	const low = "arn:aws:autoscaling:eu-west-1:123456789012:scalingPolicy:p:resource/ecs/service/prod/web:policyName/in"
	a := startAlarmOnECS(t, []string{high}, []string{low})
	a.put(90)
	a.fake.Advance(time.Minute)
	servicetest.WaitFor(t, "the ALARM action", func() bool { return len(a.actions.list()) == 1 })
	a.put(20)
	a.fake.Advance(time.Minute)
	servicetest.WaitFor(t, "the OK action", func() bool { return len(a.actions.list()) == 2 })
	want := []string{"INSUFFICIENT_DATA->ALARM " + high, "ALARM->OK " + low}
	if diff := cmp.Diff(want, a.actions.list()); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
}
