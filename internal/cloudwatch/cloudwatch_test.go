package cloudwatch_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/bus"
	"overcast/internal/clock"
)

// t0 is on a minute boundary, so periods line up with the clock.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func start(t *testing.T) (*awstest.Server, *cloudwatch.Client, *clock.Fake) {
	t.Helper()
	return awstest.StartClient(t, t0, cloudwatch.NewFromConfig)
}

func dims(kv ...string) []types.Dimension {
	var out []types.Dimension
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, types.Dimension{Name: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}

func put(t *testing.T, c *cloudwatch.Client, at time.Time, values ...float64) {
	t.Helper()
	var data []types.MetricDatum
	for _, v := range values {
		data = append(data, types.MetricDatum{MetricName: aws.String("Latency"), Dimensions: dims("Service", "web"),
			Timestamp: aws.Time(at), Value: aws.Float64(v), Unit: types.StandardUnitMilliseconds})
	}
	awstest.Call(t, c.PutMetricData, &cloudwatch.PutMetricDataInput{Namespace: aws.String("App"), MetricData: data})
}

func TestPutAndGetStatistics(t *testing.T) {
	_, c, _ := start(t)
	put(t, c, t0.Add(-5*time.Minute), 10, 20, 30)
	put(t, c, t0.Add(-4*time.Minute), 40)
	awstest.Call(t, c.PutMetricData, &cloudwatch.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []types.MetricDatum{{
		MetricName: aws.String("Latency"), Dimensions: dims("Service", "web"), Timestamp: aws.Time(t0.Add(-3 * time.Minute)),
		Unit: types.StandardUnitMilliseconds, Values: []float64{1, 5}, Counts: []float64{3, 1},
	}}})

	out := awstest.Call(t, c.GetMetricStatistics, &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String("App"), MetricName: aws.String("Latency"), Dimensions: dims("Service", "web"),
		StartTime: aws.Time(t0.Add(-10 * time.Minute)), EndTime: aws.Time(t0), Period: aws.Int32(60),
		Statistics: []types.Statistic{types.StatisticAverage, types.StatisticSum, types.StatisticMinimum, types.StatisticMaximum, types.StatisticSampleCount},
	})
	type row struct {
		At                        time.Time
		Avg, Sum, Min, Max, Count float64
		Unit                      types.StandardUnit
	}
	var got []row
	for _, d := range out.Datapoints {
		got = append(got, row{*d.Timestamp, *d.Average, *d.Sum, *d.Minimum, *d.Maximum, *d.SampleCount, d.Unit})
	}
	want := []row{
		{t0.Add(-5 * time.Minute), 20, 60, 10, 30, 3, types.StandardUnitMilliseconds},
		{t0.Add(-4 * time.Minute), 40, 40, 40, 40, 1, types.StandardUnitMilliseconds},
		{t0.Add(-3 * time.Minute), 2, 8, 1, 5, 4, types.StandardUnitMilliseconds},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetMetricStatistics (-want +got):\n%s", diff)
	}

	p := awstest.Call(t, c.GetMetricStatistics, &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String("App"), MetricName: aws.String("Latency"), Dimensions: dims("Service", "web"),
		StartTime: aws.Time(t0.Add(-10 * time.Minute)), EndTime: aws.Time(t0), Period: aws.Int32(600),
		ExtendedStatistics: []string{"p50", "p99"},
	})
	if len(p.Datapoints) != 1 {
		t.Fatalf("got %d datapoints for one 10-minute period, want 1", len(p.Datapoints))
	}
	if diff := cmp.Diff(map[string]float64{"p50": 5, "p99": 40}, p.Datapoints[0].ExtendedStatistics); diff != "" {
		t.Errorf("percentiles (-want +got):\n%s", diff)
	}

	md := awstest.Call(t, c.GetMetricData, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(t0.Add(-10 * time.Minute)), EndTime: aws.Time(t0), MaxDatapoints: aws.Int32(2),
		MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("m1"), MetricStat: &types.MetricStat{
			Metric: &types.Metric{Namespace: aws.String("App"), MetricName: aws.String("Latency"), Dimensions: dims("Service", "web")},
			Period: aws.Int32(60), Stat: aws.String("Maximum")}}},
	})
	if diff := cmp.Diff([]float64{5, 40}, md.MetricDataResults[0].Values); diff != "" || md.NextToken == nil {
		t.Errorf("GetMetricData first page (-want +got):\n%s\nnext token %v", diff, md.NextToken)
	}
	md2 := awstest.Call(t, c.GetMetricData, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(t0.Add(-10 * time.Minute)), EndTime: aws.Time(t0), MaxDatapoints: aws.Int32(2), NextToken: md.NextToken,
		MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("m1"), MetricStat: &types.MetricStat{
			Metric: &types.Metric{Namespace: aws.String("App"), MetricName: aws.String("Latency"), Dimensions: dims("Service", "web")},
			Period: aws.Int32(60), Stat: aws.String("Maximum")}}},
	})
	if diff := cmp.Diff([]float64{30}, md2.MetricDataResults[0].Values); diff != "" || md2.NextToken != nil {
		t.Errorf("GetMetricData second page (-want +got):\n%s\nnext token %v", diff, md2.NextToken)
	}

	lm := awstest.Call(t, c.ListMetrics, &cloudwatch.ListMetricsInput{Namespace: aws.String("App"),
		Dimensions: []types.DimensionFilter{{Name: aws.String("Service")}}})
	if len(lm.Metrics) != 1 || aws.ToString(lm.Metrics[0].MetricName) != "Latency" {
		t.Errorf("ListMetrics: got %+v, want the one Latency metric", lm.Metrics)
	}
	none := awstest.Call(t, c.ListMetrics, &cloudwatch.ListMetricsInput{Dimensions: []types.DimensionFilter{{Name: aws.String("Service"), Value: aws.String("api")}}})
	if len(none.Metrics) != 0 {
		t.Errorf("ListMetrics with another dimension value: got %d metrics, want 0", len(none.Metrics))
	}
}

