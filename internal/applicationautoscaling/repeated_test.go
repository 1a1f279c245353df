package applicationautoscaling

import (
	"context"
	"testing"

	"overcast"
	api "overcast/internal/api/applicationautoscaling"
)

// TestRepeatedAlarmAction: a policy reads the datapoints from
// StateReasonData rather than the reason's text, and an alarm action
// repeated while nothing can scale records its not-scaled activity once.
func TestRepeatedAlarmAction(t *testing.T) {
	s := startScaling(t, 1, 4, &api.PutScalingPolicyRequest{PolicyType: new(api.PolicyTypeTargetTrackingScaling),
		TargetTrackingScalingPolicyConfiguration: &api.TargetTrackingScalingPolicyConfiguration{TargetValue: new(50.0),
			PredefinedMetricSpecification: &api.PredefinedMetricSpecification{PredefinedMetricType: new(api.MetricTypeECSServiceAverageCPUUtilization)}}})
	high := *s.policy.Alarms[0].AlarmName
	run := func(reason, reasonData string) {
		t.Helper()
		change := AlarmChange{Account: overcast.DefaultAccountID, Region: overcast.DefaultRegion, AlarmName: high,
			Previous: "ALARM", State: "ALARM", Reason: reason, ReasonData: reasonData, Time: s.clock.Now()}
		if err := s.svc.RunAlarmAction(context.Background(), *s.policy.PolicyARN, change); err != nil {
			t.Fatal(err)
		}
	}
	// The text says 60, the data's newest point 100: 2 tasks at 100% of a
	// 50% target become 4.
	run("Threshold Crossed: 1 out of the last 1 datapoints [60.0 (01/03/26 12:00:00)] was greater than the threshold (50.0).",
		`{"version":"1.0","statistic":"Average","period":60,"recentDatapoints":[60.0,100.0],"threshold":50.0}`)
	if s.ecs.desired != 4 {
		t.Errorf("got desired count %d, want 4 from the newest datapoint of StateReasonData", s.ecs.desired)
	}
	for range 3 {
		run("Threshold Crossed", `{"recentDatapoints":[100.0],"threshold":50.0}`)
	}
	want := []string{"Attempting to scale due to alarm triggered AlreadyAtMaxCapacity", "Setting desired count to 4."}
	if got := s.activities(t); len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got activities %q, want %q: the same not-scaled reason once", got, want)
	}
}
