package applicationautoscaling

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"overcast"
	api "overcast/internal/api/applicationautoscaling"
	"overcast/internal/clock"
	"overcast/internal/service/servicetest"
)

// fakeECS is one ECS service, "service/prod/web".
type fakeECS struct{ desired int32 }

func (f *fakeECS) DesiredCount(ctx context.Context, cluster, service string) (int32, bool, error) {
	return f.desired, cluster == "prod" && service == "web", nil
}

func (f *fakeECS) SetDesiredCount(ctx context.Context, cluster, service string, count int32) error {
	f.desired = count
	return nil
}

// fakeAlarms keeps the alarms that exist.
type fakeAlarms map[string]Alarm

func (f fakeAlarms) PutAlarm(ctx context.Context, a Alarm) error { f[a.Name] = a; return nil }

func (f fakeAlarms) DeleteAlarms(ctx context.Context, names []string) error {
	for _, n := range names {
		delete(f, n)
	}
	return nil
}

type scaling struct {
	svc    *Service
	ecs    *fakeECS
	clock  *clock.Fake
	policy *api.PutScalingPolicyResponse
}

// startScaling registers service/prod/web (desired 2) between min and max
// and puts the policy in.
func startScaling(t *testing.T, minCap, maxCap int32, in *api.PutScalingPolicyRequest) scaling {
	t.Helper()
	env := servicetest.Env(t)
	s := scaling{ecs: &fakeECS{desired: 2}, clock: servicetest.Fake(env)}
	s.svc = New(env, fakeAlarms{}, s.ecs)
	ctx := context.Background()
	id := []*string{new(namespaceECS), new("service/prod/web"), new(dimensionDesired)}
	if _, err := s.svc.RegisterScalableTarget(ctx, &api.RegisterScalableTargetRequest{ServiceNamespace: id[0], ResourceId: id[1],
		ScalableDimension: id[2], MinCapacity: &minCap, MaxCapacity: &maxCap}); err != nil {
		t.Fatal(err)
	}
	in.PolicyName, in.ServiceNamespace, in.ResourceId, in.ScalableDimension = new("policy"), id[0], id[1], id[2]
	var err error
	if s.policy, err = s.svc.PutScalingPolicy(ctx, in); err != nil {
		t.Fatal(err)
	}
	return s
}

// fire runs the policy's action as CloudWatch does for alarm in ALARM
// with the newest datapoint metric.
func (s scaling) fire(t *testing.T, alarm string, metric, threshold float64) {
	t.Helper()
	reason := fmt.Sprintf("Threshold Crossed: 1 out of the last 1 datapoints [%g (07/12/26 01:00:00)] was greater than the threshold (%.1f) (minimum 1 datapoint for OK -> ALARM transition).", metric, threshold)
	change := AlarmChange{Account: overcast.DefaultAccountID, Region: overcast.DefaultRegion, AlarmName: alarm,
		Previous: "OK", State: "ALARM", Reason: reason, Time: s.clock.Now()}
	if err := s.svc.RunAlarmAction(context.Background(), *s.policy.PolicyARN, change); err != nil {
		t.Fatal(err)
	}
}

