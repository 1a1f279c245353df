package events_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/clock"
)

func start(t *testing.T) (*awstest.Server, *eventbridge.Client, *clock.Fake) {
	t.Helper()
	return awstest.StartClient(t, time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), eventbridge.NewFromConfig)
}

const account = "000000000000"

func TestBusesAndRules(t *testing.T) {
	_, c, _ := start(t)
	bus := awstest.Call(t, c.CreateEventBus, &eventbridge.CreateEventBusInput{Name: aws.String("orders"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("shop")}}})
	if want := "arn:aws:events:us-east-1:" + account + ":event-bus/orders"; aws.ToString(bus.EventBusArn) != want {
		t.Errorf("bus ARN: got %s, want %s", aws.ToString(bus.EventBusArn), want)
	}
	buses := awstest.Call(t, c.ListEventBuses, &eventbridge.ListEventBusesInput{})
	var names []string
	for _, b := range buses.EventBuses {
		names = append(names, aws.ToString(b.Name))
	}
	if diff := cmp.Diff([]string{"default", "orders"}, names); diff != "" {
		t.Errorf("buses (-want +got):\n%s", diff)
	}
	awstest.Call(t, c.CreateEventBus, &eventbridge.CreateEventBusInput{Name: aws.String("audit")})
	names = nil
	for in := (&eventbridge.ListEventBusesInput{Limit: aws.Int32(1)}); ; {
		page := awstest.Call(t, c.ListEventBuses, in)
		names = append(names, awstest.Strings(page.EventBuses, func(b types.EventBus) *string { return b.Name })...)
		if page.NextToken == nil {
			break
		}
		in.NextToken = page.NextToken
	}
	if diff := cmp.Diff([]string{"default", "audit", "orders"}, names); diff != "" {
		t.Errorf("buses one a page (-want +got):\n%s", diff)
	}

	pattern := `{"source":["shop"],"detail-type":["Order Placed"]}`
	rule := awstest.Call(t, c.PutRule, &eventbridge.PutRuleInput{Name: aws.String("placed"), EventBusName: aws.String("orders"),
		EventPattern: aws.String(pattern), Description: aws.String("new orders")})
	if want := "arn:aws:events:us-east-1:" + account + ":rule/orders/placed"; aws.ToString(rule.RuleArn) != want {
		t.Errorf("rule ARN: got %s, want %s", aws.ToString(rule.RuleArn), want)
	}
	awstest.Call(t, c.DisableRule, &eventbridge.DisableRuleInput{Name: aws.String("placed"), EventBusName: aws.String("orders")})
	got := awstest.Call(t, c.DescribeRule, &eventbridge.DescribeRuleInput{Name: aws.String("placed"), EventBusName: bus.EventBusArn})
	if got.State != types.RuleStateDisabled || aws.ToString(got.EventPattern) != pattern || aws.ToString(got.EventBusName) != "orders" ||
		aws.ToString(got.Description) != "new orders" {
		t.Errorf("DescribeRule: got state %s pattern %s bus %s", got.State, aws.ToString(got.EventPattern), aws.ToString(got.EventBusName))
	}

	target := types.Target{Id: aws.String("log"), Arn: aws.String("arn:aws:logs:us-east-1:" + account + ":log-group:/orders"),
		InputTransformer: &types.InputTransformer{InputPathsMap: map[string]string{"id": "$.detail.id"}, InputTemplate: aws.String(`{"order": <id>}`)}}
	put := awstest.Call(t, c.PutTargets, &eventbridge.PutTargetsInput{Rule: aws.String("placed"), EventBusName: aws.String("orders"),
		Targets: []types.Target{target}})
	if put.FailedEntryCount != 0 {
		t.Errorf("PutTargets: got %d failed entries", put.FailedEntryCount)
	}
	targets := awstest.Call(t, c.ListTargetsByRule, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("placed"), EventBusName: aws.String("orders")})
	if len(targets.Targets) != 1 || aws.ToString(targets.Targets[0].InputTransformer.InputTemplate) != `{"order": <id>}` {
		t.Errorf("ListTargetsByRule: got %+v", targets.Targets)
	}
	byTarget := awstest.Call(t, c.ListRuleNamesByTarget, &eventbridge.ListRuleNamesByTargetInput{TargetArn: target.Arn, EventBusName: aws.String("orders")})
	if !cmp.Equal(byTarget.RuleNames, []string{"placed"}) {
		t.Errorf("ListRuleNamesByTarget: got %v, want [placed]", byTarget.RuleNames)
	}
	tags := awstest.Call(t, c.ListTagsForResource, &eventbridge.ListTagsForResourceInput{ResourceARN: bus.EventBusArn})
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" {
		t.Errorf("tags: got %+v", tags.Tags)
	}

	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "a rule with targets is not deleted",
			Call: awstest.Fails(c.DeleteRule, &eventbridge.DeleteRuleInput{Name: aws.String("placed"), EventBusName: aws.String("orders")}),
			Want: awstest.APIError{Code: "ValidationException", Status: 400, Message: "Rule can't be deleted since it has targets."}},
		{Name: "an unknown rule",
			Call: awstest.Fails(c.DescribeRule, &eventbridge.DescribeRuleInput{Name: aws.String("nope")}),
			Want: awstest.APIError{Code: "ResourceNotFoundException", Status: 400, Message: "Rule nope does not exist on EventBus default."}},
		{Name: "an unknown bus",
			Call: awstest.Fails(c.PutRule, &eventbridge.PutRuleInput{Name: aws.String("r"), EventBusName: aws.String("nope"), EventPattern: aws.String(`{"source":["x"]}`)}),
			Want: awstest.APIError{Code: "ResourceNotFoundException", Status: 400, Message: "Event bus nope does not exist."}},
		{Name: "a bus that exists",
			Call: awstest.Fails(c.CreateEventBus, &eventbridge.CreateEventBusInput{Name: aws.String("orders")}),
			Want: awstest.APIError{Code: "ResourceAlreadyExistsException", Status: 400, Message: "Event bus orders already exists."}},
		{Name: "the default bus is not deleted",
			Call: awstest.Fails(c.DeleteEventBus, &eventbridge.DeleteEventBusInput{Name: aws.String("default")}),
			Want: awstest.APIError{Code: "ValidationException", Message: "Cannot delete event bus default."}},
		{Name: "neither a pattern nor a schedule",
			Call: awstest.Fails(c.PutRule, &eventbridge.PutRuleInput{Name: aws.String("r")}),
			Want: awstest.APIError{Code: "ValidationException", Message: "Parameter(s) EventPattern or ScheduleExpression must be specified."}},
		{Name: "an invalid pattern",
			Call: awstest.Fails(c.PutRule, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":"x"}`)}),
			Want: awstest.APIError{Code: "InvalidEventPatternException", Status: 400,
				Message: `Event pattern is not valid. Reason: "source" must be an object or an array`}},
		{Name: "pattern JSON that does not parse",
			Call: awstest.Fails(c.PutRule, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":`)}),
			Want: awstest.APIError{Code: "InvalidEventPatternException", Message: "Event pattern is not valid. Reason: "}},
		{Name: "rate with the wrong plural",
			Call: awstest.Fails(c.PutRule, &eventbridge.PutRuleInput{Name: aws.String("r"), ScheduleExpression: aws.String("rate(1 minutes)")}),
			Want: awstest.APIError{Code: "ValidationException", Message: "Parameter ScheduleExpression is not valid."}},
		{Name: "cron with both days",
			Call: awstest.Fails(c.PutRule, &eventbridge.PutRuleInput{Name: aws.String("r"), ScheduleExpression: aws.String("cron(0 12 * * * *)")}),
			Want: awstest.APIError{Code: "ValidationException", Message: "Parameter ScheduleExpression is not valid."}},
		{Name: "a schedule on a custom bus",
			Call: awstest.Fails(c.PutRule, &eventbridge.PutRuleInput{Name: aws.String("r"), EventBusName: aws.String("orders"), ScheduleExpression: aws.String("rate(5 minutes)")}),
			Want: awstest.APIError{Code: "ValidationException", Message: "ScheduleExpression is supported only on the default event bus."}},
		{Name: "a retry policy out of range",
			Call: awstest.Fails(c.PutTargets, &eventbridge.PutTargetsInput{Rule: aws.String("placed"), EventBusName: aws.String("orders"),
				Targets: []types.Target{{Id: aws.String("t"), Arn: target.Arn, RetryPolicy: &types.RetryPolicy{MaximumRetryAttempts: aws.Int32(200)}}}}),
			Want: awstest.APIError{Code: "ValidationException"}},
	})

	awstest.Call(t, c.RemoveTargets, &eventbridge.RemoveTargetsInput{Rule: aws.String("placed"), EventBusName: aws.String("orders"), Ids: []string{"log"}})
	awstest.Call(t, c.DeleteRule, &eventbridge.DeleteRuleInput{Name: aws.String("placed"), EventBusName: aws.String("orders")})
	awstest.Call(t, c.DeleteEventBus, &eventbridge.DeleteEventBusInput{Name: aws.String("orders")})
	awstest.WantAPIError(t, awstest.Fails(c.DescribeEventBus, &eventbridge.DescribeEventBusInput{Name: aws.String("orders")})(context.Background()),
		awstest.APIError{Code: "ResourceNotFoundException", Message: "Event bus orders does not exist."})
}

