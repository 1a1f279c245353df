package applicationautoscaling

import (
	"encoding/json"
	"errors"
	"slices"

	"overcast"
	"overcast/internal/store"
)

// CloudWatch invokes a policy again every period its alarm stays in
// ALARM, with the period's datapoints: the policy keeps scaling while the
// metric stays out of bounds, and says once, not every minute, why it
// does not.

// reasonData is what a policy reads from an alarm's StateReasonData: the
// evaluated datapoints, oldest first, and the threshold.
type reasonData struct {
	RecentDatapoints []float64 `json:"recentDatapoints"`
	Threshold        *float64  `json:"threshold"`
}

func (c AlarmChange) data() reasonData {
	var d reasonData
	_ = json.Unmarshal([]byte(c.ReasonData), &d) // absent or not CloudWatch's: the reason text is read instead
	return d
}

// newestDatapoint is the metric value an alarm action scales by: the
// newest datapoint of StateReasonData, else of the state reason's text
// (a SetAlarmState without data).
func (c AlarmChange) newestDatapoint() (float64, bool) {
	if points := c.data().RecentDatapoints; len(points) > 0 {
		return points[len(points)-1], true
	}
	return newestDatapoint(c.Reason)
}

// threshold is the alarm's threshold, from StateReasonData or the text.
func (c AlarmChange) threshold() (float64, bool) {
	if t := c.data().Threshold; t != nil {
		return *t, true
	}
	return alarmThreshold(c.Reason)
}

// repeatsNotScaled reports whether a is a not-scaled activity saying
// again what the target's newest activity says.
func repeatsNotScaled(tx store.Tx, sc overcast.Scope, a activity) (bool, error) {
	if len(a.NotScaled) == 0 {
		return false, nil
	}
	same := false
	err := store.ScanJSON(tx, activitiesTable, store.ScanOptions{Prefix: a.targetID.key(sc), Reverse: true, Limit: 1},
		func(_ string, newest activity, _ int64) error {
			same = newest.Cause == a.Cause && slices.Equal(newest.NotScaled, a.NotScaled)
			return nil
		})
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return same, err
}
