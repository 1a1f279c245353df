package cloudwatch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/cloudwatch"
	"overcast/internal/service"
	"overcast/internal/store"
)

// alarmsTable holds one record per metric alarm, keyed by scope and name.
const alarmsTable = "cloudwatch.alarms"

// alarm is the record of a metric alarm: its configuration and state.
type alarm struct {
	Name                    string      `json:"name"`
	ARN                     string      `json:"arn"`
	Description             string      `json:"description,omitempty"`
	ActionsEnabled          bool        `json:"actionsEnabled"`
	OKActions               []string    `json:"okActions,omitempty"`
	AlarmActions            []string    `json:"alarmActions,omitempty"`
	InsufficientDataActions []string    `json:"insufficientDataActions,omitempty"`
	Namespace               string      `json:"namespace"`
	MetricName              string      `json:"metricName"`
	Dimensions              []Dimension `json:"dimensions,omitempty"`
	Statistic               string      `json:"statistic,omitempty"`
	ExtendedStatistic       string      `json:"extendedStatistic,omitempty"`
	Period                  int32       `json:"period"`
	Unit                    string      `json:"unit,omitempty"`
	EvaluationPeriods       int32       `json:"evaluationPeriods"`
	DatapointsToAlarm       int32       `json:"datapointsToAlarm,omitempty"` // 0: EvaluationPeriods
	Threshold               float64     `json:"threshold"`
	ComparisonOperator      string      `json:"comparisonOperator"`
	TreatMissingData        string      `json:"treatMissingData,omitempty"`
	Updated                 time.Time   `json:"updated"`
	// MetricQueryID is the id the state change event gives the alarm's
	// metric in its configuration.
	MetricQueryID     string    `json:"metricQueryId"`
	State             string    `json:"state"`
	StateReason       string    `json:"stateReason"`
	StateReasonData   string    `json:"stateReasonData,omitempty"`
	StateUpdated      time.Time `json:"stateUpdated"`
	StateTransitioned time.Time `json:"stateTransitioned"`
	Tags              []tag     `json:"tags,omitempty"`
	// ActionsRepeated is the evaluation tick that last ran the Auto
	// Scaling actions again (see repeat).
	ActionsRepeated time.Time `json:"actionsRepeated,omitzero"`
}

type tag = service.Tag

// stat is the alarm's statistic, standard or extended.
func (a *alarm) stat() string {
	if a.ExtendedStatistic != "" {
		return a.ExtendedStatistic
	}
	return a.Statistic
}

// datapointsToAlarm is M of "M out of N".
func (a *alarm) datapointsToAlarm() int {
	if a.DatapointsToAlarm > 0 {
		return int(a.DatapointsToAlarm)
	}
	return int(a.EvaluationPeriods)
}

func (a *alarm) treatMissingData() string {
	if a.TreatMissingData == "" {
		return treatMissing
	}
	return a.TreatMissingData
}

// TreatMissingData values.
const (
	treatMissing      = "missing"
	treatIgnore       = "ignore"
	treatBreaching    = "breaching"
	treatNotBreaching = "notBreaching"
)

func getAlarm(tx store.Tx, sc scope, name string) (alarm, int64, error) {
	var a alarm
	ver, err := store.GetJSON(tx, alarmsTable, sc.Key(name), &a)
	if errors.Is(err, store.ErrNotFound) {
		return a, 0, api.NewResourceNotFound("Alarm %s does not exist.", name)
	}
	return a, ver, err
}