func TestTestEventPattern(t *testing.T) {
	_, c, _ := start(t)
	event := `{"id":"1","source":"aws.ec2","detail-type":"EC2 Instance State-change Notification","account":"123456789012",` +
		`"time":"2026-01-01T00:00:00Z","region":"us-east-1","resources":[],"detail":{"state":"running","cpu":75}}`
	tests := []struct {
		pattern string
		want    bool
	}{
		{`{"source":["aws.ec2"],"detail":{"state":["running"]}}`, true},
		{`{"detail":{"cpu":[{"numeric":[">=",80]}]}}`, false},
		{`{"detail":{"state":[{"anything-but":{"prefix":"stop"}}]}}`, true},
	}
	for _, tt := range tests {
		out := awstest.Call(t, c.TestEventPattern, &eventbridge.TestEventPatternInput{EventPattern: aws.String(tt.pattern), Event: aws.String(event)})
		if out.Result != tt.want {
			t.Errorf("%s: got %v, want %v", tt.pattern, out.Result, tt.want)
		}
	}
	_, err := c.TestEventPattern(context.Background(), &eventbridge.TestEventPatternInput{EventPattern: aws.String(`{"detail":{"cpu":[{"numeric":5}]}}`),
		Event: aws.String(event)})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidEventPatternException", Message: "Value of numeric must be an array."})
}

