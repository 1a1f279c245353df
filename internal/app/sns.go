package app

import (
	"context"
	"errors"

	snsapi "overcast/internal/api/sns"
	"overcast/internal/events"
	"overcast/internal/sns"
)

// eventTopics is SNS as an EventBridge target: the rule publishes as
// events.amazonaws.com, which the topic policy must allow.
type eventTopics struct{ sns *sns.Service }

var _ events.TopicPublisher = eventTopics{}

func (t eventTopics) PublishAs(ctx context.Context, principal, sourceARN, topicARN string, m events.TopicMessage) (string, error) {
	id, err := t.sns.PublishAs(ctx, principal, sourceARN, topicARN, sns.Message{Message: m.Message, Subject: m.Subject,
		Attributes: convertAttributes[sns.Attribute](m.Attributes), GroupID: m.GroupID, DeduplicationID: m.DeduplicationID})
	var notFound *snsapi.NotFoundException
	var denied *snsapi.AuthorizationErrorException
	switch {
	case errors.As(err, &notFound):
		return "", &events.PermanentError{Code: "NO_RESOURCE", Err: err}
	case errors.As(err, &denied):
		return "", &events.PermanentError{Code: "NO_PERMISSIONS", Err: err}
	}
	return id, err
}
