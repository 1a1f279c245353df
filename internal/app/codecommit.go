package app

import (
	"context"

	"overcast/internal/codecommit"
	"overcast/internal/sns"
)

// codecommitTopics delivers CodeCommit's trigger notifications to SNS as
// CodeCommit's service principal, so that the topic's policy decides.
type codecommitTopics struct{ sns *sns.Service }

var _ codecommit.Topics = codecommitTopics{}

func (t codecommitTopics) Publish(ctx context.Context, sourceARN, topicARN, subject, message string) error {
	_, err := t.sns.PublishAs(ctx, "codecommit.amazonaws.com", sourceARN, topicARN, sns.Message{Message: message, Subject: subject})
	return err
}
