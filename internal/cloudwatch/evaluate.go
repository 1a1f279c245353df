package cloudwatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	api "overcast/internal/api/cloudwatch"
	"overcast/internal/bus"
	"overcast/internal/controller"
	"overcast/internal/store"
)

// Alarm state change events, as EventBridge sees them.
const (
	EventSource          = "aws.cloudwatch"
	StateChangeEventType = "CloudWatch Alarm State Change"
)

// evaluation is the outcome of evaluating an alarm (or of SetAlarmState).
type evaluation struct {
	state      string // "" keeps the current state (TreatMissingData ignore)
	reason     string
	reasonData string
}

// slot is one period of the evaluation range: its statistic, or missing.
type slot struct {
	start   time.Time
	value   float64
	present bool
}

// evaluationRange is how many periods an evaluation reads: more than N,
// so that the newest N real datapoints can be found across gaps. AWS does
// not publish the size; its documented example reads 5 for N = 3.
func evaluationRange(n int) int { return n + 2 }

// breaches reports whether v is on the alarm side of the threshold.
func (a *alarm) breaches(v float64) bool {
	switch a.ComparisonOperator {
	case api.ComparisonOperatorGreaterThanOrEqualToThreshold:
		return v >= a.Threshold
	case api.ComparisonOperatorGreaterThanThreshold:
		return v > a.Threshold
	case api.ComparisonOperatorLessThanThreshold:
		return v < a.Threshold
	}
	return v <= a.Threshold
}

// operatorWords is the comparison as AWS's state reasons word it.
func (a *alarm) operatorWords() string {
	switch a.ComparisonOperator {
	case api.ComparisonOperatorGreaterThanOrEqualToThreshold:
		return "greater than or equal to"
	case api.ComparisonOperatorGreaterThanThreshold:
		return "greater than"
	case api.ComparisonOperatorLessThanThreshold:
		return "less than"
	}
	return "less than or equal to"
}

// slots reads the alarm's evaluation range ending at the last complete
// period before now, oldest first.
func (a *alarm) slots(tx store.Tx, sc scope, now time.Time) ([]slot, error) {
	period := time.Duration(a.Period) * time.Second
	end := now.Truncate(period)
	n := evaluationRange(int(a.EvaluationPeriods))
	start := end.Add(-time.Duration(n) * period)
	buckets, err := series(tx, sc, a.Namespace, a.MetricName, a.Dimensions, start, end, period, a.Unit)
	if err != nil {
		return nil, err
	}
	out := make([]slot, n)
	for i := range out {
		out[i].start = start.Add(time.Duration(i) * period)
	}
	for _, b := range buckets {
		i := int(b.Start.Sub(start) / period)
		if v, ok := b.stat(a.stat()); ok && i >= 0 && i < n {
			out[i].value, out[i].present = v, true
		}
	}
	return out, nil
}

// evaluate applies AWS's documented algorithm to the range (oldest first):
// the newest N periods when none is missing; else the newest N real
// datapoints when there are that many; else the real datapoints plus as
// few missing ones as needed, filled as TreatMissingData says.
func (a *alarm) evaluate(rng []slot, now time.Time) evaluation {
	n, m := int(a.EvaluationPeriods), a.datapointsToAlarm()
	var real []slot
	for _, s := range rng {
		if s.present {
			real = append(real, s)
		}
	}
	newest := rng[len(rng)-n:]
	complete := true
	for _, s := range newest {
		complete = complete && s.present
	}
	switch {
	case complete:
		return a.verdict(now, newest, 0, false, n, m)
	case len(real) >= n:
		return a.verdict(now, real[len(real)-n:], 0, false, n, m)
	case len(real) == 0:
		return a.noData(now, n)
	}
	filled := n - len(real)
	switch a.treatMissingData() {
	case treatBreaching:
		return a.verdict(now, real, filled, true, n, m)
	case treatNotBreaching:
		return a.verdict(now, real, filled, false, n, m)
	}
	breaching := 0
	for _, s := range real {
		if a.breaches(s.value) {
			breaching++
		}
	}
	if breaching == len(real) {
		// Every real point breaches, but too few to decide: ALARM only once
		// the oldest breaching point of the newest N is M periods old (the
		// premature-alarm guard); "ignore" keeps the state meanwhile.
		oldest := -1
		for i, s := range newest {
			if s.present {
				oldest = i
				break
			}
		}
		if oldest >= 0 && n-oldest >= m && a.treatMissingData() == treatMissing {
			return a.verdict(now, real, filled, true, n, m)
		}
		if a.treatMissingData() == treatIgnore {
			return evaluation{}
		}
	}
	return a.verdict(now, real, 0, false, n, m)
}

