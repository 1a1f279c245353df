package applicationautoscaling

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/applicationautoscaling"
	"overcast/internal/service"
	"overcast/internal/store"
)

// predefinedMetrics are the CloudWatch metrics of the predefined metric
// types for ECS services: AWS/ECS, averaged, per cluster and service.
var predefinedMetrics = map[string]string{
	api.MetricTypeECSServiceAverageCPUUtilization:    "CPUUtilization",
	api.MetricTypeECSServiceAverageMemoryUtilization: "MemoryUtilization",
}

// The alarms of a target tracking policy, as AWS sets them up: the high
// one fires after 3 one-minute datapoints above the target, the low one
// after 15 below 90% of it.
const (
	alarmPeriod      = 60
	highAlarmPeriods = 3
	lowAlarmPeriods  = 15
	lowAlarmFraction = 0.9
	highAlarmInfix   = "-AlarmHigh-"
	lowAlarmInfix    = "-AlarmLow-"
)

// trackingAlarmRefs names a target tracking policy's alarms: a high one,
// and a low one unless scale-in is disabled.
func trackingAlarmRefs(sc overcast.Scope, p *policy, uuid string) []alarmRef {
	infixes := []string{highAlarmInfix}
	if !service.Deref(p.TargetTracking.DisableScaleIn) {
		infixes = append(infixes, lowAlarmInfix)
	}
	var refs []alarmRef
	for _, infix := range infixes {
		name := "TargetTracking-" + p.ResourceID + infix + uuid
		refs = append(refs, alarmRef{Name: name, ARN: sc.ARN("cloudwatch", "alarm:"+name)})
	}
	return refs
}

// trackingAlarms are the alarms of a target tracking policy, to create.
func trackingAlarms(p *policy) []Alarm {
	tt := p.TargetTracking
	if tt == nil {
		return nil
	}
	base := Alarm{Description: "DO NOT EDIT OR DELETE. For TargetTrackingScaling policy " + p.ARN + ".",
		Period: alarmPeriod, Actions: []string{p.ARN}}
	if spec := tt.PredefinedMetricSpecification; spec != nil && *spec.PredefinedMetricType == api.MetricTypeALBRequestCountPerTarget {
		// The label is "app/<lb>/<id>/targetgroup/<tg>/<id>": the metric is
		// the target group's.
		label := *spec.ResourceLabel
		base.Namespace, base.MetricName, base.Statistic = "AWS/ApplicationELB", "RequestCountPerTarget", "Sum"
		base.Dimensions = []Dimension{{"TargetGroup", label[strings.Index(label, "targetgroup/"):]}}
	} else if spec != nil {
		cluster, service, _ := p.ecsService()
		base.Namespace, base.MetricName, base.Statistic = "AWS/ECS", predefinedMetrics[*spec.PredefinedMetricType], "Average"
		base.Dimensions = []Dimension{{"ClusterName", cluster}, {"ServiceName", service}}
	} else {
		spec := tt.CustomizedMetricSpecification
		base.Namespace, base.MetricName, base.Statistic, base.Unit = *spec.Namespace, *spec.MetricName, *spec.Statistic, service.Deref(spec.Unit)
		for _, d := range spec.Dimensions {
			base.Dimensions = append(base.Dimensions, Dimension{*d.Name, *d.Value})
		}
	}
	var alarms []Alarm
	for _, ref := range p.Alarms {
		a := base
		a.Name = ref.Name
		if strings.Contains(ref.Name, highAlarmInfix) {
			a.EvaluationPeriods, a.Threshold, a.ComparisonOperator = highAlarmPeriods, *tt.TargetValue, "GreaterThanThreshold"
		} else {
			a.EvaluationPeriods, a.Threshold, a.ComparisonOperator = lowAlarmPeriods, *tt.TargetValue*lowAlarmFraction, "LessThanThreshold"
		}
		alarms = append(alarms, a)
	}
	return alarms
}

// AlarmChange is a CloudWatch alarm's transition, as the policy it acts on
// sees it (the same fields as CloudWatch's StateChange, for the app to
// convert).
type AlarmChange struct {
	Account, Region string
	AlarmName       string
	AlarmARN        string
	Previous, State string // OK, ALARM or INSUFFICIENT_DATA
	Reason          string
	ReasonData      string // StateReasonData: JSON with the datapoints
	Time            time.Time
}

