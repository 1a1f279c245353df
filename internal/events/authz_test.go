package events

import (
	"testing"

	api "overcast/internal/api/events"
	"overcast/internal/authz/authztest"
)

func TestAuthzTable(t *testing.T) {
	const arn = "arn:aws:events:us-east-1:123456789012:"
	authztest.Run(t, authzTable, []authztest.Case{
		{Name: "default bus", Op: "PutRule", In: &api.PutRuleRequest{Name: new("nightly")}, Resources: []string{arn + "rule/nightly"}},
		{Name: "custom bus", Op: "PutTargets", In: &api.PutTargetsRequest{Rule: new("orders"), EventBusName: new("shop")},
			Resources: []string{arn + "rule/shop/orders"}},
		{Name: "bus by ARN", Op: "DescribeRule", In: &api.DescribeRuleRequest{Name: new("orders"), EventBusName: new("arn:aws:events:eu-west-1:210987654321:event-bus/shop")},
			Resources: []string{"arn:aws:events:eu-west-1:210987654321:rule/shop/orders"}},
		{Op: "DescribeEventBus", In: &api.DescribeEventBusRequest{}, Resources: []string{arn + "event-bus/default"}},
		{Op: "PutEvents", In: &api.PutEventsRequest{Entries: api.PutEventsRequestEntryList{{}, {EventBusName: new("shop")}}},
			Resources: []string{arn + "event-bus/default", arn + "event-bus/shop"}},
	})
}