// checkAlarmInput is AWS's validation of PutMetricAlarm beyond the model.
func checkAlarmInput(in *api.PutMetricAlarmInput) error {
	if len(in.Metrics) > 0 {
		return api.NewInvalidParameterValueException("overcast evaluates alarms on a single metric: Metrics (metric math) is not supported.")
	}
	for _, p := range []struct {
		name string
		set  bool
	}{{"MetricName", in.MetricName != nil}, {"Namespace", in.Namespace != nil}, {"Period", in.Period != nil},
		{"EvaluationPeriods", in.EvaluationPeriods != nil}, {"ComparisonOperator", in.ComparisonOperator != nil}, {"Threshold", in.Threshold != nil}} {
		if !p.set {
			return api.NewMissingRequiredParameterException("The parameter %s is required.", p.name)
		}
	}
	if (in.Statistic == nil) == (in.ExtendedStatistic == nil) {
		return api.NewInvalidParameterCombinationException("Exactly one of Statistic and ExtendedStatistic must be specified.")
	}
	if in.ExtendedStatistic != nil {
		if _, ok := percentile(*in.ExtendedStatistic); !ok {
			return api.NewInvalidParameterValueException("The value %s for parameter ExtendedStatistic is not supported.", *in.ExtendedStatistic)
		}
	}
	period := *in.Period
	if !slices.Contains([]int32{10, 20, 30}, period) && (period < 60 || period%60 != 0) {
		return api.NewInvalidParameterValueException("Period must be 10, 20, 30 or a multiple of 60.")
	}
	limit := int32(86400)
	if period >= 3600 {
		limit = 604800
	}
	if int64(period)*int64(*in.EvaluationPeriods) > int64(limit) {
		return api.NewInvalidParameterValueException("The product of Period and EvaluationPeriods must not exceed %d seconds.", limit)
	}
	if in.DatapointsToAlarm != nil && *in.DatapointsToAlarm > *in.EvaluationPeriods {
		return api.NewInvalidParameterValueException("DatapointsToAlarm must be less than or equal to EvaluationPeriods.")
	}
	switch *in.ComparisonOperator {
	case api.ComparisonOperatorGreaterThanOrEqualToThreshold, api.ComparisonOperatorGreaterThanThreshold,
		api.ComparisonOperatorLessThanThreshold, api.ComparisonOperatorLessThanOrEqualToThreshold:
	default:
		return api.NewInvalidParameterValueException("The comparison operator %s needs an anomaly detection band, which overcast does not support.", *in.ComparisonOperator)
	}
	if t := in.TreatMissingData; t != nil && !slices.Contains([]string{treatMissing, treatIgnore, treatBreaching, treatNotBreaching}, *t) {
		return api.NewInvalidParameterValueException("The value %s for parameter TreatMissingData is invalid. Valid values are: breaching, notBreaching, ignore, missing.", *t)
	}
	return nil
}

