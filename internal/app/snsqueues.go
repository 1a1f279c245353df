package app

import (
	"context"
	"errors"
	"fmt"

	"overcast/internal/sns"
	"overcast/internal/sqs"
)

// snsQueues is SQS as SNS delivers to it: as sns.amazonaws.com, which
// the queue policy must allow.
type snsQueues struct{ sqs *sqs.Service }

var _ sns.Queues = snsQueues{}

func (q snsQueues) SendAs(ctx context.Context, principal, sourceARN, queueARN string, m sns.QueueMessage) (string, error) {
	id, err := q.sqs.SendAs(ctx, principal, sourceARN, queueARN, sqs.Message{Body: m.Body,
		Attributes: convertAttributes[sqs.Attribute](m.Attributes), GroupID: m.GroupID, DeduplicationID: m.DeduplicationID})
	if err != nil && finalForSNS(err) {
		return "", fmt.Errorf("%w: %w", sns.ErrRejected, err)
	}
	return id, err
}

// finalForSNS reports whether retrying cannot help: the queue is gone, its
// policy refuses SNS, or SQS refused the message itself (a client error,
// such as a body too large for the queue).
func finalForSNS(err error) bool {
	var status interface{ HTTPStatusCode() int }
	return errors.Is(err, sqs.ErrNoQueue) || errors.Is(err, sqs.ErrAccessDenied) ||
		(errors.As(err, &status) && status.HTTPStatusCode() >= 400 && status.HTTPStatusCode() < 500)
}

// messageAttribute is what SQS, SNS and EventBridge each call a message
// attribute: their types share it, field for field.
type messageAttribute = struct {
	DataType, StringValue string
	BinaryValue           []byte
}

// convertAttributes turns one service's message attributes into
// another's.
func convertAttributes[To, From ~messageAttribute](in map[string]From) map[string]To {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]To, len(in))
	for name, a := range in {
		out[name] = To(a)
	}
	return out
}
