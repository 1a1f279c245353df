package sqs

import (
	"context"

	"overcast/internal/authz"
)

// authzTable is how IAM authorizes SQS's operations (the Service
// Authorization Reference's "Amazon SQS"): on the queue a call names by
// URL (or, creating or finding one, by name). The batch operations need
// the action of the single one.
var authzTable = &authz.Table{Prefix: "sqs", Rules: map[string]authz.Rule{
	"CreateQueue":                  {Resources: queueNamed},
	"GetQueueUrl":                  {Resources: queueNamed},
	"SendMessageBatch":             {Action: "SendMessage", Resources: queueAtURL},
	"DeleteMessageBatch":           {Action: "DeleteMessage", Resources: queueAtURL},
	"ChangeMessageVisibilityBatch": {Action: "ChangeMessageVisibility", Resources: queueAtURL},
	"AddPermission":                onQueue,
	"RemovePermission":             onQueue,
	"ChangeMessageVisibility":      onQueue,
	"DeleteMessage":                onQueue,
	"DeleteQueue":                  onQueue,
	"GetQueueAttributes":           onQueue,
	"SetQueueAttributes":           onQueue,
	"ListDeadLetterSourceQueues":   onQueue,
	"PurgeQueue":                   onQueue,
	"ReceiveMessage":               onQueue,
	"SendMessage":                  onQueue,
	"TagQueue":                     onQueue,
	"UntagQueue":                   onQueue,
	"ListQueueTags":                onQueue,
	"ListMessageMoveTasks":         {Resources: authz.Ref("SourceArn", nil)},
	"StartMessageMoveTask":         {Resources: authz.Ref("SourceArn", nil)},
}}

// onQueue is the rule of the operations on the queue their QueueUrl names.
var onQueue = authz.Rule{Resources: queueAtURL}

// queueAtURL is the ARN of the queue an input's QueueUrl names.
func queueAtURL(_ context.Context, s authz.Scope, in any) []string {
	scope, name, ok := queueOfURL(s.Local(), authz.Field(in, "QueueUrl"))
	if !ok || name == "" {
		return nil
	}
	return []string{(&queueRecord{Account: scope.Account, Region: scope.Region, Name: name}).arn()}
}

// queueNamed is the ARN of the queue an input's QueueName names, in the
// account QueueOwnerAWSAccountId names when the input has it.
func queueNamed(_ context.Context, s authz.Scope, in any) []string {
	name := authz.Field(in, "QueueName")
	if name == "" {
		return nil
	}
	account := s.AccountID
	if authz.HasField(in, "QueueOwnerAWSAccountId") {
		if owner := authz.Field(in, "QueueOwnerAWSAccountId"); owner != "" {
			account = owner
		}
	}
	return []string{(&queueRecord{Account: account, Region: s.Region, Name: name}).arn()}
}