// PutMetricAlarm creates an alarm, or replaces the configuration of one;
// a new alarm starts in INSUFFICIENT_DATA.
func (s *Service) PutMetricAlarm(ctx context.Context, in *api.PutMetricAlarmInput) error {
	if err := checkAlarmInput(in); err != nil {
		return err
	}
	sc := overcast.ScopeOf(ctx)
	now := s.Now()
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		old, ver, err := getAlarm(tx, sc, *in.AlarmName)
		exists := err == nil
		if err != nil && !isNotFound(err) {
			return err
		}
		a := alarm{
			Name: *in.AlarmName, ARN: alarmARN(sc, *in.AlarmName), Description: service.Deref(in.AlarmDescription),
			ActionsEnabled: in.ActionsEnabled == nil || *in.ActionsEnabled,
			OKActions:      in.OKActions, AlarmActions: in.AlarmActions, InsufficientDataActions: in.InsufficientDataActions,
			Namespace: *in.Namespace, MetricName: *in.MetricName, Dimensions: sortedDimensions(dimensionsOf(in.Dimensions)),
			Statistic: service.Deref(in.Statistic), ExtendedStatistic: service.Deref(in.ExtendedStatistic), Period: *in.Period, Unit: service.Deref(in.Unit),
			EvaluationPeriods: *in.EvaluationPeriods, DatapointsToAlarm: service.Deref(in.DatapointsToAlarm), Threshold: *in.Threshold,
			ComparisonOperator: *in.ComparisonOperator, TreatMissingData: service.Deref(in.TreatMissingData), Updated: now,
			MetricQueryID: s.IDs.UUID(),
			State:         api.StateValueINSUFFICIENTDATA, StateReason: "Unchecked: Initial alarm creation",
			StateUpdated: now, StateTransitioned: now,
		}
		a.Tags = withTags(a.Tags, in.Tags)
		summary := fmt.Sprintf("Alarm %q created", a.Name)
		if exists {
			// An update keeps the state (and the tags: PutMetricAlarm's
			// tags apply only to a new alarm).
			a.State, a.StateReason, a.StateReasonData = old.State, old.StateReason, old.StateReasonData
			a.StateUpdated, a.StateTransitioned, a.Tags, a.MetricQueryID = old.StateUpdated, old.StateTransitioned, old.Tags, old.MetricQueryID
			summary = fmt.Sprintf("Alarm %q updated", a.Name)
		} else {
			ver = 0
		}
		if _, err := store.PutJSON(tx, alarmsTable, sc.Key(a.Name), a, ver); err != nil {
			return err
		}
		return s.addHistory(tx, sc, a.Name, now, api.HistoryItemTypeConfigurationUpdate, summary, "{}")
	})
	if err != nil {
		return err
	}
	// The first evaluation comes on the alarm's cadence, as on AWS, not at
	// once: until then the alarm is "Unchecked".
	interval := (&alarm{Period: *in.Period}).evaluationInterval()
	s.alarms.EnqueueAfter(sc.Key(*in.AlarmName), now.Truncate(interval).Add(interval).Sub(now))
	return nil
}

func isNotFound(err error) bool {
	var nf *api.ResourceNotFound
	return errors.As(err, &nf)
}

// historyTable holds alarm history items, keyed by scope, alarm name
// and time.
const historyTable = "cloudwatch.history"

// historyItem is one entry of an alarm's history.
type historyItem struct {
	Alarm   string    `json:"alarm"`
	Time    time.Time `json:"time"`
	Type    string    `json:"type"`
	Summary string    `json:"summary"`
	Data    string    `json:"data"`
}

func (s *Service) addHistory(tx store.Tx, sc scope, name string, at time.Time, typ, summary, data string) error {
	key := sc.Key(name + "/" + fmt.Sprintf("%016x", at.UnixMilli()) + "/" + s.IDs.Hex(8))
	_, err := store.PutJSON(tx, historyTable, key, historyItem{Alarm: name, Time: at, Type: typ, Summary: summary, Data: data}, store.AnyVersion)
	return err
}

func (a *alarm) apiAlarm() api.MetricAlarm {
	return api.MetricAlarm{
		AlarmName: new(a.Name), AlarmArn: new(a.ARN), AlarmConfigurationUpdatedTimestamp: new(a.Updated),
		ActionsEnabled: new(a.ActionsEnabled), OKActions: orEmpty(a.OKActions), AlarmActions: orEmpty(a.AlarmActions),
		InsufficientDataActions: orEmpty(a.InsufficientDataActions),
		StateValue:              new(a.State), StateReason: new(a.StateReason), StateUpdatedTimestamp: new(a.StateUpdated),
		StateTransitionedTimestamp: new(a.StateTransitioned),
		MetricName:                 new(a.MetricName), Namespace: new(a.Namespace), Dimensions: apiDimensions(a.Dimensions),
		Period: new(a.Period), EvaluationPeriods: new(a.EvaluationPeriods), Threshold: new(a.Threshold),
		ComparisonOperator: new(a.ComparisonOperator),
		// Optional settings the alarm was not given are left out.
		AlarmDescription: service.OmitZero(a.Description), StateReasonData: service.OmitZero(a.StateReasonData),
		Statistic: service.OmitZero(a.Statistic), ExtendedStatistic: service.OmitZero(a.ExtendedStatistic),
		Unit: service.OmitZero(a.Unit), DatapointsToAlarm: service.OmitZero(a.DatapointsToAlarm),
		TreatMissingData: service.OmitZero(a.TreatMissingData),
	}
}

