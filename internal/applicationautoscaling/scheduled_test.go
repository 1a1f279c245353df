package applicationautoscaling_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/clock"
)

func scheduledAction(name, schedule string, minCap, maxCap *int32) *aas.PutScheduledActionInput {
	return &aas.PutScheduledActionInput{ServiceNamespace: types.ServiceNamespaceEcs, ResourceId: aws.String(resourceID),
		ScalableDimension: dimension, ScheduledActionName: aws.String(name), Schedule: aws.String(schedule),
		ScalableTargetAction: &types.ScalableTargetAction{MinCapacity: minCap, MaxCapacity: maxCap}}
}

// activityLines are the target's activities, newest first, as
// "description | cause".
func activityLines(t *testing.T, c clients) []string {
	t.Helper()
	out := awstest.Call(t, c.aas.DescribeScalingActivities, &aas.DescribeScalingActivitiesInput{ServiceNamespace: types.ServiceNamespaceEcs,
		ResourceId: aws.String(resourceID)})
	var lines []string
	for _, a := range out.ScalingActivities {
		lines = append(lines, aws.ToString(a.Description)+" | "+aws.ToString(a.Cause))
	}
	return lines
}

// TestScheduledActionsScaleService drives a cron action and a one-time
// action with a fake clock: each sets the target's bounds and pushes the
// ECS service's desired count into them, across a restart.
func TestScheduledActionsScaleService(t *testing.T) {
	fake := clock.NewFake(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC))
	srv, c := startServer(t, awstest.Clock(fake))
	awstest.Call(t, c.aas.RegisterScalableTarget, register(1, 4))
	awstest.Call(t, c.aas.PutScheduledAction, scheduledAction("morning", "cron(0 9 * * ? *)", aws.Int32(3), aws.Int32(6)))
	awstest.Call(t, c.aas.PutScheduledAction, scheduledAction("once", "at(2026-03-01T10:00:00)", nil, aws.Int32(2)))

	fake.Advance(time.Hour) // 09:00
	awstest.WaitFor(t, "the morning action scaled the service out to 3", func() bool { return desiredCount(t, c) == 3 })
	want := []string{
		"Setting desired count to 3. | minimum capacity was set to 3",
		"Setting min capacity to 3 and max capacity to 6 | scheduled action name morning was triggered",
	}
	awstest.WaitFor(t, "the morning action's activities", func() bool { return len(activityLines(t, c)) == len(want) })
	if diff := cmp.Diff(want, activityLines(t, c)); diff != "" {
		t.Errorf("activities (-want +got):\n%s", diff)
	}
	targets := awstest.Call(t, c.aas.DescribeScalableTargets, &aas.DescribeScalableTargetsInput{ServiceNamespace: types.ServiceNamespaceEcs})
	if got := targets.ScalableTargets[0]; aws.ToInt32(got.MinCapacity) != 3 || aws.ToInt32(got.MaxCapacity) != 6 {
		t.Errorf("got bounds %d-%d, want 3-6", aws.ToInt32(got.MinCapacity), aws.ToInt32(got.MaxCapacity))
	}

	// The schedule is in the store: a restart picks it up.
	srv.Restart(t)
	c = connect(srv)
	fake.Advance(time.Hour) // 10:00
	awstest.WaitFor(t, "the one-time action scaled the service in to 2", func() bool { return desiredCount(t, c) == 2 })
	awstest.WaitFor(t, "the one-time action's activities", func() bool { return len(activityLines(t, c)) == 4 })
	want = append([]string{
		"Setting desired count to 2. | maximum capacity was set to 2",
		"Setting max capacity to 2 | scheduled action name once was triggered",
	}, want...)
	if diff := cmp.Diff(want, activityLines(t, c)); diff != "" {
		t.Errorf("activities (-want +got):\n%s", diff)
	}

	// The next morning the cron action runs again; the one-time action,
	// still listed, does not.
	fake.Advance(23 * time.Hour)
	awstest.WaitFor(t, "the morning action ran again", func() bool { return desiredCount(t, c) == 3 })
	fake.Advance(2 * time.Hour)
	actions := awstest.Call(t, c.aas.DescribeScheduledActions, &aas.DescribeScheduledActionsInput{ServiceNamespace: types.ServiceNamespaceEcs})
	if len(actions.ScheduledActions) != 2 {
		t.Errorf("got %d scheduled actions, want both, run or not", len(actions.ScheduledActions))
	}
	fake.Advance(22 * time.Hour) // the third morning: bounds set, the count already within them
	awstest.WaitFor(t, "the third morning's activity", func() bool { return len(activityLines(t, c)) == 7 })
	if got := strings.Count(strings.Join(activityLines(t, c), "\n"), "scheduled action name once"); got != 1 {
		t.Errorf("the one-time action ran %d times, want 1", got)
	}
}

