package sns

import (
	"overcast/internal/authz"
)

// authzTable is how IAM authorizes SNS's operations (the Service
// Authorization Reference's "Amazon SNS"): on the topic a call names by
// ARN, or by name creating it. Subscriptions are no resource of IAM's:
// their operations need "*". PublishBatch needs sns:Publish.
var authzTable = &authz.Table{Prefix: "sns", Rules: map[string]authz.Rule{
	"CreateTopic":              {Resources: authz.Ref("Name", func(s authz.Scope, name string) string { return topicARN(s.Local(), name) })},
	"DeleteTopic":              onTopic,
	"GetTopicAttributes":       onTopic,
	"SetTopicAttributes":       onTopic,
	"AddPermission":            onTopic,
	"RemovePermission":         onTopic,
	"Subscribe":                onTopic,
	"ConfirmSubscription":      onTopic,
	"ListSubscriptionsByTopic": onTopic,
	"Publish":                  {Resources: publishedTo},
	"PublishBatch":             {Action: "Publish", Resources: authz.Ref("TopicArn", nil)},
	"TagResource":              {Resources: authz.ResourceARN},
	"UntagResource":            {Resources: authz.ResourceARN},
	"ListTagsForResource":      {Resources: authz.ResourceARN},
}}

// onTopic is the rule of the operations on the topic their TopicArn names.
var onTopic = authz.Rule{Resources: authz.Ref("TopicArn", nil)}

// publishedTo is the topic, or the endpoint, Publish sends to.
var publishedTo = authz.Union(authz.Ref("TopicArn", nil), authz.Ref("TargetArn", nil))