func orEmpty(s []string) api.ResourceList {
	if s == nil {
		return api.ResourceList{}
	}
	return s
}

// maxDescribedAlarms is DescribeAlarms' default and largest page.
const maxDescribedAlarms = 100

// DescribeAlarms lists metric alarms by name, prefix, state or action
// prefix, in name order.
func (s *Service) DescribeAlarms(ctx context.Context, in *api.DescribeAlarmsInput) (*api.DescribeAlarmsOutput, error) {
	if len(in.AlarmNames) > 0 && in.AlarmNamePrefix != nil {
		return nil, api.NewInvalidParameterCombinationException("AlarmNames and AlarmNamePrefix cannot be specified together.")
	}
	limit := maxDescribedAlarms
	if in.MaxRecords != nil {
		limit = int(*in.MaxRecords)
	}
	sc := overcast.ScopeOf(ctx)
	after := ""
	if in.NextToken != nil {
		after = sc.Key(*in.NextToken)
	}
	wantMetricAlarms := len(in.AlarmTypes) == 0 || slices.Contains(in.AlarmTypes, api.AlarmTypeMetricAlarm)
	out := &api.DescribeAlarmsOutput{MetricAlarms: api.MetricAlarms{}, CompositeAlarms: api.CompositeAlarms{}}
	if !wantMetricAlarms {
		return out, nil
	}
	err := s.Store.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, alarmsTable, store.ScanOptions{Prefix: sc.Prefix(), After: after}, func(key string, a alarm, _ int64) error {
			if !a.selectedBy(in) {
				return nil
			}
			if len(out.MetricAlarms) == limit {
				out.NextToken = new(*out.MetricAlarms[limit-1].AlarmName)
				return store.ErrStop
			}
			out.MetricAlarms = append(out.MetricAlarms, a.apiAlarm())
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (a *alarm) selectedBy(in *api.DescribeAlarmsInput) bool {
	if len(in.AlarmNames) > 0 && !slices.Contains(in.AlarmNames, a.Name) {
		return false
	}
	if in.AlarmNamePrefix != nil && !strings.HasPrefix(a.Name, *in.AlarmNamePrefix) {
		return false
	}
	if in.StateValue != nil && a.State != *in.StateValue {
		return false
	}
	if p := in.ActionPrefix; p != nil {
		all := slices.Concat(a.OKActions, a.AlarmActions, a.InsufficientDataActions)
		if !slices.ContainsFunc(all, func(act string) bool { return strings.HasPrefix(act, *p) }) {
			return false
		}
	}
	return true
}

// DescribeAlarmsForMetric lists the alarms on one metric.
func (s *Service) DescribeAlarmsForMetric(ctx context.Context, in *api.DescribeAlarmsForMetricInput) (*api.DescribeAlarmsForMetricOutput, error) {
	sc := overcast.ScopeOf(ctx)
	dims := sortedDimensions(dimensionsOf(in.Dimensions))
	out := &api.DescribeAlarmsForMetricOutput{MetricAlarms: api.MetricAlarms{}}
	err := s.Store.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, alarmsTable, store.ScanOptions{Prefix: sc.Prefix()}, func(_ string, a alarm, _ int64) error {
			if a.Namespace != *in.Namespace || a.MetricName != *in.MetricName || !slices.Equal(a.Dimensions, dims) ||
				(in.Statistic != nil && a.Statistic != *in.Statistic) || (in.ExtendedStatistic != nil && a.ExtendedStatistic != *in.ExtendedStatistic) ||
				(in.Period != nil && a.Period != *in.Period) || (in.Unit != nil && a.Unit != *in.Unit) {
				return nil
			}
			out.MetricAlarms = append(out.MetricAlarms, a.apiAlarm())
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteAlarms deletes alarms; AWS fails the call when any name is unknown.
func (s *Service) DeleteAlarms(ctx context.Context, in *api.DeleteAlarmsInput) error {
	sc := overcast.ScopeOf(ctx)
	return store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		for _, name := range in.AlarmNames {
			if _, _, err := getAlarm(tx, sc, name); err != nil {
				return err
			}
		}
		for _, name := range in.AlarmNames {
			if err := tx.Delete(alarmsTable, sc.Key(name), store.AnyVersion); err != nil {
				return err
			}
			if _, err := store.DeleteScanned(tx, historyTable, store.ScanOptions{Prefix: sc.Key(name + "/")}); err != nil {
				return err
			}
		}
		return nil
	})
}

// updateAlarms applies change to each named alarm; unknown names are
// skipped, as AWS's EnableAlarmActions and DisableAlarmActions do.
func (s *Service) updateAlarms(ctx context.Context, names []string, change func(a *alarm)) error {
	sc := overcast.ScopeOf(ctx)
	return store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		for _, name := range names {
			a, ver, err := getAlarm(tx, sc, name)
			if isNotFound(err) {
				continue
			}
			if err != nil {
				return err
			}
			change(&a)
			if _, err := store.PutJSON(tx, alarmsTable, sc.Key(name), a, ver); err != nil {
				return err
			}
		}
		return nil
	})
}