// RunAlarmAction runs the policy named by actionARN for an alarm in
// ALARM: it computes the new desired count, within the target's bounds
// and its cooldowns, sets it and records the scaling activity.
func (s *Service) RunAlarmAction(ctx context.Context, actionARN string, change AlarmChange) error {
	if change.State != "ALARM" {
		return nil
	}
	ctx = overcast.WithCaller(ctx, overcast.RootCaller(change.Account, change.Region))
	sc := overcast.ScopeOf(ctx)
	var p policy
	var t target
	err := s.Store.View(ctx, func(tx store.Tx) error {
		policies, err := store.FilterJSON(tx, policiesTable, store.ScanOptions{Prefix: sc.Prefix()}, func(p policy) bool { return p.ARN == actionARN })
		if err != nil || len(policies) == 0 {
			return err
		}
		p = policies[0]
		t, _, err = getTarget(tx, sc, p.targetID)
		return err
	})
	if err != nil || p.ARN == "" {
		return err // a policy deleted since: nothing to run
	}
	metric, ok := change.newestDatapoint()
	if !ok {
		return nil // no data: AWS does not scale either way
	}
	cluster, name, _ := p.ecsService()
	current, found, err := s.services.DesiredCount(ctx, cluster, name)
	if err != nil || !found {
		return err
	}
	d := decide(&p, &t, change, metric, current, s.Now())
	if d.skip {
		return nil
	}
	if d.desired != current {
		if err := s.services.SetDesiredCount(ctx, cluster, name, d.desired); err != nil {
			return err
		}
	}
	return s.record(ctx, &p, change, current, d)
}

// decision is what an alarm action does to a target.
type decision struct {
	skip     bool  // nothing to do or record: suspended, in cooldown, scale-in disabled
	desired  int32 // the new desired count
	out      bool  // a scale-out (else a scale-in)
	notScale string
}

// decide computes the new desired count of an alarm action.
func decide(p *policy, t *target, change AlarmChange, metric float64, current int32, now time.Time) decision {
	outCooldown, inCooldown := p.cooldowns()
	inOutCooldown := now.Before(t.ScaledOut.Add(outCooldown))
	// During a scale-out cooldown the metric still reflects the capacity
	// the last scale-out started from: only a larger scale-out proceeds.
	base := current
	if inOutCooldown {
		base = t.ScaledOutFrom
	}
	var want int32
	var out bool
	if tt := p.TargetTracking; tt != nil {
		out = strings.Contains(change.AlarmName, highAlarmInfix)
		if !out && service.Deref(tt.DisableScaleIn) {
			return decision{skip: true}
		}
		if !out {
			base = current
		}
		want = int32(math.Ceil(float64(base) * metric / *tt.TargetValue))
		if out {
			want = max(want, base+1)
		}
	} else {
		threshold, ok := change.threshold()
		if !ok {
			return decision{skip: true}
		}
		adj, ok := stepAdjustment(p.Step, metric-threshold)
		if !ok {
			return decision{skip: true}
		}
		want = adjust(p.Step, base, adj)
		out = want > base
		if !out {
			want = adjust(p.Step, current, adj)
		}
	}
	switch {
	case out && t.Suspended.Out, !out && t.Suspended.In:
		return decision{skip: true}
	case !out && (inOutCooldown || now.Before(t.ScaledIn.Add(inCooldown))):
		return decision{skip: true}
	}
	bounded := min(max(want, t.Min), t.Max)
	d := decision{desired: bounded, out: out}
	switch {
	case out && bounded <= current && current >= t.Max:
		d.notScale, d.desired = "AlreadyAtMaxCapacity", current
	case !out && bounded >= current && current <= t.Min:
		d.notScale, d.desired = "AlreadyAtMinCapacity", current
	case out && bounded <= current, !out && bounded >= current:
		d.notScale, d.desired = "AlreadyAtDesiredCapacity", current
	}
	return d
}

// stepAdjustment is the adjustment of the step whose interval holds
// breach, the metric's offset from the threshold: above it lower bounds
// are inclusive, below it upper bounds are.
func stepAdjustment(c *api.StepScalingPolicyConfiguration, breach float64) (int32, bool) {
	for _, st := range c.StepAdjustments {
		lower, upper := math.Inf(-1), math.Inf(1)
		if st.MetricIntervalLowerBound != nil {
			lower = *st.MetricIntervalLowerBound
		}
		if st.MetricIntervalUpperBound != nil {
			upper = *st.MetricIntervalUpperBound
		}
		if (breach >= 0 && lower <= breach && breach < upper) || (breach < 0 && lower < breach && breach <= upper) {
			return *st.ScalingAdjustment, true
		}
	}
	return 0, false
}

// adjust applies a step's adjustment to capacity.
func adjust(c *api.StepScalingPolicyConfiguration, capacity, adj int32) int32 {
	switch service.Deref(c.AdjustmentType) {
	case api.AdjustmentTypeExactCapacity:
		return adj
	case api.AdjustmentTypePercentChangeInCapacity:
		delta := float64(capacity) * float64(adj) / 100
		var n int32
		switch {
		case delta > 1 || delta < -1:
			n = int32(delta) // toward zero: down above 1, up below -1
		case delta > 0:
			n = 1
		case delta < 0:
			n = -1
		}
		if m := service.Deref(c.MinAdjustmentMagnitude); m > 0 && n != 0 && abs(n) < m {
			n = m * n / abs(n)
		}
		return capacity + n
	}
	return capacity + adj
}

