package cloudwatch

import (
	"time"

	"overcast"
	api "overcast/internal/api/cloudwatch"
	"overcast/internal/store"
)

// Actions run on transitions only, except Auto Scaling actions (Application
// Auto Scaling and EC2 Auto Scaling policies): CloudWatch invokes those
// again every period the alarm stays in the state, so that a policy keeps
// scaling while the metric stays out of bounds.

// repeatsActions reports whether the action is one that repeats: a
// scaling policy, whose ARN is in the autoscaling service.
func repeatsActions(actionARN string) bool {
	arn, ok := overcast.ParseARN(actionARN)
	return ok && arn.Service == "autoscaling"
}

// repeat is the state change an evaluation that kept the alarm in ALARM
// hands the alarm's Auto Scaling actions: once per period since the alarm
// went into ALARM, with the evaluation's own datapoints; nil otherwise.
// Evaluations run on ticks of the evaluation interval, so a period has
// passed when the ticks since the transition reach a multiple of it. The
// tick is stored in tx, so that a second evaluation in it (a resync, a
// restart) does not run the actions again.
func (s *Service) repeat(tx store.Tx, sc scope, a *alarm, ver int64, ev evaluation, now time.Time) (*StateChange, error) {
	if !a.ActionsEnabled || a.State != api.StateValueALARM || ev.state != a.State {
		return nil, nil
	}
	iv, period := a.evaluationInterval(), time.Duration(a.Period)*time.Second
	tick := now.Truncate(iv)
	since := tick.Sub(a.StateTransitioned.Truncate(iv))
	if since <= 0 || since/period == (since-iv)/period || !a.ActionsRepeated.Before(tick) {
		return nil, nil
	}
	a.ActionsRepeated = tick
	if _, err := store.PutJSON(tx, alarmsTable, sc.Key(a.Name), a, ver); err != nil {
		return nil, err
	}
	return &StateChange{Account: sc.Account, Region: sc.Region, AlarmName: a.Name, AlarmARN: a.ARN,
		Previous: a.State, State: a.State, Reason: ev.reason, ReasonData: ev.reasonData, Time: now}, nil
}
