package app

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"overcast"
	ecsapi "overcast/internal/api/ecs"
	logsapi "overcast/internal/api/logs"
	"overcast/internal/ecs"
	"overcast/internal/events"
	"overcast/internal/logs"
	"overcast/internal/sqs"
)

// eventLogs is CloudWatch Logs as an EventBridge target: each event goes
// to a stream of its own in the rule's log group, which must exist.
type eventLogs struct{ logs *logs.Service }

var _ events.LogWriter = eventLogs{}

func (l eventLogs) AppendEvent(ctx context.Context, groupARN, stream string, at time.Time, message string) error {
	a, ok := overcast.ParseARN(groupARN)
	group, found := strings.CutPrefix(a.Resource, "log-group:")
	if !ok || !found {
		return &events.PermanentError{Code: "NO_RESOURCE", Err: errNotLogGroup(groupARN)}
	}
	group = strings.TrimSuffix(group, ":*")
	ctx = overcast.WithCaller(ctx, overcast.RootCaller(a.AccountID, a.Region))
	err := l.logs.CreateLogStream(ctx, &logsapi.CreateLogStreamRequest{LogGroupName: &group, LogStreamName: &stream})
	if err != nil && !alreadyExists(err) {
		return err
	}
	return l.logs.Append(ctx, a.AccountID, a.Region, group, stream, []logs.Event{{Timestamp: at, Message: message}})
}

type errNotLogGroup string

func (e errNotLogGroup) Error() string { return string(e) + " is not a log group ARN" }

// eventTasks is ECS as an EventBridge target: RunTask on the target's
// cluster with the rule's EcsParameters, and the overrides the input
// carries.
type eventTasks struct{ ecs *ecs.Service }

var _ events.TaskRunner = eventTasks{}

func (t eventTasks) RunTasks(ctx context.Context, req events.TaskRequest) error {
	in := &ecsapi.RunTaskRequest{Cluster: &req.ClusterARN, TaskDefinition: &req.TaskDefinitionARN,
		Count: new(int32(max(req.Count, 1))), StartedBy: &req.StartedBy}
	if req.LaunchType != "" {
		in.LaunchType = &req.LaunchType
	}
	if req.Group != "" {
		in.Group = &req.Group
	}
	if req.PlatformVersion != "" {
		in.PlatformVersion = &req.PlatformVersion
	}
	if len(req.Subnets) > 0 {
		assign := ecsapi.AssignPublicIpDISABLED
		if req.AssignPublicIP {
			assign = ecsapi.AssignPublicIpENABLED
		}
		in.NetworkConfiguration = &ecsapi.NetworkConfiguration{AwsvpcConfiguration: &ecsapi.AwsVpcConfiguration{
			Subnets: req.Subnets, SecurityGroups: req.SecurityGroups, AssignPublicIp: &assign}}
	}
	var overrides ecsapi.TaskOverride
	if json.Unmarshal([]byte(req.Input), &overrides) == nil && len(overrides.ContainerOverrides) > 0 {
		in.Overrides = &overrides
	}
	_, err := t.ecs.RunTask(ctx, in)
	return err
}

// eventQueues is SQS as an EventBridge target and dead-letter queue: the
// rule sends as events.amazonaws.com, which the queue policy must allow.
type eventQueues struct{ sqs *sqs.Service }

var _ events.QueueSender = eventQueues{}

func (q eventQueues) SendAs(ctx context.Context, principal, sourceARN, queueARN string, m events.QueueMessage) (string, error) {
	id, err := q.sqs.SendAs(ctx, principal, sourceARN, queueARN, sqs.Message{Body: m.Body,
		Attributes: convertAttributes[sqs.Attribute](m.Attributes), GroupID: m.GroupID, DeduplicationID: m.DeduplicationID})
	switch {
	case errors.Is(err, sqs.ErrNoQueue):
		return "", &events.PermanentError{Code: "NO_RESOURCE", Err: err}
	case errors.Is(err, sqs.ErrAccessDenied):
		return "", &events.PermanentError{Code: "NO_PERMISSIONS", Err: err}
	}
	return id, err
}