// events collects the alarm state changes published on the bus.
type events struct {
	mu  sync.Mutex
	got []bus.Event
}

func watchAlarms(t *testing.T, srv *awstest.Server) *events {
	t.Helper()
	e := &events{}
	_, err := srv.Main.Bus().Subscribe(context.Background(), "test-alarms", bus.Pattern{Source: "aws.cloudwatch"},
		func(_ context.Context, ev bus.Event) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.got = append(e.got, ev)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *events) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.got)
}

type stateDetail struct {
	AlarmName string `json:"alarmName"`
	State     struct {
		Value, Reason, ReasonData string
	} `json:"state"`
	PreviousState struct {
		Value string
	} `json:"previousState"`
	Configuration struct {
		Metrics []struct {
			MetricStat struct {
				Metric struct {
					Namespace, Name string
					Dimensions      map[string]string
				}
				Period int
				Stat   string
			}
		}
	} `json:"configuration"`
}

func alarmState(t *testing.T, c *cloudwatch.Client, name string) types.MetricAlarm {
	t.Helper()
	out := awstest.Call(t, c.DescribeAlarms, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
	if len(out.MetricAlarms) != 1 {
		t.Fatalf("DescribeAlarms %s: got %d alarms, want 1", name, len(out.MetricAlarms))
	}
	return out.MetricAlarms[0]
}

func waitState(t *testing.T, c *cloudwatch.Client, name string, want types.StateValue) types.MetricAlarm {
	t.Helper()
	var a types.MetricAlarm
	awstest.WaitFor(t, "alarm "+name+" in "+string(want), func() bool {
		a = alarmState(t, c, name)
		return a.StateValue == want
	})
	return a
}

func TestAlarmGoesToAlarmAndBackWithEvents(t *testing.T) {
	srv, c, fake := start(t)
	evs := watchAlarms(t, srv)
	awstest.Call(t, c.PutMetricAlarm, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("high-latency"), Namespace: aws.String("App"), MetricName: aws.String("Latency"),
		Dimensions: dims("Service", "web"), Statistic: types.StatisticAverage, Period: aws.Int32(60),
		EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(50), ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold,
		AlarmDescription: aws.String("p50 too slow"),
	})
	a := waitState(t, c, "high-latency", types.StateValueInsufficientData)
	if got := aws.ToString(a.AlarmArn); got != "arn:aws:cloudwatch:us-east-1:000000000000:alarm:high-latency" {
		t.Errorf("AlarmArn = %q", got)
	}

	put(t, c, t0.Add(10*time.Second), 99.5)
	fake.Advance(time.Minute)
	a = waitState(t, c, "high-latency", types.StateValueAlarm)
	wantReason := "Threshold Crossed: 1 out of the last 1 datapoints [99.5 (01/03/26 12:00:00)] was greater than the threshold (50.0) (minimum 1 datapoint for OK -> ALARM transition)."
	if got := aws.ToString(a.StateReason); got != wantReason {
		t.Errorf("StateReason:\n got %s\nwant %s", got, wantReason)
	}
	var data struct {
		Version          string    `json:"version"`
		Statistic        string    `json:"statistic"`
		Period           int       `json:"period"`
		RecentDatapoints []float64 `json:"recentDatapoints"`
		Threshold        float64   `json:"threshold"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(a.StateReasonData)), &data); err != nil {
		t.Fatalf("StateReasonData %q: %v", aws.ToString(a.StateReasonData), err)
	}
	if data.Version != "1.0" || data.Statistic != "Average" || data.Period != 60 || !cmp.Equal(data.RecentDatapoints, []float64{99.5}) || data.Threshold != 50 {
		t.Errorf("StateReasonData = %s", aws.ToString(a.StateReasonData))
	}
	if !strings.Contains(aws.ToString(a.StateReasonData), `"threshold":50.0`) {
		t.Errorf("StateReasonData writes the threshold as %s, want 50.0 as AWS does", aws.ToString(a.StateReasonData))
	}

	put(t, c, t0.Add(70*time.Second), 10)
	fake.Advance(time.Minute)
	a = waitState(t, c, "high-latency", types.StateValueOk)
	if got := aws.ToString(a.StateReason); !strings.Contains(got, "was not greater than the threshold (50.0) (minimum 1 datapoint for ALARM -> OK transition)") {
		t.Errorf("StateReason back to OK: %s", got)
	}

	// A new alarm starts in INSUFFICIENT_DATA, which its first evaluation
	// (no data yet) keeps: two transitions.
	awstest.WaitFor(t, "two state change events", func() bool { return evs.count() >= 2 })
	evs.mu.Lock()
	defer evs.mu.Unlock()
	var transitions []string
	for _, ev := range evs.got {
		if ev.Type != "CloudWatch Alarm State Change" || !cmp.Equal(ev.Resources, []string{aws.ToString(a.AlarmArn)}) {
			t.Errorf("event %s %v, want a CloudWatch Alarm State Change of the alarm", ev.Type, ev.Resources)
		}
		var d stateDetail
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			t.Fatal(err)
		}
		transitions = append(transitions, d.PreviousState.Value+"->"+d.State.Value)
		m := d.Configuration.Metrics[0].MetricStat
		if d.AlarmName != "high-latency" || m.Metric.Namespace != "App" || m.Metric.Name != "Latency" ||
			m.Metric.Dimensions["Service"] != "web" || m.Period != 60 || m.Stat != "Average" {
			t.Errorf("event detail %s", ev.Detail)
		}
	}
	want := []string{"INSUFFICIENT_DATA->ALARM", "ALARM->OK"}
	if diff := cmp.Diff(want, transitions[len(transitions)-2:]); diff != "" {
		t.Errorf("transitions (-want +got):\n%s", diff)
	}

	hist := awstest.Call(t, c.DescribeAlarmHistory, &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String("high-latency"),
		HistoryItemType: types.HistoryItemTypeStateUpdate})
	if len(hist.AlarmHistoryItems) < 2 || aws.ToString(hist.AlarmHistoryItems[0].HistorySummary) != "Alarm updated from ALARM to OK" {
		t.Errorf("DescribeAlarmHistory: got %d items, newest %q", len(hist.AlarmHistoryItems), aws.ToString(hist.AlarmHistoryItems[0].HistorySummary))
	}
}

// TestMissingDataTreatments runs one alarm per treatment over a range
// with no datapoint at all, and one with a single breaching point.
func TestMissingDataTreatments(t *testing.T) {
	_, c, fake := start(t)
	tests := []struct {
		treatment    string
		withPoint    bool
		want         types.StateValue
		wantInReason string
	}{
		{"missing", false, types.StateValueInsufficientData, "Unchecked: Initial alarm creation"},
		{"breaching", false, types.StateValueAlarm, "treated as [Breaching]"},
		{"notBreaching", false, types.StateValueOk, "treated as [NonBreaching]"},
		{"ignore", false, types.StateValueInsufficientData, "Unchecked: Initial alarm creation"},
		{"breaching", true, types.StateValueAlarm, "3 out of the last 3 datapoints [99.0"},
		{"notBreaching", true, types.StateValueOk, "2 out of the last 3 datapoints [99.0 (01/03/26 11:59:00)] were not greater than"},
	}
	for _, tt := range tests {
		name := tt.treatment
		if tt.withPoint {
			name += "-one-point"
			metric := "M" + name
			awstest.Call(t, c.PutMetricData, &cloudwatch.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []types.MetricDatum{{
				MetricName: aws.String(metric), Timestamp: aws.Time(t0.Add(-30 * time.Second)), Value: aws.Float64(99)}}})
		}
		awstest.Call(t, c.PutMetricAlarm, &cloudwatch.PutMetricAlarmInput{
			AlarmName: aws.String(name), Namespace: aws.String("App"), MetricName: aws.String("M" + name),
			Statistic: types.StatisticMaximum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(3),
			Threshold: aws.Float64(50), ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold, TreatMissingData: aws.String(tt.treatment),
		})
	}
	fake.Advance(time.Minute)
	for _, tt := range tests {
		name := tt.treatment
		if tt.withPoint {
			name += "-one-point"
		}
		t.Run(name, func(t *testing.T) {
			a := waitState(t, c, name, tt.want)
			if !strings.Contains(aws.ToString(a.StateReason), tt.wantInReason) {
				t.Errorf("StateReason %q, want it to contain %q", aws.ToString(a.StateReason), tt.wantInReason)
			}
		})
	}
}

func TestSetAlarmStateAndActions(t *testing.T) {
	_, c, _ := start(t)
	awstest.Call(t, c.PutMetricAlarm, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("manual"), Namespace: aws.String("App"), MetricName: aws.String("Errors"),
		Statistic: types.StatisticSum, Period: aws.Int32(300), EvaluationPeriods: aws.Int32(2), DatapointsToAlarm: aws.Int32(1),
		Threshold: aws.Float64(1), ComparisonOperator: types.ComparisonOperatorGreaterThanOrEqualToThreshold,
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}},
	})
	awstest.Call(t, c.SetAlarmState, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("manual"),
		StateValue: types.StateValueAlarm, StateReason: aws.String("testing")})
	a := alarmState(t, c, "manual")
	if a.StateValue != types.StateValueAlarm || aws.ToString(a.StateReason) != "testing" {
		t.Errorf("after SetAlarmState: %s %q", a.StateValue, aws.ToString(a.StateReason))
	}
	awstest.Call(t, c.DisableAlarmActions, &cloudwatch.DisableAlarmActionsInput{AlarmNames: []string{"manual"}})
	if a := alarmState(t, c, "manual"); aws.ToBool(a.ActionsEnabled) {
		t.Error("ActionsEnabled after DisableAlarmActions")
	}
	byState := awstest.Call(t, c.DescribeAlarms, &cloudwatch.DescribeAlarmsInput{StateValue: types.StateValueAlarm})
	if len(byState.MetricAlarms) != 1 {
		t.Errorf("DescribeAlarms StateValue=ALARM: got %d alarms, want 1", len(byState.MetricAlarms))
	}
	forMetric := awstest.Call(t, c.DescribeAlarmsForMetric, &cloudwatch.DescribeAlarmsForMetricInput{Namespace: aws.String("App"), MetricName: aws.String("Errors")})
	if len(forMetric.MetricAlarms) != 1 {
		t.Errorf("DescribeAlarmsForMetric: got %d alarms, want 1", len(forMetric.MetricAlarms))
	}
	tags := awstest.Call(t, c.ListTagsForResource, &cloudwatch.ListTagsForResourceInput{ResourceARN: a.AlarmArn})
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" {
		t.Errorf("ListTagsForResource: %+v", tags.Tags)
	}
	awstest.Call(t, c.UntagResource, &cloudwatch.UntagResourceInput{ResourceARN: a.AlarmArn, TagKeys: []string{"team"}})
	awstest.Call(t, c.TagResource, &cloudwatch.TagResourceInput{ResourceARN: a.AlarmArn, Tags: []types.Tag{{Key: aws.String("tier"), Value: aws.String("1")}}})
	tags = awstest.Call(t, c.ListTagsForResource, &cloudwatch.ListTagsForResourceInput{ResourceARN: a.AlarmArn})
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "tier" {
		t.Errorf("ListTagsForResource after untag and tag: %+v", tags.Tags)
	}
	_, err := c.ListTagsForResource(context.Background(), &cloudwatch.ListTagsForResourceInput{ResourceARN: aws.String("arn:aws:cloudwatch:us-east-1:000000000000:alarm:nope")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException"})
	awstest.Call(t, c.DeleteAlarms, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"manual"}})
	if out := awstest.Call(t, c.DescribeAlarms, &cloudwatch.DescribeAlarmsInput{}); len(out.MetricAlarms) != 0 {
		t.Errorf("DescribeAlarms after DeleteAlarms: %d alarms", len(out.MetricAlarms))
	}
}

func TestBadInput(t *testing.T) {
	_, c, _ := start(t)
	datum := func(d types.MetricDatum) *cloudwatch.PutMetricDataInput {
		if d.MetricName == nil {
			d.MetricName = aws.String("M")
		}
		return &cloudwatch.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []types.MetricDatum{d}}
	}
	stats := func(in cloudwatch.GetMetricStatisticsInput) *cloudwatch.GetMetricStatisticsInput {
		in.Namespace, in.MetricName = aws.String("App"), aws.String("M")
		if in.StartTime == nil {
			in.StartTime, in.EndTime = aws.Time(t0.Add(-time.Hour)), aws.Time(t0)
		}
		if in.Period == nil {
			in.Period = aws.Int32(60)
		}
		return &in
	}
	alarmIn := func(mod func(*cloudwatch.PutMetricAlarmInput)) *cloudwatch.PutMetricAlarmInput {
		in := &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("a"), Namespace: aws.String("App"), MetricName: aws.String("M"),
			Statistic: types.StatisticAverage, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
			ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold}
		mod(in)
		return in
	}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "reserved namespace", Call: awstest.Fails(c.PutMetricData, &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/EC2"),
			MetricData: []types.MetricDatum{{MetricName: aws.String("M"), Value: aws.Float64(1)}}}),
			Want: awstest.APIError{Code: "InvalidParameterValue", Status: 400, Message: "The value AWS/EC2 for parameter Namespace is invalid."}},
		{Name: "value and statistic values", Call: awstest.Fails(c.PutMetricData, datum(types.MetricDatum{Value: aws.Float64(1),
			StatisticValues: &types.StatisticSet{SampleCount: aws.Float64(1), Sum: aws.Float64(1), Minimum: aws.Float64(1), Maximum: aws.Float64(1)}})),
			Want: awstest.APIError{Code: "InvalidParameterCombination", Status: 400}},
		{Name: "no value", Call: awstest.Fails(c.PutMetricData, datum(types.MetricDatum{})),
			Want: awstest.APIError{Code: "MissingParameter", Status: 400}},
		{Name: "counts without values of the same size", Call: awstest.Fails(c.PutMetricData, datum(types.MetricDatum{Values: []float64{1, 2}, Counts: []float64{1}})),
			Want: awstest.APIError{Code: "InvalidParameterValue", Message: "must be of the same size"}},
		{Name: "storage resolution", Call: awstest.Fails(c.PutMetricData, datum(types.MetricDatum{Value: aws.Float64(1), StorageResolution: aws.Int32(5)})),
			Want: awstest.APIError{Code: "InvalidParameterValue"}},
		{Name: "no statistics", Call: awstest.Fails(c.GetMetricStatistics, stats(cloudwatch.GetMetricStatisticsInput{})),
			Want: awstest.APIError{Code: "MissingParameter", Status: 400}},
		{Name: "odd period", Call: awstest.Fails(c.GetMetricStatistics, stats(cloudwatch.GetMetricStatisticsInput{Period: aws.Int32(61), Statistics: []types.Statistic{types.StatisticSum}})),
			Want: awstest.APIError{Code: "InvalidParameterValue", Message: "multiple of 60"}},
		{Name: "start after end", Call: awstest.Fails(c.GetMetricStatistics, stats(cloudwatch.GetMetricStatisticsInput{StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(-time.Hour)), Statistics: []types.Statistic{types.StatisticSum}})),
			Want: awstest.APIError{Code: "InvalidParameterValue", Message: "StartTime must be less than"}},
		{Name: "too many datapoints", Call: awstest.Fails(c.GetMetricStatistics, stats(cloudwatch.GetMetricStatisticsInput{StartTime: aws.Time(t0.Add(-48 * time.Hour)), EndTime: aws.Time(t0), Statistics: []types.Statistic{types.StatisticSum}})),
			Want: awstest.APIError{Code: "InvalidParameterCombination", Message: "exceeds the limit of 1440"}},
		{Name: "bad enum", Call: awstest.Fails(c.SetAlarmState, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("a"), StateValue: "PANIC", StateReason: aws.String("x")}),
			Want: awstest.APIError{Code: "ValidationError", Status: 400}},
		{Name: "set state of unknown alarm", Call: awstest.Fails(c.SetAlarmState, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("nope"), StateValue: types.StateValueAlarm, StateReason: aws.String("x")}),
			Want: awstest.APIError{Code: "ResourceNotFound", Message: "Alarm nope does not exist."}},
		{Name: "delete unknown alarm", Call: awstest.Fails(c.DeleteAlarms, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"nope"}}),
			Want: awstest.APIError{Code: "ResourceNotFound"}},
		{Name: "alarm period", Call: awstest.Fails(c.PutMetricAlarm, alarmIn(func(in *cloudwatch.PutMetricAlarmInput) { in.Period = aws.Int32(45) })),
			Want: awstest.APIError{Code: "InvalidParameterValue", Message: "Period must be 10, 20, 30 or a multiple of 60"}},
		{Name: "datapoints to alarm over evaluation periods", Call: awstest.Fails(c.PutMetricAlarm, alarmIn(func(in *cloudwatch.PutMetricAlarmInput) { in.DatapointsToAlarm = aws.Int32(2) })),
			Want: awstest.APIError{Code: "InvalidParameterValue"}},
		{Name: "statistic and extended statistic", Call: awstest.Fails(c.PutMetricAlarm, alarmIn(func(in *cloudwatch.PutMetricAlarmInput) { in.ExtendedStatistic = aws.String("p90") })),
			Want: awstest.APIError{Code: "InvalidParameterCombination"}},
		{Name: "treat missing data", Call: awstest.Fails(c.PutMetricAlarm, alarmIn(func(in *cloudwatch.PutMetricAlarmInput) { in.TreatMissingData = aws.String("sometimes") })),
			Want: awstest.APIError{Code: "InvalidParameterValue"}},
	})
}
