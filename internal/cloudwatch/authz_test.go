package cloudwatch

import (
	"testing"

	api "overcast/internal/api/cloudwatch"
	"overcast/internal/authz/authztest"
)

func TestAuthzTable(t *testing.T) {
	const arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"
	authztest.Run(t, authzTable, []authztest.Case{
		{Op: "PutMetricAlarm", In: &api.PutMetricAlarmInput{AlarmName: new("cpu-high")}, Resources: []string{arn + "cpu-high"}},
		{Op: "DeleteAlarms", In: &api.DeleteAlarmsInput{AlarmNames: api.AlarmNames{"a", "b"}}, Resources: []string{arn + "a", arn + "b"}},
		{Op: "PutMetricData", In: &api.PutMetricDataInput{Namespace: new("App")}, Resources: []string{"*"},
			Context: map[string][]string{"cloudwatch:namespace": {"App"}}},
	})
}
