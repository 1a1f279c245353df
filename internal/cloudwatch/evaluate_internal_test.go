package cloudwatch

import (
	"strings"
	"testing"
	"time"

	api "overcast/internal/api/cloudwatch"
)

// rangeOf reads a row of AWS's documentation, oldest first: "0" is a
// datapoint under the threshold, "X" one over it, "-" a missing period.
func rangeOf(row string) []slot {
	var out []slot
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, f := range strings.Fields(row) {
		s := slot{start: start.Add(time.Duration(i) * time.Minute)}
		switch f {
		case "0":
			s.value, s.present = 0, true
		case "X":
			s.value, s.present = 100, true
		}
		out = append(out, s)
	}
	return out
}

// TestEvaluateDocumentedRows runs the worked rows of AWS's "Configuring how
// CloudWatch alarms treat missing data" (N = 3, range 5), each under the
// four treatments: missing, ignore, breaching, notBreaching. "" means the
// state stays as it is.
func TestEvaluateDocumentedRows(t *testing.T) {
	const (
		ok   = api.StateValueOK
		al   = api.StateValueALARM
		insu = api.StateValueINSUFFICIENTDATA
	)
	tests := []struct {
		row  string
		m    int32
		want [4]string
	}{
		{"0 - X - X", 3, [4]string{ok, ok, ok, ok}},
		{"0 - - - -", 3, [4]string{ok, ok, ok, ok}},
		{"- - - - -", 3, [4]string{insu, "", al, ok}},
		{"0 X X - X", 3, [4]string{al, al, al, al}},
		{"- - X - -", 3, [4]string{al, "", al, ok}},
		{"0 - X - -", 2, [4]string{ok, ok, al, ok}},
		// The premature-alarm guard: one breaching point too recent to
		// span M periods does not alarm.
		{"- - - - X", 3, [4]string{ok, "", al, ok}},
	}
	for _, tt := range tests {
		for i, treatment := range []string{treatMissing, treatIgnore, treatBreaching, treatNotBreaching} {
			a := &alarm{Period: 60, EvaluationPeriods: 3, DatapointsToAlarm: tt.m, Threshold: 50,
				ComparisonOperator: api.ComparisonOperatorGreaterThanThreshold, TreatMissingData: treatment, Statistic: "Average"}
			got := a.evaluate(rangeOf(tt.row), time.Time{}).state
			if got != tt.want[i] {
				t.Errorf("%q M=%d %s: got %q, want %q", tt.row, tt.m, treatment, got, tt.want[i])
			}
		}
	}
}

func TestStateReasonWording(t *testing.T) {
	a := &alarm{Period: 300, EvaluationPeriods: 3, DatapointsToAlarm: 2, Threshold: 70,
		ComparisonOperator: api.ComparisonOperatorGreaterThanOrEqualToThreshold, Statistic: "Average"}
	rng := rangeOf("- - 0 X X")
	rng[3].value, rng[4].value = 71.25, 80
	ev := a.evaluate(rng, time.Date(2026, 3, 1, 12, 5, 0, 0, time.UTC))
	want := "Threshold Crossed: 2 out of the last 3 datapoints [80.0 (01/03/26 12:04:00), 71.25 (01/03/26 12:03:00), 0.0 (01/03/26 12:02:00)] " +
		"were greater than or equal to the threshold (70.0) (minimum 2 datapoints for OK -> ALARM transition)."
	if ev.state != api.StateValueALARM || ev.reason != want {
		t.Errorf("got %s %q\nwant ALARM %q", ev.state, ev.reason, want)
	}
	if !strings.Contains(ev.reasonData, `"recentDatapoints":[0.0,71.25,80.0]`) || !strings.Contains(ev.reasonData, `"queryDate":"2026-03-01T12:05:00.000+0000"`) {
		t.Errorf("StateReasonData %s", ev.reasonData)
	}
}