func (s scaling) activities(t *testing.T) []string {
	t.Helper()
	out, err := s.svc.DescribeScalingActivities(context.Background(), &api.DescribeScalingActivitiesRequest{
		ServiceNamespace: new(namespaceECS), IncludeNotScaledActivities: new(true)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range out.ScalingActivities {
		line := *a.Description
		for _, r := range a.NotScaledReasons {
			line += " " + *r.Code
		}
		got = append(got, line)
	}
	return got
}

func TestTargetTrackingScalesOutAndIn(t *testing.T) {
	s := startScaling(t, 1, 6, &api.PutScalingPolicyRequest{PolicyType: new(api.PolicyTypeTargetTrackingScaling),
		TargetTrackingScalingPolicyConfiguration: &api.TargetTrackingScalingPolicyConfiguration{TargetValue: new(50.0),
			PredefinedMetricSpecification: &api.PredefinedMetricSpecification{PredefinedMetricType: new(api.MetricTypeECSServiceAverageCPUUtilization)},
			ScaleInCooldown:               new(int32(60))}})
	high, low := *s.policy.Alarms[0].AlarmName, *s.policy.Alarms[1].AlarmName
	steps := []struct {
		name        string
		after       time.Duration
		alarm       string
		metric      float64
		wantDesired int32
	}{
		{"scale out in proportion: 2 at 100% of a 50% target", 0, high, 100, 4},
		{"in the scale-out cooldown the added capacity counts", time.Second, high, 100, 4},
		{"a larger scale-out proceeds within the cooldown, up to max", time.Second, high, 200, 6},
		{"at max", 301 * time.Second, high, 100, 6},
		{"scale in: 6 at 10% of a 50% target", time.Second, low, 10, 2},
		{"in the scale-in cooldown", 10 * time.Second, low, 10, 2},
		{"after the scale-in cooldown, down to min", 60 * time.Second, low, 10, 1},
		{"at min", 61 * time.Second, low, 10, 1},
	}
	for _, st := range steps {
		s.clock.Advance(st.after)
		s.fire(t, st.alarm, st.metric, 50)
		if s.ecs.desired != st.wantDesired {
			t.Errorf("%s: got desired count %d, want %d", st.name, s.ecs.desired, st.wantDesired)
		}
	}
	want := []string{
		"Attempting to scale due to alarm triggered AlreadyAtMinCapacity",
		"Setting desired count to 1.",
		"Setting desired count to 2.",
		"Attempting to scale due to alarm triggered AlreadyAtMaxCapacity",
		"Setting desired count to 6.",
		"Attempting to scale due to alarm triggered AlreadyAtDesiredCapacity",
		"Setting desired count to 4.",
	}
	if diff := cmp.Diff(want, s.activities(t)); diff != "" {
		t.Errorf("activities, newest first (-want +got):\n%s", diff)
	}

	// Pages of 3 hold the same activities.
	var paged []string
	var token *string
	for pages := 0; ; pages++ {
		out, err := s.svc.DescribeScalingActivities(context.Background(), &api.DescribeScalingActivitiesRequest{ServiceNamespace: new(namespaceECS),
			IncludeNotScaledActivities: new(true), MaxResults: new(int32(3)), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range out.ScalingActivities {
			paged = append(paged, *a.Description)
		}
		if token = out.NextToken; token == nil || pages > len(want) {
			break
		}
	}
	if len(paged) != len(want) {
		t.Errorf("got %d activities in pages of 3, want %d", len(paged), len(want))
	}
	if _, err := s.svc.DescribeScalingActivities(context.Background(), &api.DescribeScalingActivitiesRequest{ServiceNamespace: new(namespaceECS),
		NextToken: new("junk")}); !errors.As(err, new(*api.InvalidNextTokenException)) {
		t.Errorf("a junk token: got %v, want InvalidNextTokenException", err)
	}

	out, err := s.svc.DescribeScalingActivities(context.Background(), &api.DescribeScalingActivitiesRequest{ServiceNamespace: new(namespaceECS)})
	if err != nil {
		t.Fatal(err)
	}
	last := out.ScalingActivities[0]
	wantCause := "monitor alarm " + low + " in state ALARM triggered policy policy"
	if *last.Cause != wantCause || *last.StatusCode != "Successful" || *last.StatusMessage != "Successfully set desired count to 1. Change successfully fulfilled by ecs." {
		t.Errorf("got cause %q, status %s %q; want cause %q, Successful", *last.Cause, *last.StatusCode, *last.StatusMessage, wantCause)
	}
	if len(out.ScalingActivities) != 4 {
		t.Errorf("got %d activities without the not scaled ones, want 4", len(out.ScalingActivities))
	}
}

func TestTargetTrackingDisableScaleIn(t *testing.T) {
	s := startScaling(t, 1, 6, &api.PutScalingPolicyRequest{PolicyType: new(api.PolicyTypeTargetTrackingScaling),
		TargetTrackingScalingPolicyConfiguration: &api.TargetTrackingScalingPolicyConfiguration{TargetValue: new(50.0), DisableScaleIn: new(true),
			PredefinedMetricSpecification: &api.PredefinedMetricSpecification{PredefinedMetricType: new(api.MetricTypeECSServiceAverageMemoryUtilization)}}})
	if len(s.policy.Alarms) != 1 {
		t.Errorf("got %d alarms, want only the high one when scale-in is disabled", len(s.policy.Alarms))
	}
}

func TestStepScaling(t *testing.T) {
	s := startScaling(t, 1, 10, &api.PutScalingPolicyRequest{StepScalingPolicyConfiguration: &api.StepScalingPolicyConfiguration{
		AdjustmentType: new(api.AdjustmentTypeChangeInCapacity), Cooldown: new(int32(60)),
		StepAdjustments: api.StepAdjustments{
			{MetricIntervalUpperBound: new(0.0), ScalingAdjustment: new(int32(-1))},
			{MetricIntervalLowerBound: new(0.0), MetricIntervalUpperBound: new(20.0), ScalingAdjustment: new(int32(1))},
			{MetricIntervalLowerBound: new(20.0), ScalingAdjustment: new(int32(3))},
		}}})
	steps := []struct {
		name        string
		after       time.Duration
		metric      float64
		wantDesired int32
	}{
		{"small breach: +1", 0, 75, 3},
		{"large breach: +3 from 3", 61 * time.Second, 95, 6},
		{"below the threshold: -1", 61 * time.Second, 60, 5},
		{"in the cooldown", time.Second, 60, 5},
	}
	for _, st := range steps {
		s.clock.Advance(st.after)
		s.fire(t, "cpu-high", st.metric, 70)
		if s.ecs.desired != st.wantDesired {
			t.Errorf("%s: got desired count %d, want %d", st.name, s.ecs.desired, st.wantDesired)
		}
	}
}

func TestPercentChangeInCapacity(t *testing.T) {
	tests := []struct {
		capacity, adj, minMagnitude, want int32
	}{
		{10, 25, 0, 12},  // 2.5 rounds down
		{2, 25, 0, 3},    // 0.5 becomes 1
		{2, -25, 0, 1},   // -0.5 becomes -1
		{10, -25, 0, 8},  // -2.5 rounds up
		{10, 10, 3, 13},  // MinAdjustmentMagnitude floors the change
		{10, -10, 3, 7},  // either way
		{10, 100, 0, 20}, // doubling
	}
	for _, tt := range tests {
		c := &api.StepScalingPolicyConfiguration{AdjustmentType: new(api.AdjustmentTypePercentChangeInCapacity), MinAdjustmentMagnitude: &tt.minMagnitude}
		if got := adjust(c, tt.capacity, tt.adj); got != tt.want {
			t.Errorf("adjust(%d, %d%%, min %d) = %d, want %d", tt.capacity, tt.adj, tt.minMagnitude, got, tt.want)
		}
	}
}

func TestSuspendedScaleOut(t *testing.T) {
	s := startScaling(t, 1, 6, &api.PutScalingPolicyRequest{PolicyType: new(api.PolicyTypeTargetTrackingScaling),
		TargetTrackingScalingPolicyConfiguration: &api.TargetTrackingScalingPolicyConfiguration{TargetValue: new(50.0),
			PredefinedMetricSpecification: &api.PredefinedMetricSpecification{PredefinedMetricType: new(api.MetricTypeECSServiceAverageCPUUtilization)}}})
	if _, err := s.svc.RegisterScalableTarget(context.Background(), &api.RegisterScalableTargetRequest{ServiceNamespace: new(namespaceECS),
		ResourceId: new("service/prod/web"), ScalableDimension: new(dimensionDesired),
		SuspendedState: &api.SuspendedState{DynamicScalingOutSuspended: new(true)}}); err != nil {
		t.Fatal(err)
	}
	s.fire(t, *s.policy.Alarms[0].AlarmName, 100, 50)
	if s.ecs.desired != 2 {
		t.Errorf("got desired count %d with scale-out suspended, want 2", s.ecs.desired)
	}
	s.fire(t, *s.policy.Alarms[1].AlarmName, 10, 50)
	if s.ecs.desired != 1 {
		t.Errorf("got desired count %d after a scale-in, want 1: only scale-out is suspended", s.ecs.desired)
	}
}