func abs(n int32) int32 { return max(n, -n) }

var (
	// newestPoint is the first datapoint of a CloudWatch state reason,
	// "... datapoints [99.5 (01/03/26 12:00:00), ...] ...": the newest.
	newestPoint = regexp.MustCompile(`\[([^ \]]+) \(`)
	thresholdIn = regexp.MustCompile(`the threshold \(([^)]+)\)`)
)

func newestDatapoint(reason string) (float64, bool) { return parsedFloat(newestPoint, reason) }

func alarmThreshold(reason string) (float64, bool) { return parsedFloat(thresholdIn, reason) }

func parsedFloat(re *regexp.Regexp, s string) (float64, bool) {
	m := re.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	f, err := strconv.ParseFloat(m[1], 64)
	return f, err == nil
}

// activitiesTable holds scaling activities, keyed by scope, targetID
// and a time-ordered id.
const activitiesTable = "applicationautoscaling.activities"

// activity is the record of a scaling activity.
type activity struct {
	targetID
	ID            string            `json:"id"`
	Description   string            `json:"description"`
	Cause         string            `json:"cause"`
	StatusCode    string            `json:"statusCode"`
	StatusMessage string            `json:"statusMessage,omitempty"`
	Start         time.Time         `json:"start"`
	End           time.Time         `json:"end"`
	NotScaled     []notScaledReason `json:"notScaled,omitempty"`
}

type notScaledReason struct {
	Code              string `json:"code"`
	Min, Max, Current int32
}

func (a activity) toAPI() api.ScalingActivity {
	out := api.ScalingActivity{ActivityId: new(a.ID), ServiceNamespace: new(a.Namespace), ResourceId: new(a.ResourceID),
		ScalableDimension: new(a.Dimension), Description: new(a.Description), Cause: new(a.Cause),
		StartTime: new(a.Start), EndTime: new(a.End), StatusCode: new(a.StatusCode), StatusMessage: service.OmitZero(a.StatusMessage)}
	for _, r := range a.NotScaled {
		out.NotScaledReasons = append(out.NotScaledReasons, api.NotScaledReason{Code: new(r.Code),
			MinCapacity: new(r.Min), MaxCapacity: new(r.Max), CurrentCapacity: new(r.Current)})
	}
	return out
}

// record saves the activity of an alarm action and, for a scaling, the
// cooldown state of its target.
func (s *Service) record(ctx context.Context, p *policy, change AlarmChange, current int32, d decision) error {
	sc := overcast.ScopeOf(ctx)
	now := s.Now()
	a := activity{targetID: p.targetID, ID: s.IDs.UUID(), Start: now, End: now,
		Cause:       fmt.Sprintf("monitor alarm %s in state ALARM triggered policy %s", change.AlarmName, p.Name),
		Description: fmt.Sprintf("Setting desired count to %d.", d.desired), StatusCode: api.ScalingActivityStatusCodeSuccessful,
		StatusMessage: fmt.Sprintf("Successfully set desired count to %d. Change successfully fulfilled by ecs.", d.desired)}
	return store.UpdateRetry(ctx, s.Store, 3, func(tx store.Tx) error {
		t, ver, err := getTarget(tx, sc, p.targetID)
		if err != nil {
			return err
		}
		if d.notScale != "" {
			a.Description, a.StatusCode, a.StatusMessage = "Attempting to scale due to alarm triggered", api.ScalingActivityStatusCodeFailed, ""
			a.NotScaled = []notScaledReason{{Code: d.notScale, Min: t.Min, Max: t.Max, Current: current}}
		} else if d.out {
			t.ScaledOut, t.ScaledOutFrom, t.ScaledIn = now, current, time.Time{}
		} else {
			t.ScaledIn = now
		}
		if _, err := store.PutJSON(tx, targetsTable, p.targetID.key(sc), t, ver); err != nil {
			return err
		}
		if again, err := repeatsNotScaled(tx, sc, a); err != nil || again {
			return err
		}
		return putActivity(tx, sc, a)
	})
}

// DescribeScalingActivities lists the namespace's activities, newest
// first; the ones that did not scale only when asked for.
func (s *Service) DescribeScalingActivities(ctx context.Context, in *api.DescribeScalingActivitiesRequest) (*api.DescribeScalingActivitiesResponse, error) {
	q := query{namespace: in.ServiceNamespace, dimension: in.ScalableDimension, resourceIDs: listOf(in.ResourceId),
		max: service.Deref(in.MaxResults), limit: 50, token: in.NextToken, newestFirst: true}
	views, next, err := describe(ctx, s.Store, activitiesTable, q, func(a activity) bool {
		return len(a.NotScaled) == 0 || service.Deref(in.IncludeNotScaledActivities)
	}, activity.toAPI)
	if err != nil {
		return nil, err
	}
	return &api.DescribeScalingActivitiesResponse{ScalingActivities: views, NextToken: next}, nil
}