// EnableAlarmActions turns the alarms' actions on.
func (s *Service) EnableAlarmActions(ctx context.Context, in *api.EnableAlarmActionsInput) error {
	return s.updateAlarms(ctx, in.AlarmNames, func(a *alarm) { a.ActionsEnabled = true })
}

// DisableAlarmActions turns the alarms' actions off.
func (s *Service) DisableAlarmActions(ctx context.Context, in *api.DisableAlarmActionsInput) error {
	return s.updateAlarms(ctx, in.AlarmNames, func(a *alarm) { a.ActionsEnabled = false })
}

// SetAlarmState sets an alarm's state until its next evaluation, with the
// event and actions a real transition has.
func (s *Service) SetAlarmState(ctx context.Context, in *api.SetAlarmStateInput) error {
	if d := in.StateReasonData; d != nil && !jsonValid(*d) {
		return api.NewInvalidFormatFault("StateReasonData must be valid JSON.")
	}
	sc := overcast.ScopeOf(ctx)
	var change *StateChange
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		a, ver, err := getAlarm(tx, sc, *in.AlarmName)
		if err != nil {
			return err
		}
		change, err = s.transition(ctx, tx, sc, &a, ver, evaluation{state: *in.StateValue, reason: *in.StateReason, reasonData: service.Deref(in.StateReasonData)})
		return err
	})
	if err != nil {
		return err
	}
	s.Bus.Notify()
	s.runActions(ctx, sc, *in.AlarmName, change)
	return nil
}