// TestPutEventsToALogGroup routes an event through a rule to a CloudWatch
// Logs target, with an input transformer, and checks the entries PutEvents
// refuses.
func TestPutEventsToALogGroup(t *testing.T) {
	srv, c, _ := start(t)
	logs := cloudwatchlogs.NewFromConfig(srv.Config())
	awstest.Call(t, logs.CreateLogGroup, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/events/orders")})
	awstest.Call(t, c.PutRule, &eventbridge.PutRuleInput{Name: aws.String("big"), EventPattern: aws.String(`{"source":["shop"],"detail":{"total":[{"numeric":[">",100]}]}}`)})
	awstest.Call(t, c.PutTargets, &eventbridge.PutTargetsInput{Rule: aws.String("big"), Targets: []types.Target{{
		Id: aws.String("log"), Arn: aws.String("arn:aws:logs:us-east-1:" + account + ":log-group:/events/orders:*"),
		InputTransformer: &types.InputTransformer{InputPathsMap: map[string]string{"total": "$.detail.total", "who": "$.detail.customer"},
			InputTemplate: aws.String(`{"message": "<who> spent <total>", "total": <total>}`)}}}})

	out := awstest.Call(t, c.PutEvents, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{
		{Source: aws.String("shop"), DetailType: aws.String("Order Placed"), Detail: aws.String(`{"total":150,"customer":"ann"}`)},
		{Source: aws.String("shop"), DetailType: aws.String("Order Placed"), Detail: aws.String(`{"total":50,"customer":"bob"}`)},
		{Source: aws.String("shop"), DetailType: aws.String("Order Placed")},
		{Source: aws.String("shop"), DetailType: aws.String("Order Placed"), Detail: aws.String(`[1`)},
		{DetailType: aws.String("Order Placed"), Detail: aws.String(`{}`)},
		{Source: aws.String("aws.shop"), DetailType: aws.String("Order Placed"), Detail: aws.String(`{}`)},
	}})
	if out.FailedEntryCount != 4 {
		t.Errorf("FailedEntryCount: got %d, want 4", out.FailedEntryCount)
	}
	var codes []string
	for _, e := range out.Entries {
		codes = append(codes, aws.ToString(e.ErrorCode))
	}
	wantCodes := []string{"", "", "InvalidArgument", "MalformedDetail", "InvalidArgument", "NotAuthorizedForSourceException"}
	if diff := cmp.Diff(wantCodes, codes); diff != "" {
		t.Errorf("entry error codes (-want +got):\n%s", diff)
	}
	if msg := aws.ToString(out.Entries[2].ErrorMessage); msg != "Parameter Detail is not valid. Reason: Detail is a required argument." {
		t.Errorf("missing Detail: got message %q", msg)
	}
	eventID := aws.ToString(out.Entries[0].EventId)

	var messages []string
	awstest.WaitFor(t, "the event in the log group", func() bool {
		got, err := logs.GetLogEvents(context.Background(), &cloudwatchlogs.GetLogEventsInput{
			LogGroupName: aws.String("/events/orders"), LogStreamName: aws.String(eventID)})
		if err != nil {
			return false
		}
		messages = nil
		for _, e := range got.Events {
			messages = append(messages, aws.ToString(e.Message))
		}
		return len(messages) > 0
	})
	if diff := cmp.Diff([]string{`{"message": "ann spent 150", "total": 150}`}, messages); diff != "" {
		t.Errorf("log events (-want +got):\n%s", diff)
	}
	streams := awstest.Call(t, logs.DescribeLogStreams, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("/events/orders")})
	if len(streams.LogStreams) != 1 || !strings.Contains(aws.ToString(streams.LogStreams[0].LogStreamName), eventID) {
		t.Errorf("log streams: got %d, want one named after the event", len(streams.LogStreams))
	}
}

