package sqs

import (
	"testing"

	api "overcast/internal/api/sqs"
	"overcast/internal/authz/authztest"
)

func TestAuthzTable(t *testing.T) {
	const arn = "arn:aws:sqs:us-east-1:123456789012:jobs"
	authztest.Run(t, authzTable, []authztest.Case{
		{Name: "URL", Op: "SendMessage", In: &api.SendMessageRequest{QueueUrl: new("http://localhost:4566/123456789012/jobs")}, Resources: []string{arn}},
		{Name: "AWS's URL", Op: "ReceiveMessage", In: &api.ReceiveMessageRequest{QueueUrl: new("https://sqs.us-east-1.amazonaws.com/210987654321/jobs")},
			Resources: []string{"arn:aws:sqs:us-east-1:210987654321:jobs"}},
		{Name: "bare name", Op: "DeleteQueue", In: &api.DeleteQueueRequest{QueueUrl: new("jobs")}, Resources: []string{arn}},
		{Op: "SendMessageBatch", In: &api.SendMessageBatchRequest{QueueUrl: new("/123456789012/jobs")}, Action: "sqs:SendMessage", Resources: []string{arn}},
		{Op: "CreateQueue", In: &api.CreateQueueRequest{QueueName: new("jobs")}, Resources: []string{arn}},
		{Op: "GetQueueUrl", In: &api.GetQueueUrlRequest{QueueName: new("jobs"), QueueOwnerAWSAccountId: new("210987654321")},
			Resources: []string{"arn:aws:sqs:us-east-1:210987654321:jobs"}},
		{Op: "ListQueues", In: &api.ListQueuesRequest{}, Resources: []string{"*"}},
	})
}
