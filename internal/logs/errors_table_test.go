package logs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"overcast/internal/awstest"
)

// TestErrorsTable holds CloudWatch Logs' most common failures, for the
// operations on groups, streams, events, retention and tags, to the codes,
// statuses and messages AWS answers them with. Unless a row says otherwise,
// the code is from the operation's Errors section in the CloudWatch Logs
// API Reference (every one of them HTTP 400), and a "1 validation error
// detected" message is Coral's wording of the model's constraint, which
// CloudWatch Logs sends as InvalidParameterException.
func TestErrorsTable(t *testing.T) {
	c := startWithStream(t)
	now := time.Now().UnixMilli()
	events := func(times ...int64) []types.InputLogEvent {
		var out []types.InputLogEvent
		for _, ts := range times {
			out = append(out, types.InputLogEvent{Timestamp: aws.Int64(ts), Message: aws.String("m")})
		}
		return out
	}
	const groupARN = "arn:aws:logs:us-east-1:000000000000:log-group:g"
	fifty := map[string]string{}
	for i := range 50 {
		fifty[fmt.Sprint("k", i)] = "v"
	}
	awstest.Call(t, c.TagResource, &cwl.TagResourceInput{ResourceArn: aws.String(groupARN), Tags: fifty})
	putEvents := func(group, stream string, evs []types.InputLogEvent) func(context.Context) error {
		return awstest.Fails(c.PutLogEvents, &cwl.PutLogEventsInput{LogGroupName: aws.String(group),
			LogStreamName: aws.String(stream), LogEvents: evs})
	}

	awstest.RunErrorCases(t, []awstest.ErrorCase{
		// The messages of the not-found and already-exists rows are the
		// ones every aws CLI user has seen ("An error occurred
		// (ResourceNotFoundException) ...: The specified log group does not
		// exist.").
		{Name: "CreateLogGroup: exists", Call: awstest.Fails(c.CreateLogGroup, &cwl.CreateLogGroupInput{LogGroupName: aws.String("g")}),
			Want: awstest.BadRequest("ResourceAlreadyExistsException", "The specified log group already exists")},
		{Name: "CreateLogGroup: a colon in the name", Call: awstest.Fails(c.CreateLogGroup, &cwl.CreateLogGroupInput{LogGroupName: aws.String("a:b")}),
			Want: awstest.BadRequest("InvalidParameterException",
				`1 validation error detected: Value 'a:b' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+`)},
		{Name: "DeleteLogGroup: no such group", Call: awstest.Fails(c.DeleteLogGroup, &cwl.DeleteLogGroupInput{LogGroupName: aws.String("nowhere")}),
			Want: awstest.BadRequest("ResourceNotFoundException", "The specified log group does not exist.")},
		{Name: "CreateLogStream: exists", Call: awstest.Fails(c.CreateLogStream, &cwl.CreateLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s")}),
			Want: awstest.BadRequest("ResourceAlreadyExistsException", "The specified log stream already exists")},
		{Name: "CreateLogStream: no such group", Call: awstest.Fails(c.CreateLogStream, &cwl.CreateLogStreamInput{LogGroupName: aws.String("nowhere"),
			LogStreamName: aws.String("s")}),
			Want: awstest.BadRequest("ResourceNotFoundException", "The specified log group does not exist.")},
		{Name: "CreateLogStream: a colon in the name", Call: awstest.Fails(c.CreateLogStream, &cwl.CreateLogStreamInput{LogGroupName: aws.String("g"),
			LogStreamName: aws.String("a:b")}),
			Want: awstest.BadRequest("InvalidParameterException",
				"1 validation error detected: Value 'a:b' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*")},
		{Name: "DeleteLogStream: no such stream", Call: awstest.Fails(c.DeleteLogStream, &cwl.DeleteLogStreamInput{LogGroupName: aws.String("g"),
			LogStreamName: aws.String("nowhere")}),
			Want: awstest.BadRequest("ResourceNotFoundException", "The specified log stream does not exist.")},
		// DescribeLogStreams' reference: orderBy LastEventTime cannot be
		// combined with a prefix.
		{Name: "DescribeLogStreams: LastEventTime order with a prefix", Call: awstest.Fails(c.DescribeLogStreams, &cwl.DescribeLogStreamsInput{
			LogGroupName: aws.String("g"), OrderBy: types.OrderByLastEventTime, LogStreamNamePrefix: aws.String("s")}),
			Want: awstest.BadRequest("InvalidParameterException", "Cannot order by LastEventTime with a logStreamNamePrefix.")},
		{Name: "DescribeLogStreams: no such group", Call: awstest.Fails(c.DescribeLogStreams, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("nowhere")}),
			Want: awstest.BadRequest("ResourceNotFoundException", "The specified log group does not exist.")},
		{Name: "DescribeLogGroups: limit over 50", Call: awstest.Fails(c.DescribeLogGroups, &cwl.DescribeLogGroupsInput{Limit: aws.Int32(51)}),
			Want: awstest.BadRequest("InvalidParameterException",
				"1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50")},
		{Name: "DescribeLogGroups: made-up nextToken", Call: awstest.Fails(c.DescribeLogGroups, &cwl.DescribeLogGroupsInput{NextToken: aws.String("nope")}),
			Want: awstest.BadRequest("InvalidParameterException", "The specified nextToken is invalid.")},
		{Name: "PutLogEvents: no such stream", Call: putEvents("g", "nowhere", events(now)),
			Want: awstest.BadRequest("ResourceNotFoundException", "The specified log stream does not exist.")},
		{Name: "PutLogEvents: no such group", Call: putEvents("nowhere", "s", events(now)),
			Want: awstest.BadRequest("ResourceNotFoundException", "The specified log group does not exist.")},
		// PutLogEvents' reference lists both batch rules; these are the
		// sentences AWS refuses them with.
		{Name: "PutLogEvents: out of order", Call: putEvents("g", "s", events(now, now-1000)),
			Want: awstest.BadRequest("InvalidParameterException", "Log events in a single PutLogEvents request must be in chronological order.")},
		{Name: "PutLogEvents: spanning more than 24 hours", Call: putEvents("g", "s", events(now-25*time.Hour.Milliseconds(), now)),
			Want: awstest.BadRequest("InvalidParameterException", "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")},
		{Name: "PutLogEvents: no events", Call: putEvents("g", "s", []types.InputLogEvent{}),
			Want: awstest.BadRequest("InvalidParameterException",
				"at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1")},
		{Name: "GetLogEvents: no such stream", Call: awstest.Fails(c.GetLogEvents, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"),
			LogStreamName: aws.String("nowhere")}),
			Want: awstest.BadRequest("ResourceNotFoundException", "The specified log stream does not exist.")},
		{Name: "GetLogEvents: made-up nextToken", Call: awstest.Fails(c.GetLogEvents, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"),
			LogStreamName: aws.String("s"), NextToken: aws.String("f/nope")}),
			Want: awstest.BadRequest("InvalidParameterException", "The specified nextToken is invalid.")},
		// The reference of PutRetentionPolicy lists the accepted days; AWS
		// words a refusal as a failed enum constraint.
		{Name: "PutRetentionPolicy: 2 days", Call: awstest.Fails(c.PutRetentionPolicy, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("g"),
			RetentionInDays: aws.Int32(2)}),
			Want: awstest.BadRequest("InvalidParameterException",
				"1 validation error detected: Value '2' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: "+
					"[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]")},
		{Name: "PutRetentionPolicy: no such group", Call: awstest.Fails(c.PutRetentionPolicy, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("nowhere"),
			RetentionInDays: aws.Int32(7)}),
			Want: awstest.BadRequest("ResourceNotFoundException", "The specified log group does not exist.")},
		// "Invalid filter pattern" is how AWS refuses a pattern it cannot
		// parse (aws-toolkit-jetbrains#3219, mapbox/ecs-watchbot#350), with
		// a sentence of its own for one left open (jorgebastida/awslogs#210).
		{Name: "FilterLogEvents: malformed pattern", Call: awstest.Fails(c.FilterLogEvents, &cwl.FilterLogEventsInput{LogGroupName: aws.String("g"),
			FilterPattern: aws.String(`{ $.level = }`)}),
			Want: awstest.BadRequest("InvalidParameterException", "Invalid filter pattern")},
		{Name: "FilterLogEvents: pattern left open", Call: awstest.Fails(c.FilterLogEvents, &cwl.FilterLogEventsInput{LogGroupName: aws.String("g"),
			FilterPattern: aws.String(`{ $.level = "error"`)}),
			Want: awstest.BadRequest("InvalidParameterException", "If a filter pattern starts with '{' it must end with '}'")},
		{Name: "FilterLogEvents: no such group", Call: awstest.Fails(c.FilterLogEvents, &cwl.FilterLogEventsInput{LogGroupName: aws.String("nowhere")}),
			Want: awstest.BadRequest("ResourceNotFoundException", "The specified log group does not exist.")},
		// TagResource's reference: TooManyTagsException past 50 tags, and
		// ResourceNotFoundException for an ARN that names nothing.
		{Name: "TagResource: a 51st tag", Call: awstest.Fails(c.TagResource, &cwl.TagResourceInput{
			ResourceArn: aws.String(groupARN), Tags: map[string]string{"one": "more"}}),
			Want: awstest.BadRequest("TooManyTagsException", "A resource can have no more than 50 tags.")},
		{Name: "ListTagsForResource: no such group", Call: awstest.Fails(c.ListTagsForResource, &cwl.ListTagsForResourceInput{
			ResourceArn: aws.String("arn:aws:logs:us-east-1:000000000000:log-group:nowhere")}),
			Want: awstest.BadRequest("ResourceNotFoundException", "The specified log group does not exist.")},
	})
}
