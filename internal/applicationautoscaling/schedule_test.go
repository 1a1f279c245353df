package applicationautoscaling

import (
	"context"
	"testing"
	"time"

	"overcast"
	api "overcast/internal/api/applicationautoscaling"
	"overcast/internal/controller"
	"overcast/internal/service/servicetest"
)

func TestScheduleNext(t *testing.T) {
	// Sunday 1 March 2026, 12:00 UTC.
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	utc := func(month time.Month, day, hour, minute int) string {
		return time.Date(2026, month, day, hour, minute, 0, 0, time.UTC).Format(time.RFC3339)
	}
	tests := []struct {
		expr, timezone string
		start, end     time.Time
		want           string // RFC 3339 in UTC; "none" when it never runs again
	}{
		{expr: "at(2026-03-01T13:30:00)", want: utc(3, 1, 13, 30)},
		{expr: "at(2026-03-01T11:00:00)", want: "none"}, // in the past
		{expr: "at(2026-03-01T13:30:00)", timezone: "Europe/Paris", want: utc(3, 1, 12, 30)},
		{expr: "rate(5 minutes)", start: now.Add(-time.Minute), want: utc(3, 1, 12, 4)},
		{expr: "rate(1 hour)", start: now, want: utc(3, 1, 13, 0)},
		{expr: "rate(2 days)", start: now.Add(time.Hour), want: utc(3, 1, 13, 0)}, // the first run is at StartTime
		{expr: "rate(1 hour)", start: now, end: now.Add(30 * time.Minute), want: "none"},
		{expr: "cron(0 9 * * ? *)", want: utc(3, 2, 9, 0)},
		{expr: "cron(30 * * * ? *)", want: utc(3, 1, 12, 30)},
		{expr: "cron(0/15 * * * ? *)", want: utc(3, 1, 12, 15)},
		{expr: "cron(0 8 ? * MON-FRI *)", want: utc(3, 2, 8, 0)},
		{expr: "cron(0 8 ? * 7 *)", want: utc(3, 7, 8, 0)}, // 7 is Saturday
		{expr: "cron(0 8 ? * SAT,SUN *)", want: utc(3, 7, 8, 0)},
		{expr: "cron(0 8 ? * 2#3 *)", want: utc(3, 16, 8, 0)}, // the third Monday
		{expr: "cron(0 8 ? * 6L *)", want: utc(3, 27, 8, 0)},  // the last Friday
		{expr: "cron(0 0 L * ? *)", want: utc(3, 31, 0, 0)},
		{expr: "cron(0 0 15W * ? *)", want: utc(3, 16, 0, 0)}, // 15 March is a Sunday
		{expr: "cron(0 0 1 JUN ? 2026)", want: utc(6, 1, 0, 0)},
		{expr: "cron(0 0 1 1 ? 2025)", want: "none"},
		{expr: "cron(0 9 * * ?)", want: utc(3, 2, 9, 0)},     // the year may be left out
		{expr: "cron(0 0 9 * * ? *)", want: utc(3, 2, 9, 0)}, // seconds first
		{expr: "cron(0 9 * * ? *)", timezone: "America/New_York", want: utc(3, 1, 14, 0)},
		// New York moves to daylight saving time on 8 March 2026.
		{expr: "cron(0 9 * * ? *)", timezone: "America/New_York", start: time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC), want: utc(3, 8, 13, 0)},
		{expr: "cron(0 9 * * ? *)", start: now.Add(48 * time.Hour), want: utc(3, 4, 9, 0)},
	}
	for _, tt := range tests {
		a := scheduledAction{Schedule: tt.expr, Timezone: tt.timezone, Created: now}
		if !tt.start.IsZero() {
			a.Start = &tt.start
		}
		if !tt.end.IsZero() {
			a.End = &tt.end
		}
		sched, err := a.parsed()
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		got := "none"
		if next := a.nextRun(sched, now); !next.IsZero() {
			got = next.UTC().Format(time.RFC3339)
		}
		if got != tt.want {
			t.Errorf("%s in %q after %s: got %s, want %s", tt.expr, tt.timezone, now.Format(time.RFC3339), got, tt.want)
		}
	}
}

