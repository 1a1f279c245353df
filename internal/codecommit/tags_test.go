package codecommit_test

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codecommit"
	"github.com/aws/aws-sdk-go-v2/service/codecommit/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
)

func TestTags(t *testing.T) {
	_, c := start(t)
	arn := createRepository(t, c, "app").Arn
	awstest.Call(t, c.TagResource, &codecommit.TagResourceInput{ResourceArn: arn, Tags: map[string]string{"team": "web", "env": "dev"}})
	awstest.Call(t, c.UntagResource, &codecommit.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"env"}})
	got := awstest.Call(t, c.ListTagsForResource, &codecommit.ListTagsForResourceInput{ResourceArn: arn}).Tags
	if diff := cmp.Diff(map[string]string{"team": "web"}, got); diff != "" {
		t.Errorf("ListTagsForResource (-want +got):\n%s", diff)
	}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "not a repository ARN", Call: awstest.Fails(c.ListTagsForResource, &codecommit.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:s3:::b")}),
			Want: awstest.BadRequest("InvalidResourceArnException", "")},
		{Name: "a missing repository", Call: awstest.Fails(c.TagResource, &codecommit.TagResourceInput{
			ResourceArn: aws.String("arn:aws:codecommit:us-east-1:000000000000:nope"), Tags: map[string]string{"a": "b"}}),
			Want: awstest.BadRequest("RepositoryDoesNotExistException", "nope does not exist")},
		{Name: "a reserved key", Call: awstest.Fails(c.TagResource, &codecommit.TagResourceInput{ResourceArn: arn, Tags: map[string]string{"aws:x": "b"}}),
			Want: awstest.BadRequest("InvalidSystemTagUsageException", "")},
	})
}

// TestTriggersNotifySNS: a trigger's topic gets CodeCommit's
// ReferenceChanges record of an API commit, and the test notification.
func TestTriggersNotifySNS(t *testing.T) {
	srv, c := start(t)
	createRepository(t, c, "app")
	topics, queues := sns.NewFromConfig(srv.Config()), sqs.NewFromConfig(srv.Config())
	topicARN := awstest.Call(t, topics.CreateTopic, &sns.CreateTopicInput{Name: aws.String("pushes")}).TopicArn
	queueARN := "arn:aws:sqs:us-east-1:000000000000:pushes"
	queueURL := awstest.Call(t, queues.CreateQueue, &sqs.CreateQueueInput{QueueName: aws.String("pushes"), Attributes: map[string]string{
		"Policy": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage",` +
			`"Resource":"` + queueARN + `","Condition":{"ArnEquals":{"aws:SourceArn":"` + aws.ToString(topicARN) + `"}}}]}`}}).QueueUrl
	awstest.Call(t, topics.Subscribe, &sns.SubscribeInput{TopicArn: topicARN, Protocol: aws.String("sqs"),
		Endpoint: &queueARN, Attributes: map[string]string{"RawMessageDelivery": "true"}})

	trigger := types.RepositoryTrigger{Name: aws.String("main-pushes"), DestinationArn: topicARN, Branches: []string{"main"},
		Events: []types.RepositoryTriggerEventEnum{types.RepositoryTriggerEventEnumUpdateReference, types.RepositoryTriggerEventEnumCreateReference}}
	put := awstest.Call(t, c.PutRepositoryTriggers, &codecommit.PutRepositoryTriggersInput{RepositoryName: aws.String("app"),
		Triggers: []types.RepositoryTrigger{trigger}})
	got := awstest.Call(t, c.GetRepositoryTriggers, &codecommit.GetRepositoryTriggersInput{RepositoryName: aws.String("app")})
	if aws.ToString(got.ConfigurationId) != aws.ToString(put.ConfigurationId) || len(got.Triggers) != 1 || aws.ToString(got.Triggers[0].Name) != "main-pushes" {
		t.Errorf("GetRepositoryTriggers: got %+v, want the trigger put with configuration %s", got, aws.ToString(put.ConfigurationId))
	}
	test := awstest.Call(t, c.TestRepositoryTriggers, &codecommit.TestRepositoryTriggersInput{RepositoryName: aws.String("app"),
		Triggers: []types.RepositoryTrigger{trigger}})
	if !cmp.Equal(test.SuccessfulExecutions, []string{"main-pushes"}) || len(test.FailedExecutions) != 0 {
		t.Errorf("TestRepositoryTriggers: got %+v, want main-pushes successful", test)
	}

	commit := putFile(t, c, "app", "main", "", "a.txt", "a")
	var records []map[string]any
	awstest.WaitFor(t, "the commit's notification", func() bool {
		out, err := queues.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: queueURL, MaxNumberOfMessages: 10})
		for _, m := range out.Messages {
			var n struct{ Records []map[string]any }
			if json.Unmarshal([]byte(aws.ToString(m.Body)), &n) == nil {
				records = append(records, n.Records...)
			}
		}
		return err == nil && len(records) >= 2
	})
	last := records[len(records)-1]
	refs, _ := json.Marshal(last["codecommit"])
	if last["eventTriggerName"] != "main-pushes" || string(refs) != `{"references":[{"commit":"`+commit+`","created":true,"ref":"refs/heads/main"}]}` {
		t.Errorf("the commit's notification: got %v", last)
	}

	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "a bad destination", Call: awstest.Fails(c.PutRepositoryTriggers, &codecommit.PutRepositoryTriggersInput{RepositoryName: aws.String("app"),
			Triggers: []types.RepositoryTrigger{{Name: aws.String("x"), DestinationArn: aws.String("arn:aws:s3:::b"),
				Events: []types.RepositoryTriggerEventEnum{types.RepositoryTriggerEventEnumAll}}}}),
			Want: awstest.BadRequest("InvalidRepositoryTriggerDestinationArnException", "")},
		{Name: "all with others", Call: awstest.Fails(c.PutRepositoryTriggers, &codecommit.PutRepositoryTriggersInput{RepositoryName: aws.String("app"),
			Triggers: []types.RepositoryTrigger{{Name: aws.String("x"), DestinationArn: topicARN,
				Events: []types.RepositoryTriggerEventEnum{types.RepositoryTriggerEventEnumAll, types.RepositoryTriggerEventEnumCreateReference}}}}),
			Want: awstest.BadRequest("InvalidRepositoryTriggerEventsException", "")},
		{Name: "no events", Call: awstest.Fails(c.PutRepositoryTriggers, &codecommit.PutRepositoryTriggersInput{RepositoryName: aws.String("app"),
			Triggers: []types.RepositoryTrigger{{Name: aws.String("x"), DestinationArn: topicARN, Events: []types.RepositoryTriggerEventEnum{}}}}),
			Want: awstest.BadRequest("RepositoryTriggerEventsListRequiredException", "")},
	})
}