// DescribeAlarmHistory lists an alarm's history (or every alarm's), newest
// first unless ScanBy says otherwise.
func (s *Service) DescribeAlarmHistory(ctx context.Context, in *api.DescribeAlarmHistoryInput) (*api.DescribeAlarmHistoryOutput, error) {
	sc := overcast.ScopeOf(ctx)
	prefix := sc.Prefix()
	if in.AlarmName != nil {
		prefix = sc.Key(*in.AlarmName + "/")
	}
	var items []historyItem
	err := s.Store.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, historyTable, store.ScanOptions{Prefix: prefix}, func(_ string, h historyItem, _ int64) error {
			if (in.HistoryItemType != nil && h.Type != *in.HistoryItemType) ||
				(in.StartDate != nil && h.Time.Before(*in.StartDate)) || (in.EndDate != nil && h.Time.After(*in.EndDate)) {
				return nil
			}
			items = append(items, h)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(items, func(x, y historyItem) int { return y.Time.Compare(x.Time) })
	if service.Deref(in.ScanBy) == api.ScanByTimestampAscending {
		slices.Reverse(items)
	}
	offset, limit := 0, maxDescribedAlarms
	if in.MaxRecords != nil {
		limit = int(*in.MaxRecords)
	}
	if in.NextToken != nil {
		if _, err := fmt.Sscanf(*in.NextToken, "%d", &offset); err != nil || offset < 0 || offset > len(items) {
			return nil, api.NewInvalidNextToken("The next token is invalid.")
		}
	}
	out := &api.DescribeAlarmHistoryOutput{AlarmHistoryItems: api.AlarmHistoryItems{}}
	for _, h := range items[offset:min(offset+limit, len(items))] {
		out.AlarmHistoryItems = append(out.AlarmHistoryItems, api.AlarmHistoryItem{AlarmName: new(h.Alarm), AlarmType: new(api.AlarmTypeMetricAlarm),
			Timestamp: new(h.Time), HistoryItemType: new(h.Type), HistorySummary: new(h.Summary), HistoryData: new(h.Data)})
	}
	if offset+limit < len(items) {
		out.NextToken = new(fmt.Sprint(offset + limit))
	}
	return out, nil
}

// Tags: only alarms are taggable here.

// withTags sets the tags of a request, each replacing any of its key.
func withTags(tags []tag, set api.TagList) []tag {
	for _, t := range set {
		tags = service.SetTag(tags, *t.Key, *t.Value)
	}
	return tags
}

func apiTags(tags []tag) api.TagList {
	return service.Map(tags, func(t tag) api.Tag { return api.Tag{Key: new(t.Key), Value: new(t.Value)} })
}

// taggedAlarm reads the alarm a tagging call's ARN names: only alarms
// are taggable here.
func taggedAlarm(tx store.Tx, sc scope, arn string) (alarm, int64, error) {
	notFound := &api.ResourceNotFoundException{ResourceType: new("Alarm"), ResourceId: new(arn)}
	name, ok := strings.CutPrefix(arn, alarmARN(sc, ""))
	if !ok {
		return alarm{}, 0, notFound
	}
	a, ver, err := getAlarm(tx, sc, name)
	if isNotFound(err) {
		return a, ver, notFound
	}
	return a, ver, err
}

func (s *Service) retag(ctx context.Context, arn string, change func([]tag) []tag) error {
	sc := overcast.ScopeOf(ctx)
	return store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		a, ver, err := taggedAlarm(tx, sc, arn)
		if err != nil {
			return err
		}
		a.Tags = change(a.Tags)
		_, err = store.PutJSON(tx, alarmsTable, sc.Key(a.Name), a, ver)
		return err
	})
}

// TagResource adds or replaces an alarm's tags.
func (s *Service) TagResource(ctx context.Context, in *api.TagResourceInput) (*api.TagResourceOutput, error) {
	err := s.retag(ctx, *in.ResourceARN, func(tags []tag) []tag { return withTags(tags, in.Tags) })
	if err != nil {
		return nil, err
	}
	return &api.TagResourceOutput{}, nil
}

// UntagResource removes tags by key.
func (s *Service) UntagResource(ctx context.Context, in *api.UntagResourceInput) (*api.UntagResourceOutput, error) {
	err := s.retag(ctx, *in.ResourceARN, func(tags []tag) []tag {
		return slices.DeleteFunc(slices.Clone(tags), func(t tag) bool { return slices.Contains(in.TagKeys, t.Key) })
	})
	if err != nil {
		return nil, err
	}
	return &api.UntagResourceOutput{}, nil
}

// ListTagsForResource lists an alarm's tags.
func (s *Service) ListTagsForResource(ctx context.Context, in *api.ListTagsForResourceInput) (*api.ListTagsForResourceOutput, error) {
	var a alarm
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		a, _, err = taggedAlarm(tx, overcast.ScopeOf(ctx), *in.ResourceARN)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.ListTagsForResourceOutput{Tags: apiTags(a.Tags)}, nil
}

// alarmARN is the ARN of the alarm name.
func alarmARN(sc scope, name string) string { return sc.ARN("cloudwatch", "alarm:"+name) }
