package logs

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"overcast"
	api "overcast/internal/api/logs"
)

// TestMetricFilterSeries checks what PutLogEvents leaves for CloudWatch
// metrics: per metric, dimensions and minute of the events' time, the
// statistics of the matched values, and the default value in minutes that
// had events but no match.
func TestMetricFilterSeries(t *testing.T) {
	ctx := context.Background()
	s, _, now := newService(t)
	minute := now.Now().Truncate(time.Minute)
	if err := s.CreateLogGroup(ctx, &api.CreateLogGroupRequest{LogGroupName: new("g")}); err != nil {
		t.Fatal(err)
	}
	filters := []*api.PutMetricFilterRequest{
		{FilterName: new("latency"), FilterPattern: new(`{ $.latency = * }`), MetricTransformations: api.MetricTransformations{{
			MetricNamespace: new("App"), MetricName: new("Latency"), MetricValue: new("$.latency"), Unit: new("Milliseconds"),
			Dimensions: api.Dimensions{"Level": "$.level"}}}},
		{FilterName: new("errors"), FilterPattern: new("ERROR"), MetricTransformations: api.MetricTransformations{{
			MetricNamespace: new("App"), MetricName: new("Errors"), MetricValue: new("1"), DefaultValue: new(0.0)}}},
		{FilterName: new("bytes"), FilterPattern: new("[ip, status, size]"), EmitSystemFieldDimensions: []string{"@aws.region"},
			MetricTransformations: api.MetricTransformations{{MetricNamespace: new("Web"), MetricName: new("Bytes"), MetricValue: new("$size")}}},
	}
	for _, f := range filters {
		f.LogGroupName = new("g")
		if err := s.PutMetricFilter(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	events := []Event{
		{Timestamp: minute.Add(1 * time.Second), Message: `{"level":"INFO","latency":20}`},
		{Timestamp: minute.Add(2 * time.Second), Message: `{"level":"INFO","latency":40}`},
		{Timestamp: minute.Add(3 * time.Second), Message: `{"level":"WARN","latency":900}`},
		{Timestamp: minute.Add(4 * time.Second), Message: `{"level":"INFO","latency":"slow"}`}, // not a number: no value
		{Timestamp: minute.Add(5 * time.Second), Message: `{"latency":7}`},                     // no dimension: no value
		{Timestamp: minute.Add(6 * time.Second), Message: "ERROR one"},
		{Timestamp: minute.Add(7 * time.Second), Message: "10.0.0.1 200 512"},
		{Timestamp: minute.Add(time.Minute + time.Second), Message: "ERROR two"},
		{Timestamp: minute.Add(time.Minute + 2*time.Second), Message: "ERROR three"},
		{Timestamp: minute.Add(2*time.Minute + time.Second), Message: "all quiet"},
	}
	appendEvents(t, s, "g", "s", events...)
	// Another write in the first minute adds to what it holds.
	more := []Event{{Timestamp: minute.Add(30 * time.Second), Message: `{"level":"INFO","latency":60}`}}
	appendEvents(t, s, "g", "s", more...)

	get := func(namespace, name string) []MetricDatum {
		t.Helper()
		got, err := s.MetricData(ctx, overcast.DefaultAccountID, overcast.DefaultRegion, namespace, name, minute, minute.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	at := func(m int) time.Time { return minute.Add(time.Duration(m) * time.Minute).UTC() }
	want := []MetricDatum{
		{Namespace: "App", MetricName: "Errors", Timestamp: at(0), SampleCount: 1, Sum: 1, Minimum: 1, Maximum: 1},
		{Namespace: "App", MetricName: "Errors", Timestamp: at(1), SampleCount: 2, Sum: 2, Minimum: 1, Maximum: 1},
		{Namespace: "App", MetricName: "Errors", Timestamp: at(2), SampleCount: 1, Sum: 0, Minimum: 0, Maximum: 0}, // the default
		{Namespace: "App", MetricName: "Latency", Dimensions: map[string]string{"Level": "INFO"}, Unit: "Milliseconds", Timestamp: at(0),
			SampleCount: 3, Sum: 120, Minimum: 20, Maximum: 60},
		{Namespace: "App", MetricName: "Latency", Dimensions: map[string]string{"Level": "WARN"}, Unit: "Milliseconds", Timestamp: at(0),
			SampleCount: 1, Sum: 900, Minimum: 900, Maximum: 900},
	}
	if diff := cmp.Diff(want, get("App", "")); diff != "" {
		t.Errorf("App metrics (-want +got):\n%s", diff)
	}
	wantBytes := []MetricDatum{{Namespace: "Web", MetricName: "Bytes", Dimensions: map[string]string{"@aws.region": overcast.DefaultRegion},
		Timestamp: at(0), SampleCount: 1, Sum: 512, Minimum: 512, Maximum: 512}}
	if diff := cmp.Diff(wantBytes, get("Web", "Bytes")); diff != "" {
		t.Errorf("Web metrics (-want +got):\n%s", diff)
	}
	if got := get("App", "Late"); len(got) != 0 {
		t.Errorf("a metric name is not a prefix: got %v", got)
	}
}