// verdict decides from real datapoints (oldest first) plus filled missing
// ones, breaching or not.
func (a *alarm) verdict(now time.Time, points []slot, filled int, filledBreach bool, n, m int) evaluation {
	breaching := 0
	if filledBreach {
		breaching = filled
	}
	for _, s := range points {
		if a.breaches(s.value) {
			breaching++
		}
	}
	state, not, k, transition := api.StateValueALARM, "", breaching, "OK -> ALARM"
	if breaching < m {
		state, not, k, transition = api.StateValueOK, "not ", len(points)+filled-breaching, "ALARM -> OK"
	}
	var shown []string
	for i := len(points) - 1; i >= 0; i-- {
		shown = append(shown, fmt.Sprintf("%s (%s)", javaDouble(points[i].value), points[i].start.UTC().Format("02/01/06 15:04:05")))
	}
	verb := "were"
	if k == 1 {
		verb = "was"
	}
	reason := fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints [%s] %s %s%s the threshold (%s) (minimum %s for %s transition).",
		k, n, strings.Join(shown, ", "), verb, not, a.operatorWords(), javaDouble(a.Threshold), plural(m, "datapoint"), transition)
	if len(points) == 0 {
		reason = fmt.Sprintf("Threshold Crossed: no datapoints were received for %s and %s %s treated as [%s].",
			plural(n, "period"), plural(n, "missing datapoint"), wasWere(n), map[bool]string{true: "Breaching", false: "NonBreaching"}[filledBreach])
	}
	return evaluation{state: state, reason: reason, reasonData: a.reasonData(points, now)}
}

// noData is the outcome of a range without a single datapoint.
func (a *alarm) noData(now time.Time, n int) evaluation {
	switch a.treatMissingData() {
	case treatIgnore:
		return evaluation{}
	case treatBreaching:
		return a.verdict(now, nil, n, true, n, a.datapointsToAlarm())
	case treatNotBreaching:
		return a.verdict(now, nil, n, false, n, a.datapointsToAlarm())
	}
	return evaluation{state: api.StateValueINSUFFICIENTDATA,
		reason:     fmt.Sprintf("Insufficient Data: %s %s unknown.", plural(n, "datapoint"), wasWere(n)),
		reasonData: a.reasonData(nil, now)}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func wasWere(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

// javaDouble writes a number as AWS's reasons do (Java's Double.toString
// for the usual magnitudes): always with a decimal point, "50.0".
func javaDouble(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".NI") {
		s += ".0"
	}
	return s
}

// jsonDouble is a float that marshals the way Java's JSON writers do.
type jsonDouble float64

func (d jsonDouble) MarshalJSON() ([]byte, error) { return []byte(javaDouble(float64(d))), nil }

// awsTime is the timestamp format of StateReasonData and events.
const awsTime = "2006-01-02T15:04:05.000-0700"

// reasonData is StateReasonData: the JSON AWS attaches to a threshold
// evaluation.
func (a *alarm) reasonData(points []slot, now time.Time) string {
	type evaluated struct {
		Timestamp   string     `json:"timestamp"`
		SampleCount jsonDouble `json:"sampleCount,omitempty"`
		Value       jsonDouble `json:"value"`
	}
	d := struct {
		Version             string       `json:"version"`
		QueryDate           string       `json:"queryDate"`
		StartDate           string       `json:"startDate,omitempty"`
		Statistic           string       `json:"statistic,omitempty"`
		ExtendedStatistic   string       `json:"extendedStatistic,omitempty"`
		Unit                string       `json:"unit,omitempty"`
		Period              int32        `json:"period"`
		RecentDatapoints    []jsonDouble `json:"recentDatapoints"`
		Threshold           jsonDouble   `json:"threshold"`
		EvaluatedDatapoints []evaluated  `json:"evaluatedDatapoints,omitempty"`
	}{Version: "1.0", Statistic: a.Statistic, ExtendedStatistic: a.ExtendedStatistic, Unit: a.Unit, Period: a.Period,
		RecentDatapoints: []jsonDouble{}, Threshold: jsonDouble(a.Threshold)}
	for i, p := range points {
		if i == 0 {
			d.StartDate = p.start.UTC().Format(awsTime)
		}
		d.RecentDatapoints = append(d.RecentDatapoints, jsonDouble(p.value))
	}
	for i := len(points) - 1; i >= 0; i-- {
		d.EvaluatedDatapoints = append(d.EvaluatedDatapoints, evaluated{Timestamp: points[i].start.UTC().Format(awsTime), Value: jsonDouble(points[i].value)})
	}
	d.QueryDate = now.UTC().Format(awsTime)
	b, _ := json.Marshal(d)
	return string(b)
}

func jsonValid(s string) bool { return json.Valid([]byte(s)) }

// evaluationInterval is how often an alarm is evaluated: every minute, and
// every 10 seconds for high-resolution periods.
func (a *alarm) evaluationInterval() time.Duration {
	if a.Period < 60 {
		return 10 * time.Second
	}
	return time.Minute
}

// reconcileAlarm evaluates one alarm and schedules its next evaluation.
func (s *Service) reconcileAlarm(ctx context.Context, key string) (controller.Result, error) {
	account, rest, _ := strings.Cut(key, "/")
	region, name, _ := strings.Cut(rest, "/")
	sc := scope{Account: account, Region: region}
	now := s.Now()
	var change *StateChange
	var next time.Time
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		change = nil
		a, ver, err := getAlarm(tx, sc, name)
		if err != nil {
			return err
		}
		iv := a.evaluationInterval()
		next = now.Truncate(iv).Add(iv)
		// A state set since the last tick (a new alarm, SetAlarmState)
		// holds until the next one: a resync or a restart waking the
		// alarm early does not evaluate it.
		if due := a.StateUpdated.Truncate(iv).Add(iv); now.Before(due) {
			next = due
			return nil
		}
		rng, err := a.slots(tx, sc, now)
		if err != nil {
			return err
		}
		ev := a.evaluate(rng, now)
		if ev.state == "" {
			return nil
		}
		change, err = s.transition(ctx, tx, sc, &a, ver, ev)
		if err == nil && change == nil {
			change, err = s.repeat(tx, sc, &a, ver, ev, now)
		}
		return err
	})
	if isNotFound(err) {
		return controller.Result{}, nil // deleted
	}
	if err != nil {
		return controller.Result{}, err
	}
	s.Bus.Notify()
	s.runActions(ctx, sc, name, change)
	return controller.At(next), nil
}

