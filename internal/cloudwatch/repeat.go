package cloudwatch

import (
	"time"

	"overcast"
	api "overcast/internal/api/cloudwatch"
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
// passed when the ticks since the transition reach a multiple of it.
func (a *alarm) repeat(sc scope, ev evaluation, now time.Time) *StateChange {
	if !a.ActionsEnabled || a.State != api.StateValueALARM || ev.state != a.State {
		return nil
	}
	iv, period := a.evaluationInterval(), time.Duration(a.Period)*time.Second
	since := now.Truncate(iv).Sub(a.StateTransitioned.Truncate(iv))
	if since <= 0 || since/period == (since-iv)/period {
		return nil
	}
	return &StateChange{Account: sc.Account, Region: sc.Region, AlarmName: a.Name, AlarmARN: a.ARN,
		Previous: a.State, State: a.State, Reason: ev.reason, ReasonData: ev.reasonData, Time: now}
}
