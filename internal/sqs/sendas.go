package sqs

import (
	"context"
	"errors"
	"fmt"

	"overcast"
	"overcast/internal/policy"
)

// Message is a message another AWS service (SNS, EventBridge) delivers.
type Message struct {
	Body       string
	Attributes map[string]Attribute
	// GroupID and DeduplicationID are for FIFO queues.
	GroupID, DeduplicationID string
}

// Attribute is a message attribute: DataType is String, Number or Binary
// (with an optional custom suffix).
type Attribute struct {
	DataType, StringValue string
	BinaryValue           []byte
}

var (
	// ErrNoQueue is returned by SendAs for a queue that does not exist.
	ErrNoQueue = errors.New("sqs: the queue does not exist")
	// ErrAccessDenied is returned by SendAs when the queue's policy does
	// not let the service send.
	ErrAccessDenied = errors.New("sqs: the queue policy does not allow the service to send")
)

// SendAs sends m to the queue queueARN as the AWS service principal
// (sns.amazonaws.com, events.amazonaws.com) does on behalf of sourceARN
// (a topic, a rule). As on AWS, the queue's policy must allow
// sqs:SendMessage to that principal, even in the queue's own account;
// its conditions see aws:SourceArn and aws:SourceAccount.
func (s *Service) SendAs(ctx context.Context, principal, sourceARN, queueARN string, m Message) (string, error) {
	q := s.queueByARN(queueARN)
	if q == nil {
		return "", fmt.Errorf("%w: %s", ErrNoQueue, queueARN)
	}
	source, _ := overcast.ParseARN(sourceARN)
	conditions := map[string][]string{"aws:SourceArn": {sourceARN}, "aws:SourceAccount": {source.AccountID}}
	if !q.allows(policy.Principal{Service: principal}, "SendMessage", conditions) {
		return "", fmt.Errorf("%w: %s to %s", ErrAccessDenied, principal, queueARN)
	}
	in := sendInput{body: m.Body, attrs: map[string]attributeValue{}, groupID: m.GroupID, dedupID: m.DeduplicationID, senderID: principal}
	for name, a := range m.Attributes {
		in.attrs[name] = attributeValue(a)
	}
	results, errs, err := s.send(ctx, q, []sendInput{in})
	if err != nil {
		return "", err
	}
	if errs[0] != nil {
		return "", errs[0]
	}
	return results[0].id, nil
}