// TestS3EventsReachRules puts an object in a bucket whose notifications
// go to EventBridge: S3's bus event becomes EventBridge's "Object Created"
// on the default bus and reaches a rule's log group.
func TestS3EventsReachRules(t *testing.T) {
	srv, c, _ := start(t)
	messages := logRule(t, srv, c, "uploads",
		`{"source":["aws.s3"],"detail-type":["Object Created"],"detail":{"bucket":{"name":["photos"]},"object":{"key":[{"suffix":".jpg"}]}}}`,
		func(t *types.Target) { t.InputPath = aws.String("$.detail.object") })
	s3c := s3.NewFromConfig(srv.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	awstest.Call(t, s3c.CreateBucket, &s3.CreateBucketInput{Bucket: aws.String("photos")})
	awstest.Call(t, s3c.PutBucketNotificationConfiguration, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("photos"),
		NotificationConfiguration: &s3types.NotificationConfiguration{EventBridgeConfiguration: &s3types.EventBridgeConfiguration{}}})
	awstest.Call(t, s3c.PutObject, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String("notes.txt"), Body: strings.NewReader("no")})
	awstest.Call(t, s3c.PutObject, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String("cat.jpg"), Body: strings.NewReader("meow")})

	var got []string
	awstest.WaitFor(t, "the S3 event in the log group", func() bool { got = messages(); return len(got) > 0 })
	if len(got) != 1 || !strings.HasPrefix(got[0], `{"key":"cat.jpg","size":4,`) {
		t.Errorf("got %v, want the one .jpg object's detail", got)
	}
}

// logRule puts a rule with the pattern (or, when it starts with "rate(" or
// "cron(", the schedule) whose target, changed by the edits, is a new log
// group, and returns a function reading the group's messages.
func logRule(t *testing.T, srv *awstest.Server, c *eventbridge.Client, name, patternOrSchedule string,
	edits ...func(*types.Target)) func() []string {
	t.Helper()
	logs := cloudwatchlogs.NewFromConfig(srv.Config())
	group := "/events/" + name
	awstest.Call(t, logs.CreateLogGroup, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &group})
	in := &eventbridge.PutRuleInput{Name: &name, EventPattern: &patternOrSchedule}
	if strings.HasPrefix(patternOrSchedule, "rate(") || strings.HasPrefix(patternOrSchedule, "cron(") {
		in.EventPattern, in.ScheduleExpression = nil, &patternOrSchedule
	}
	awstest.Call(t, c.PutRule, in)
	target := types.Target{Id: aws.String("log"), Arn: aws.String("arn:aws:logs:us-east-1:" + account + ":log-group:" + group)}
	for _, edit := range edits {
		edit(&target)
	}
	awstest.Call(t, c.PutTargets, &eventbridge.PutTargetsInput{Rule: &name, Targets: []types.Target{target}})
	return func() []string {
		got, err := logs.FilterLogEvents(context.Background(), &cloudwatchlogs.FilterLogEventsInput{LogGroupName: &group})
		if err != nil {
			return nil
		}
		return awstest.Strings(got.Events, func(e logstypes.FilteredLogEvent) *string { return e.Message })
	}
}

