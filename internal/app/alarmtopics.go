package app

import (
	"context"
	"encoding/json"
	"fmt"

	"overcast/internal/cloudwatch"
	"overcast/internal/sns"
)

// regionNames are the names CloudWatch's alarm notifications give regions.
var regionNames = map[string]string{
	"us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)", "us-west-1": "US West (N. California)",
	"us-west-2": "US West (Oregon)", "eu-west-1": "EU (Ireland)", "eu-west-2": "EU (London)", "eu-west-3": "EU (Paris)",
	"eu-central-1": "EU (Frankfurt)", "eu-north-1": "EU (Stockholm)", "ap-northeast-1": "Asia Pacific (Tokyo)",
	"ap-northeast-2": "Asia Pacific (Seoul)", "ap-southeast-1": "Asia Pacific (Singapore)",
	"ap-southeast-2": "Asia Pacific (Sydney)", "ap-south-1": "Asia Pacific (Mumbai)", "ca-central-1": "Canada (Central)",
	"sa-east-1": "South America (Sao Paulo)",
}

// alarmNotification is the message CloudWatch publishes to an alarm's SNS
// topics, members in AWS's order. The alarm's configuration (actions,
// trigger) is not part of a state change, so it is left out.
type alarmNotification struct {
	AlarmName       string `json:"AlarmName"`
	AWSAccountID    string `json:"AWSAccountId"`
	NewStateValue   string `json:"NewStateValue"`
	NewStateReason  string `json:"NewStateReason"`
	StateChangeTime string `json:"StateChangeTime"`
	Region          string `json:"Region"`
	AlarmArn        string `json:"AlarmArn"`
	OldStateValue   string `json:"OldStateValue"`
}

// publishAlarm sends an alarm's state change to an SNS topic as CloudWatch
// does: as cloudwatch.amazonaws.com, on behalf of the alarm.
func publishAlarm(ctx context.Context, topics *sns.Service, topicARN string, c cloudwatch.StateChange) error {
	region := regionNames[c.Region]
	if region == "" {
		region = c.Region
	}
	msg, err := json.Marshal(alarmNotification{AlarmName: c.AlarmName, AWSAccountID: c.Account, NewStateValue: c.State,
		NewStateReason: c.Reason, StateChangeTime: c.Time.UTC().Format("2006-01-02T15:04:05.000-0700"), Region: region,
		AlarmArn: c.AlarmARN, OldStateValue: c.Previous})
	if err != nil {
		return err
	}
	subject := fmt.Sprintf("%s: %q in %s", c.State, c.AlarmName, region)
	if len(subject) > 100 {
		subject = subject[:100]
	}
	_, err = topics.PublishAs(ctx, "cloudwatch.amazonaws.com", c.AlarmARN, topicARN, sns.Message{Message: string(msg), Subject: subject})
	return err
}
