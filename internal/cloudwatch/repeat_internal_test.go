package cloudwatch

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	api "overcast/internal/api/cloudwatch"
	"overcast/internal/service/servicetest"
	"overcast/internal/store"
)

func TestRepeatCadence(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ev := evaluation{state: api.StateValueALARM, reason: "Threshold Crossed", reasonData: "{}"}
	tests := []struct {
		name    string
		period  int32
		state   string
		enabled bool
		want    []int // the minutes after the transition that repeat, of the first ten
	}{
		{"one-minute periods: every evaluation", 60, api.StateValueALARM, true, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{"five-minute periods: every fifth", 300, api.StateValueALARM, true, []int{5, 10}},
		{"in OK: never", 60, api.StateValueOK, true, nil},
		{"actions disabled: never", 60, api.StateValueALARM, false, nil},
	}
	s := New(servicetest.Env(t), nil)
	for _, tt := range tests {
		a := alarm{Name: "cpu", Period: tt.period, State: tt.state, ActionsEnabled: tt.enabled,
			StateTransitioned: t0.Add(300 * time.Millisecond)} // a reconcile runs a little after its tick
		var got []int
		for m := 1; m <= 10; m++ {
			e := ev
			e.state = tt.state
			// Twice in the tick, as a resync may: the actions run once.
			for _, late := range []time.Duration{time.Millisecond, time.Second} {
				err := s.Store.Update(context.Background(), func(tx store.Tx) error {
					change, err := s.repeat(tx, scope{}, &a, store.AnyVersion, e, t0.Add(time.Duration(m)*time.Minute+late))
					if change != nil {
						got = append(got, m)
					}
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: repeats (-want +got):\n%s", tt.name, diff)
		}
	}
}

// TestAutoScalingActionsRepeat: while the alarm stays in ALARM its Auto
// Scaling action runs again every period with that period's datapoints;
// its other actions run on the transition only.
func TestAutoScalingActionsRepeat(t *testing.T) {
	const policy = "arn:aws:autoscaling:eu-west-1:123456789012:scalingPolicy:p:resource/ecs/service/prod/web:policyName/out"
	const topic = "arn:aws:sns:eu-west-1:123456789012:ops"
	a := startAlarmOnECS(t, []string{policy, topic}, nil)
	actions := a.actions
	for i, v := range []float64{90, 95, 99} {
		a.put(v)
		a.fake.Advance(time.Minute)
		want := 2 + i // the transition ran both actions
		servicetest.WaitFor(t, "the actions of the period", func() bool { return len(actions.list()) == want })
	}
	want := []string{"INSUFFICIENT_DATA->ALARM " + policy, "INSUFFICIENT_DATA->ALARM " + topic, "ALARM->ALARM " + policy, "ALARM->ALARM " + policy}
	if diff := cmp.Diff(want, actions.list()); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	actions.mu.Lock()
	last := actions.changes[len(actions.changes)-1]
	actions.mu.Unlock()
	var data struct {
		RecentDatapoints []float64 `json:"recentDatapoints"`
	}
	if err := json.Unmarshal([]byte(last.ReasonData), &data); err != nil || len(data.RecentDatapoints) == 0 ||
		data.RecentDatapoints[len(data.RecentDatapoints)-1] != 99 {
		t.Errorf("got the last repeat's StateReasonData %s, want its newest datapoint 99", last.ReasonData)
	}
}
