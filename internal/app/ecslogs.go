package app

import (
	"cmp"
	"context"
	"errors"
	"slices"

	"overcast"
	logsapi "overcast/internal/api/logs"
	"overcast/internal/ecs/agent"
	"overcast/internal/logs"
)

// taskLogs ships the output of ECS tasks' awslogs containers to CloudWatch
// Logs, in the task's account, as the awslogs driver does: it creates the
// group when awslogs-create-group says so, and the stream on first use.
type taskLogs struct{ logs *logs.Service }

var _ agent.LogSink = taskLogs{}

// maxPutEvents is how many events one PutLogEvents call takes.
const maxPutEvents = 10000

func (l taskLogs) PutLogEvents(ctx context.Context, dest agent.LogDestination, events []agent.LogEvent) error {
	ctx = overcast.WithCaller(ctx, overcast.Caller{AccountID: cmp.Or(dest.Account, overcast.DefaultAccountID), Region: dest.Region})
	if dest.CreateGroup {
		err := l.logs.CreateLogGroup(ctx, &logsapi.CreateLogGroupRequest{LogGroupName: &dest.Group})
		if err != nil && !alreadyExists(err) {
			return err
		}
	}
	err := l.logs.CreateLogStream(ctx, &logsapi.CreateLogStreamRequest{LogGroupName: &dest.Group, LogStreamName: &dest.Stream})
	if err != nil && !alreadyExists(err) {
		return err
	}
	// CloudWatch Logs takes a batch in time order.
	events = slices.Clone(events)
	slices.SortStableFunc(events, func(a, b agent.LogEvent) int { return a.Time.Compare(b.Time) })
	for batch := range slices.Chunk(events, maxPutEvents) {
		in := &logsapi.PutLogEventsRequest{LogGroupName: &dest.Group, LogStreamName: &dest.Stream}
		for _, e := range batch {
			if e.Message == "" {
				continue // CloudWatch Logs refuses empty messages
			}
			in.LogEvents = append(in.LogEvents, logsapi.InputLogEvent{Timestamp: new(e.Time.UnixMilli()), Message: new(e.Message)})
		}
		if len(in.LogEvents) == 0 {
			continue
		}
		if _, err := l.logs.PutLogEvents(ctx, in); err != nil {
			return err
		}
	}
	return nil
}

func alreadyExists(err error) bool {
	var exists *logsapi.ResourceAlreadyExistsException
	return errors.As(err, &exists)
}
