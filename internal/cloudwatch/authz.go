package cloudwatch

import (
	"overcast/internal/authz"
)

// authzTable is how IAM authorizes CloudWatch's operations (the Service
// Authorization Reference's "Amazon CloudWatch"): alarms' on the alarms
// they name; metrics are no resource of IAM's, and their operations need
// "*" (PutMetricData with the cloudwatch:namespace it writes).
var authzTable = &authz.Table{Prefix: "cloudwatch", Rules: map[string]authz.Rule{
	"PutMetricAlarm":       {Resources: authz.Ref("AlarmName", alarmNamed)},
	"SetAlarmState":        {Resources: authz.Ref("AlarmName", alarmNamed)},
	"DescribeAlarmHistory": {Resources: authz.Ref("AlarmName", alarmNamed)},
	"DeleteAlarms":         {Resources: authz.Ref("AlarmNames", alarmNamed)},
	"DisableAlarmActions":  {Resources: authz.Ref("AlarmNames", alarmNamed)},
	"EnableAlarmActions":   {Resources: authz.Ref("AlarmNames", alarmNamed)},
	"DescribeAlarms":       {Resources: authz.Ref("AlarmNames", alarmNamed)},
	"PutMetricData": {Context: func(_ authz.Scope, in any) map[string][]string {
		return map[string][]string{"cloudwatch:namespace": {authz.Field(in, "Namespace")}}
	}},
	"TagResource":         {Resources: authz.Ref("ResourceARN", nil)},
	"UntagResource":       {Resources: authz.Ref("ResourceARN", nil)},
	"ListTagsForResource": {Resources: authz.Ref("ResourceARN", nil)},
}}

func alarmNamed(s authz.Scope, name string) string { return alarmARN(s.Local(), name) }