// TestECRPushReachesALogGroup pushes an image through ECR's API: its
// "ECR Image Action" event reaches a rule's log group.
func TestECRPushReachesALogGroup(t *testing.T) {
	srv, c, _ := start(t)
	messages := logRule(t, srv, c, "pushes", `{"source":["aws.ecr"],"detail-type":["ECR Image Action"],"detail":{"action-type":["PUSH"],"repository-name":["web"]}}`)
	reg := ecr.NewFromConfig(srv.Config())
	awstest.Call(t, reg.CreateRepository, &ecr.CreateRepositoryInput{RepositoryName: aws.String("web")})
	upload := func(blob []byte) string {
		up := awstest.Call(t, reg.InitiateLayerUpload, &ecr.InitiateLayerUploadInput{RepositoryName: aws.String("web")})
		awstest.Call(t, reg.UploadLayerPart, &ecr.UploadLayerPartInput{RepositoryName: aws.String("web"), UploadId: up.UploadId,
			PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(int64(len(blob) - 1)), LayerPartBlob: blob})
		digest := fmt.Sprintf("sha256:%x", sha256.Sum256(blob))
		awstest.Call(t, reg.CompleteLayerUpload, &ecr.CompleteLayerUploadInput{RepositoryName: aws.String("web"), UploadId: up.UploadId,
			LayerDigests: []string{digest}})
		return digest
	}
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	layer := []byte("layer bytes")
	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},`+
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":%q,"size":%d}]}`,
		upload(config), len(config), upload(layer), len(layer))
	awstest.Call(t, reg.PutImage, &ecr.PutImageInput{RepositoryName: aws.String("web"), ImageManifest: aws.String(manifest), ImageTag: aws.String("v1")})

	var got []string
	awstest.WaitFor(t, "the push event", func() bool { got = messages(); return len(got) > 0 })
	var ev struct {
		Source, Account string
		DetailType      string `json:"detail-type"`
		Detail          map[string]string
	}
	if err := json.Unmarshal([]byte(got[0]), &ev); err != nil {
		t.Fatal(err)
	}
	digest := fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(manifest)))
	want := map[string]string{"result": "SUCCESS", "repository-name": "web", "image-digest": digest, "action-type": "PUSH", "image-tag": "v1"}
	if ev.Source != "aws.ecr" || ev.DetailType != "ECR Image Action" || ev.Account != account || !cmp.Equal(ev.Detail, want) {
		t.Errorf("got %s, want the push of web:v1", got[0])
	}
}

// TestScheduledRuleFiresUnderTheFakeClock runs a rate rule in the whole
// server: each period of the fake clock sends a "Scheduled Event".
func TestScheduledRuleFiresUnderTheFakeClock(t *testing.T) {
	srv, c, clk := start(t)
	messages := logRule(t, srv, c, "ticks", "rate(1 hour)")
	clk.Advance(59 * time.Minute)
	clk.Advance(time.Minute)
	var got []string
	awstest.WaitFor(t, "the first firing", func() bool { got = messages(); return len(got) == 1 })
	if !strings.Contains(got[0], `"detail-type":"Scheduled Event"`) || !strings.Contains(got[0], `"time":"2026-03-01T11:00:00Z"`) ||
		!strings.Contains(got[0], `"resources":["arn:aws:events:us-east-1:`+account+`:rule/ticks"]`) {
		t.Errorf("got %s, want the rule's Scheduled Event at 11:00", got[0])
	}
	clk.Advance(time.Hour)
	awstest.WaitFor(t, "the second firing", func() bool { return len(messages()) == 2 })
}
