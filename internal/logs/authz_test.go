package logs

import (
	"testing"

	api "overcast/internal/api/logs"
	"overcast/internal/authz/authztest"
)

func TestAuthzTable(t *testing.T) {
	const group = "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web"
	authztest.Run(t, authzTable, []authztest.Case{
		{Op: "CreateLogGroup", In: &api.CreateLogGroupRequest{LogGroupName: new("/ecs/web")}, Resources: []string{group}},
		{Op: "DescribeLogStreams", In: &api.DescribeLogStreamsRequest{LogGroupIdentifier: new(group + ":*")}, Resources: []string{group}},
		{Op: "PutLogEvents", In: &api.PutLogEventsRequest{LogGroupName: new("/ecs/web"), LogStreamName: new("app/1")},
			Resources: []string{group + ":log-stream:app/1"}},
		{Op: "StartQuery", In: &api.StartQueryRequest{LogGroupNames: []string{"/ecs/web", "/ecs/db"}},
			Resources: []string{group, "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/db"}},
		{Op: "DescribeLogGroups", In: &api.DescribeLogGroupsRequest{}, Resources: []string{"*"}},
	})
}