func TestScheduledActionsAPI(t *testing.T) {
	c := start(t)
	awstest.Call(t, c.aas.RegisterScalableTarget, register(1, 4))
	start, end := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	summer := scheduledAction("summer", "cron(0 8 ? * MON-FRI *)", aws.Int32(2), nil)
	summer.Timezone, summer.StartTime, summer.EndTime = aws.String("Europe/Paris"), &start, &end
	awstest.Call(t, c.aas.PutScheduledAction, summer)
	awstest.Call(t, c.aas.PutScheduledAction, scheduledAction("night", "cron(0 22 * * ? *)", nil, aws.Int32(1)))
	awstest.Call(t, c.aas.PutScheduledAction, scheduledAction("launch", "at(2030-01-01T00:00:00)", aws.Int32(4), aws.Int32(4)))
	// An update changes what it names and keeps the rest.
	awstest.Call(t, c.aas.PutScheduledAction, &aas.PutScheduledActionInput{ServiceNamespace: types.ServiceNamespaceEcs,
		ResourceId: aws.String(resourceID), ScalableDimension: dimension, ScheduledActionName: aws.String("night"),
		Schedule: aws.String("cron(30 22 * * ? *)")})

	type view struct {
		Name, Schedule, Timezone string
		Min, Max                 *int32
		Start, End               *time.Time
		ARN                      bool
	}
	var got []view
	var token *string
	for {
		out := awstest.Call(t, c.aas.DescribeScheduledActions, &aas.DescribeScheduledActionsInput{ServiceNamespace: types.ServiceNamespaceEcs,
			MaxResults: aws.Int32(2), NextToken: token})
		for _, a := range out.ScheduledActions {
			got = append(got, view{aws.ToString(a.ScheduledActionName), aws.ToString(a.Schedule), aws.ToString(a.Timezone),
				a.ScalableTargetAction.MinCapacity, a.ScalableTargetAction.MaxCapacity, a.StartTime, a.EndTime,
				strings.HasPrefix(aws.ToString(a.ScheduledActionARN), "arn:aws:autoscaling:us-east-1:000000000000:scheduledAction:") &&
					strings.HasSuffix(aws.ToString(a.ScheduledActionARN), ":resource/ecs/service/prod/web:scheduledActionName/"+aws.ToString(a.ScheduledActionName))})
		}
		if token = out.NextToken; token == nil || len(got) > 3 {
			break
		}
	}
	want := []view{
		{"launch", "at(2030-01-01T00:00:00)", "", aws.Int32(4), aws.Int32(4), nil, nil, true},
		{"night", "cron(30 22 * * ? *)", "", nil, aws.Int32(1), nil, nil, true},
		{"summer", "cron(0 8 ? * MON-FRI *)", "Europe/Paris", aws.Int32(2), nil, &start, &end, true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("scheduled actions in pages of 2 (-want +got):\n%s", diff)
	}
	named := awstest.Call(t, c.aas.DescribeScheduledActions, &aas.DescribeScheduledActionsInput{ServiceNamespace: types.ServiceNamespaceEcs,
		ScheduledActionNames: []string{"night"}, ResourceId: aws.String(resourceID), ScalableDimension: dimension})
	if len(named.ScheduledActions) != 1 || aws.ToString(named.ScheduledActions[0].ScheduledActionName) != "night" {
		t.Errorf("got %+v for the name night, want that one action", named.ScheduledActions)
	}

	awstest.Call(t, c.aas.DeleteScheduledAction, &aas.DeleteScheduledActionInput{ServiceNamespace: types.ServiceNamespaceEcs,
		ResourceId: aws.String(resourceID), ScalableDimension: dimension, ScheduledActionName: aws.String("night")})
	// Deregistering the target deletes the rest.
	awstest.Call(t, c.aas.DeregisterScalableTarget, &aas.DeregisterScalableTargetInput{ServiceNamespace: types.ServiceNamespaceEcs,
		ResourceId: aws.String(resourceID), ScalableDimension: dimension})
	left := awstest.Call(t, c.aas.DescribeScheduledActions, &aas.DescribeScheduledActionsInput{ServiceNamespace: types.ServiceNamespaceEcs})
	if len(left.ScheduledActions) != 0 {
		t.Errorf("got %d scheduled actions after deregistering the target, want 0", len(left.ScheduledActions))
	}
}

func TestScheduledActionErrors(t *testing.T) {
	c := start(t)
	validation := func(msg string) awstest.APIError {
		return awstest.APIError{Code: "ValidationException", Status: 400, Message: msg}
	}
	notFound := func(msg string) awstest.APIError {
		return awstest.APIError{Code: "ObjectNotFoundException", Status: 400, Message: msg}
	}
	withTimezone := scheduledAction("tz", "cron(0 9 * * ? *)", aws.Int32(1), nil)
	withTimezone.Timezone = aws.String("Mars/Olympus_Mons")
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "unregistered target", Call: awstest.Fails(c.aas.PutScheduledAction, scheduledAction("a", "rate(5 minutes)", aws.Int32(1), nil)),
			Want: notFound("No scalable target registered for service namespace: ecs, resource ID: service/prod/web, scalable dimension: ecs:service:DesiredCount")},
		{Name: "no schedule", Call: func(ctx context.Context) error {
			awstest.Call(t, c.aas.RegisterScalableTarget, register(1, 4))
			in := scheduledAction("a", "", aws.Int32(1), nil)
			in.Schedule = nil
			_, err := c.aas.PutScheduledAction(ctx, in)
			return err
		}, Want: validation("Schedule is required")},
		{Name: "no capacity", Call: awstest.Fails(c.aas.PutScheduledAction, scheduledAction("a", "rate(5 minutes)", nil, nil)),
			Want: validation("At least one of minimum capacity and maximum capacity should be provided")},
		{Name: "min above max", Call: awstest.Fails(c.aas.PutScheduledAction, scheduledAction("a", "rate(5 minutes)", aws.Int32(3), aws.Int32(2))),
			Want: validation("Minimum capacity cannot be greater than maximum capacity")},
		{Name: "bad cron", Call: awstest.Fails(c.aas.PutScheduledAction, scheduledAction("a", "cron(0 9 * * * *)", aws.Int32(1), nil)),
			Want: validation("Invalid schedule expression. Details: Invalid CRON expression: one of day-of-month and day-of-week must be ?")},
		{Name: "bad rate", Call: awstest.Fails(c.aas.PutScheduledAction, scheduledAction("a", "rate(5 weeks)", aws.Int32(1), nil)),
			Want: validation("Invalid schedule expression. Details: a rate expression is rate(value unit)")},
		{Name: "unknown time zone", Call: awstest.Fails(c.aas.PutScheduledAction, withTimezone),
			Want: validation("Unrecognized timezone: Mars/Olympus_Mons")},
		{Name: "delete an unknown action", Call: awstest.Fails(c.aas.DeleteScheduledAction, &aas.DeleteScheduledActionInput{
			ServiceNamespace: types.ServiceNamespaceEcs, ResourceId: aws.String(resourceID), ScalableDimension: dimension,
			ScheduledActionName: aws.String("nope")}),
			Want: notFound("No scheduled action found for service namespace: ecs, resource ID: service/prod/web, scalable dimension: ecs:service:DesiredCount, scheduled action name: nope")},
	})
}