func TestScheduleInvalid(t *testing.T) {
	tests := []struct{ expr, timezone string }{
		{expr: "every day"},
		{expr: "at(2026-03-01 13:30)"},
		{expr: "rate(0 minutes)"},
		{expr: "rate(5 weeks)"},
		{expr: "rate(minutes)"},
		{expr: "cron(0 9 * * * *)"},   // neither day field is ?
		{expr: "cron(0 9 ? * ? *)"},   // both are
		{expr: "cron(60 9 * * ? *)"},  // minutes run to 59
		{expr: "cron(0 24 * * ? *)"},  // hours to 23
		{expr: "cron(0 9 32 * ? *)"},  // days to 31
		{expr: "cron(0 9 ? * 8 *)"},   // day of week 1-7
		{expr: "cron(0 9 ? * FOO *)"}, // or SUN-SAT
		{expr: "cron(0 9 * 13 ? *)"},
		{expr: "cron(0 9 * * ? 1969)"},
		{expr: "cron(0 9 * *)"},           // too few fields
		{expr: "cron(0 9 ? * 2#1,3#2 *)"}, // one # at most
		{expr: "cron(5-1 * * * ? *)"},
		{expr: "cron(*/0 * * * ? *)"},
		{expr: "cron(0 9 * * ? *)", timezone: "Mars/Olympus_Mons"},
	}
	for _, tt := range tests {
		a := scheduledAction{Schedule: tt.expr, Timezone: tt.timezone}
		if _, err := a.parsed(); err == nil {
			t.Errorf("%s in %q: got no error, want a ValidationException", tt.expr, tt.timezone)
		}
	}
}

// TestScheduledScalingSuspended: a due action on a target whose
// scheduled scaling is suspended does nothing, and a one-time one is
// spent all the same.
func TestScheduledScalingSuspended(t *testing.T) {
	env := servicetest.Env(t)
	fake := servicetest.Fake(env)
	ecs := &fakeECS{desired: 2}
	s := New(env, fakeAlarms{}, ecs)
	ctx := overcast.WithCaller(context.Background(), overcast.RootCaller(overcast.DefaultAccountID, overcast.DefaultRegion))
	id := []*string{new(namespaceECS), new("service/prod/web"), new(dimensionDesired)}
	if _, err := s.RegisterScalableTarget(ctx, &api.RegisterScalableTargetRequest{ServiceNamespace: id[0], ResourceId: id[1],
		ScalableDimension: id[2], MinCapacity: new(int32(1)), MaxCapacity: new(int32(4)),
		SuspendedState: &api.SuspendedState{ScheduledScalingSuspended: new(true)}}); err != nil {
		t.Fatal(err)
	}
	at := fake.Now().Add(time.Minute).UTC().Format("at(2006-01-02T15:04:05)")
	if _, err := s.PutScheduledAction(ctx, &api.PutScheduledActionRequest{ServiceNamespace: id[0], ResourceId: id[1], ScalableDimension: id[2],
		ScheduledActionName: new("up"), Schedule: &at, ScalableTargetAction: &api.ScalableTargetAction{MinCapacity: new(int32(3))}}); err != nil {
		t.Fatal(err)
	}
	fake.Advance(time.Minute)
	a := scheduledAction{targetID: targetID{namespaceECS, "service/prod/web", dimensionDesired}, Name: "up"}
	if res, err := s.reconcileScheduled(ctx, a.key(overcast.ScopeOf(ctx))); err != nil || res != (controller.Result{}) {
		t.Fatalf("got %+v, %v; want the action done", res, err)
	}
	if ecs.desired != 2 {
		t.Errorf("got desired count %d with scheduled scaling suspended, want 2", ecs.desired)
	}
	out, err := s.DescribeScalableTargets(ctx, &api.DescribeScalableTargetsRequest{ServiceNamespace: id[0]})
	if err != nil {
		t.Fatal(err)
	}
	if got := *out.ScalableTargets[0].MinCapacity; got != 1 {
		t.Errorf("got min capacity %d with scheduled scaling suspended, want 1", got)
	}
}