// transition moves the alarm to ev's state when it differs from the
// current one, with its history item and state change event, in tx; it
// returns the change, or nil when the state stayed.
func (s *Service) transition(ctx context.Context, tx store.Tx, sc scope, a *alarm, ver int64, ev evaluation) (*StateChange, error) {
	if ev.state == a.State {
		return nil, nil
	}
	now := s.Now()
	prev := *a
	a.State, a.StateReason, a.StateReasonData, a.StateUpdated, a.StateTransitioned = ev.state, ev.reason, ev.reasonData, now, now
	if _, err := store.PutJSON(tx, alarmsTable, sc.Key(a.Name), a, ver); err != nil {
		return nil, err
	}
	history, _ := json.Marshal(map[string]any{"version": "1.0", "oldState": stateJSON(&prev), "newState": stateJSON(a)})
	summary := fmt.Sprintf("Alarm updated from %s to %s", prev.State, a.State)
	if err := s.addHistory(tx, sc, a.Name, now, api.HistoryItemTypeStateUpdate, summary, string(history)); err != nil {
		return nil, err
	}
	if err := s.Bus.Publish(ctx, tx, stateChangeEvent(sc, &prev, a, now)); err != nil {
		return nil, err
	}
	if !a.ActionsEnabled {
		return nil, nil
	}
	return &StateChange{Account: sc.Account, Region: sc.Region, AlarmName: a.Name, AlarmARN: a.ARN,
		Previous: prev.State, State: a.State, Reason: a.StateReason, ReasonData: a.StateReasonData, Time: now}, nil
}

func stateJSON(a *alarm) map[string]any {
	m := map[string]any{"stateValue": a.State, "stateReason": a.StateReason}
	if a.StateReasonData != "" {
		m["stateReasonData"] = json.RawMessage(a.StateReasonData)
	}
	return m
}

// stateChangeEvent is "CloudWatch Alarm State Change" with AWS's detail.
func stateChangeEvent(sc scope, prev, a *alarm, now time.Time) bus.Event {
	state := func(x *alarm) map[string]any {
		m := map[string]any{"value": x.State, "reason": x.StateReason, "timestamp": x.StateUpdated.UTC().Format(awsTime)}
		if x.StateReasonData != "" {
			m["reasonData"] = x.StateReasonData
		}
		return m
	}
	dims := map[string]string{}
	for _, d := range a.Dimensions {
		dims[d.Name] = d.Value
	}
	config := map[string]any{
		"metrics": []any{map[string]any{
			"id": a.MetricQueryID,
			"metricStat": map[string]any{
				"metric": map[string]any{"namespace": a.Namespace, "name": a.MetricName, "dimensions": dims},
				"period": a.Period, "stat": a.stat(),
			},
			"returnData": true,
		}},
	}
	if a.Description != "" {
		config["description"] = a.Description
	}
	detail, _ := json.Marshal(map[string]any{
		"alarmName": a.Name, "state": state(a), "previousState": state(prev), "configuration": config,
	})
	return bus.Event{Source: EventSource, Type: StateChangeEventType, Time: now, Account: sc.Account, Region: sc.Region,
		Resources: []string{a.ARN}, Detail: detail}
}

// runActions calls the actions of the state the alarm moved to (only the
// Auto Scaling ones when it stayed); a failing action is logged, as AWS
// records it in the history and moves on.
func (s *Service) runActions(ctx context.Context, sc scope, name string, change *StateChange) {
	if change == nil || s.actions == nil {
		return
	}
	var a alarm
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		a, _, err = getAlarm(tx, sc, name)
		return err
	})
	if err != nil {
		return
	}
	actions := map[string][]string{api.StateValueOK: a.OKActions, api.StateValueALARM: a.AlarmActions,
		api.StateValueINSUFFICIENTDATA: a.InsufficientDataActions}[change.State]
	for _, arn := range actions {
		if change.Previous == change.State && !repeatsActions(arn) {
			continue
		}
		if err := s.actions.RunAlarmAction(ctx, arn, *change); err != nil && !errors.Is(err, context.Canceled) {
			s.Logger.Warn("alarm action failed", "alarm", name, "action", arn, "err", err)
		}
	}
}
