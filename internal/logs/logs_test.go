package logs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/clock"
)

func start(t *testing.T, opts ...awstest.Option) (*cwl.Client, *awstest.Server) {
	t.Helper()
	srv := awstest.Start(t, opts...)
	return cwl.NewFromConfig(srv.Config()), srv
}

// listing is a listing request and the names its pages hold, in order.
type listing[I any] struct {
	name string
	in   I
	want []string
}

// wantListings checks each listing's names against list, which returns
// the names of every page of a request.
func wantListings[I any](t *testing.T, list func(I) []string, tests []listing[I]) {
	t.Helper()
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, list(tt.in)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

// startWithStream runs overcast for the test, with a log group g that has a
// stream s, and returns a client of it.
func startWithStream(t *testing.T, opts ...awstest.Option) *cwl.Client {
	t.Helper()
	c, _ := start(t, opts...)
	createGroup(t, c, "g")
	createStream(t, c, "g", "s")
	return c
}

func createGroup(t *testing.T, c *cwl.Client, name string) {
	t.Helper()
	if _, err := c.CreateLogGroup(context.Background(), &cwl.CreateLogGroupInput{LogGroupName: aws.String(name)}); err != nil {
		t.Fatalf("CreateLogGroup %s: %v", name, err)
	}
}

func createStream(t *testing.T, c *cwl.Client, group, name string) {
	t.Helper()
	if _, err := c.CreateLogStream(context.Background(), &cwl.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(name)}); err != nil {
		t.Fatalf("CreateLogStream %s: %v", name, err)
	}
}

func put(t *testing.T, c *cwl.Client, group, stream string, events ...types.InputLogEvent) *cwl.PutLogEventsOutput {
	t.Helper()
	out, err := c.PutLogEvents(context.Background(), &cwl.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: events})
	if err != nil {
		t.Fatalf("PutLogEvents: %v", err)
	}
	return out
}

func ev(ts int64, msg string) types.InputLogEvent {
	return types.InputLogEvent{Timestamp: aws.Int64(ts), Message: aws.String(msg)}
}

func messages[E types.OutputLogEvent | types.FilteredLogEvent](events []E) []string {
	out := []string{}
	for _, e := range events {
		switch e := any(e).(type) {
		case types.OutputLogEvent:
			out = append(out, aws.ToString(e.Message))
		case types.FilteredLogEvent:
			out = append(out, aws.ToString(e.Message))
		}
	}
	return out
}

func TestLogGroups(t *testing.T) {
	ctx := context.Background()
	c, srv := start(t)
	_, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{
		LogGroupName:  aws.String("/app/web"),
		KmsKeyId:      aws.String("arn:aws:kms:us-east-1:000000000000:key/abc"),
		LogGroupClass: types.LogGroupClassInfrequentAccess,
		Tags:          map[string]string{"team": "web"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"/app/api", "/app/worker", "/other/x", "Alpha-Group"} {
		createGroup(t, c, n)
	}

	_, err = c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("/app/web")})
	var exists *types.ResourceAlreadyExistsException
	if !errors.As(err, &exists) {
		t.Errorf("duplicate group: got %v, want ResourceAlreadyExistsException", err)
	}
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceAlreadyExistsException", Message: "The specified log group already exists"})
	_, err = c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("bad name!")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Message: "Member must satisfy regular expression pattern"})
	_, err = c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("g"), LogGroupClass: "HOT"})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Message: "logGroupClass"})

	web := awstest.Call(t, c.DescribeLogGroups, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/app/web")})
	if len(web.LogGroups) != 1 {
		t.Fatalf("prefix /app/web: got %d groups, want 1", len(web.LogGroups))
	}
	g := web.LogGroups[0]
	got := []string{aws.ToString(g.LogGroupName), aws.ToString(g.Arn), aws.ToString(g.LogGroupArn), aws.ToString(g.KmsKeyId), string(g.LogGroupClass)}
	want := []string{"/app/web", "arn:aws:logs:us-east-1:000000000000:log-group:/app/web:*", "arn:aws:logs:us-east-1:000000000000:log-group:/app/web",
		"arn:aws:kms:us-east-1:000000000000:key/abc", "INFREQUENT_ACCESS"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("described group (-want +got):\n%s", diff)
	}
	if g.RetentionInDays != nil || aws.ToInt64(g.StoredBytes) != 0 || aws.ToInt64(g.CreationTime) == 0 {
		t.Errorf("group retention %v, storedBytes %v, creationTime %v; want none, 0, set", g.RetentionInDays, g.StoredBytes, g.CreationTime)
	}

	names := func(in *cwl.DescribeLogGroupsInput) []string {
		t.Helper()
		var out []string
		p := cwl.NewDescribeLogGroupsPaginator(c, in)
		for p.HasMorePages() {
			page := awstest.NextPage(t, p)
			if len(page.LogGroups) > int(aws.ToInt32(in.Limit)) && in.Limit != nil {
				t.Errorf("page of %d groups, limit %d", len(page.LogGroups), *in.Limit)
			}
			for _, g := range page.LogGroups {
				out = append(out, aws.ToString(g.LogGroupName))
			}
		}
		return out
	}
	wantListings(t, names, []listing[*cwl.DescribeLogGroupsInput]{
		{"all, pages of 2", &cwl.DescribeLogGroupsInput{Limit: aws.Int32(2)},
			[]string{"/app/api", "/app/web", "/app/worker", "/other/x", "Alpha-Group"}},
		{"prefix", &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/app/"), Limit: aws.Int32(1)},
			[]string{"/app/api", "/app/web", "/app/worker"}},
		{"pattern is a case-insensitive substring", &cwl.DescribeLogGroupsInput{LogGroupNamePattern: aws.String("W")},
			[]string{"/app/web", "/app/worker"}},
		{"class", &cwl.DescribeLogGroupsInput{LogGroupClass: types.LogGroupClassInfrequentAccess}, []string{"/app/web"}},
	})

	_, err = c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("a"), LogGroupNamePattern: aws.String("b")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Message: "mutually exclusive"})
	_, err = c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{Limit: aws.Int32(51)})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Message: "less than or equal to 50"})
	_, err = c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{NextToken: aws.String("!!")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Message: "nextToken"})

	list := awstest.Call(t, c.ListLogGroups, &cwl.ListLogGroupsInput{LogGroupNamePattern: aws.String("^/app/w")})
	var listed []string
	for _, g := range list.LogGroups {
		listed = append(listed, aws.ToString(g.LogGroupName)+" "+aws.ToString(g.LogGroupArn))
	}
	if diff := cmp.Diff([]string{"/app/web arn:aws:logs:us-east-1:000000000000:log-group:/app/web",
		"/app/worker arn:aws:logs:us-east-1:000000000000:log-group:/app/worker"}, listed); diff != "" {
		t.Errorf("ListLogGroups (-want +got):\n%s", diff)
	}

	// Groups are per account and region.
	for _, other := range []*cwl.Client{
		cwl.NewFromConfig(srv.Config(), func(o *cwl.Options) { o.Region = "eu-west-1" }),
		cwl.NewFromConfig(srv.ConfigWith("123456789012", "secret", "")),
	} {
		out := awstest.Call(t, other.DescribeLogGroups, &cwl.DescribeLogGroupsInput{})
		if len(out.LogGroups) != 0 {
			t.Errorf("another account or region sees %d groups, want 0", len(out.LogGroups))
		}
		if _, err := other.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("/app/web")}); err != nil {
			t.Errorf("the same name elsewhere: %v", err)
		}
	}

	// An ARN reaches only the caller's own account and region.
	_, err = c.ListTagsForResource(ctx, &cwl.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:logs:us-east-1:123456789012:log-group:/app/web")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Message: "The specified log group does not exist."})
	_, err = c.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: aws.String("arn:aws:logs:us-east-1:000000000000:log-group:/app/web")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Message: "logGroupName"})

	// Deletion protection blocks deletion until lifted.
	if _, err := c.PutLogGroupDeletionProtection(ctx, &cwl.PutLogGroupDeletionProtectionInput{
		LogGroupIdentifier: aws.String("/app/web"), DeletionProtectionEnabled: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: aws.String("/app/web")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidOperationException", Message: "deletion protection"})
	if _, err := c.PutLogGroupDeletionProtection(ctx, &cwl.PutLogGroupDeletionProtectionInput{
		LogGroupIdentifier: aws.String("/app/web"), DeletionProtectionEnabled: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: aws.String("/app/web")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: aws.String("/app/web")})
	var notFound *types.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		t.Errorf("deleting twice: got %v, want ResourceNotFoundException", err)
	}
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Message: "The specified log group does not exist."})
	if got := names(&cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/app/")}); !cmp.Equal(got, []string{"/app/api", "/app/worker"}) {
		t.Errorf("after delete: got %v", got)
	}
}

func TestLogStreams(t *testing.T) {
	ctx := context.Background()
	c, _ := start(t)
	createGroup(t, c, "g")
	for _, n := range []string{"web/1", "web/2", "api/1", "api/2", "idle"} {
		createStream(t, c, "g", n)
	}
	_, err := c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("web/1")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceAlreadyExistsException", Message: "The specified log stream already exists"})
	_, err = c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("nope"), LogStreamName: aws.String("s")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Message: "The specified log group does not exist."})
	_, err = c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("a:b")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Message: "[^:*]*"})

	now := time.Now().UnixMilli()
	// Last event times: api/2 oldest, then web/2, then web/1, then api/1.
	put(t, c, "g", "api/2", ev(now-4000, "a2"))
	put(t, c, "g", "web/2", ev(now-3000, "w2"))
	put(t, c, "g", "web/1", ev(now-5000, "w1-first"), ev(now-2000, "w1-last"))
	put(t, c, "g", "api/1", ev(now-1000, "a1"))

	list := func(in *cwl.DescribeLogStreamsInput) []string {
		t.Helper()
		in.LogGroupName = aws.String("g")
		var out []string
		p := cwl.NewDescribeLogStreamsPaginator(c, in)
		for p.HasMorePages() {
			for _, s := range awstest.NextPage(t, p).LogStreams {
				out = append(out, aws.ToString(s.LogStreamName))
			}
		}
		return out
	}
	wantListings(t, list, []listing[*cwl.DescribeLogStreamsInput]{
		{"by name", &cwl.DescribeLogStreamsInput{Limit: aws.Int32(2)}, []string{"api/1", "api/2", "idle", "web/1", "web/2"}},
		{"by name descending", &cwl.DescribeLogStreamsInput{Descending: aws.Bool(true), Limit: aws.Int32(2)}, []string{"web/2", "web/1", "idle", "api/2", "api/1"}},
		{"prefix", &cwl.DescribeLogStreamsInput{LogStreamNamePrefix: aws.String("web/"), Limit: aws.Int32(1)}, []string{"web/1", "web/2"}},
		{"prefix descending", &cwl.DescribeLogStreamsInput{LogStreamNamePrefix: aws.String("api"), Descending: aws.Bool(true)}, []string{"api/2", "api/1"}},
		{"by last event time", &cwl.DescribeLogStreamsInput{OrderBy: types.OrderByLastEventTime, Limit: aws.Int32(2)}, []string{"idle", "api/2", "web/2", "web/1", "api/1"}},
		{"latest first", &cwl.DescribeLogStreamsInput{OrderBy: types.OrderByLastEventTime, Descending: aws.Bool(true), Limit: aws.Int32(3)}, []string{"api/1", "web/1", "web/2", "api/2", "idle"}},
	})
	_, err = c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("g"), OrderBy: types.OrderByLastEventTime, LogStreamNamePrefix: aws.String("w")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Message: "Cannot order by LastEventTime with a logStreamNamePrefix."})
	_, err = c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("nope")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Message: "The specified log group does not exist."})
	_, err = c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Message: "LogGroupName"})

	// Counters, and the group named by ARN.
	out := awstest.Call(t, c.DescribeLogStreams, &cwl.DescribeLogStreamsInput{
		LogGroupIdentifier: aws.String("arn:aws:logs:us-east-1:000000000000:log-group:g"), LogStreamNamePrefix: aws.String("web/1")})
	s := out.LogStreams[0]
	if aws.ToInt64(s.FirstEventTimestamp) != now-5000 || aws.ToInt64(s.LastEventTimestamp) != now-2000 ||
		aws.ToInt64(s.StoredBytes) != int64(len("w1-first")+len("w1-last")) || aws.ToInt64(s.LastIngestionTime) < now-60_000 ||
		aws.ToString(s.Arn) != "arn:aws:logs:us-east-1:000000000000:log-group:g:log-stream:web/1" {
		t.Errorf("web/1: first %v last %v bytes %v ingestion %v arn %v", aws.ToInt64(s.FirstEventTimestamp), aws.ToInt64(s.LastEventTimestamp),
			aws.ToInt64(s.StoredBytes), aws.ToInt64(s.LastIngestionTime), aws.ToString(s.Arn))
	}
	idle := awstest.Call(t, c.DescribeLogStreams, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("g"), LogStreamNamePrefix: aws.String("idle")}).LogStreams[0]
	if idle.FirstEventTimestamp != nil || idle.LastEventTimestamp != nil || aws.ToInt64(idle.CreationTime) == 0 {
		t.Errorf("idle stream: first %v last %v created %v, want no event times", idle.FirstEventTimestamp, idle.LastEventTimestamp, idle.CreationTime)
	}
	groups := awstest.Call(t, c.DescribeLogGroups, &cwl.DescribeLogGroupsInput{})
	if got, want := aws.ToInt64(groups.LogGroups[0].StoredBytes), int64(len("a2w2w1-firstw1-lasta1")); got != want {
		t.Errorf("group storedBytes: got %d, want %d", got, want)
	}

	if _, err := c.DeleteLogStream(ctx, &cwl.DeleteLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("web/1")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteLogStream(ctx, &cwl.DeleteLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("web/1")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Message: "The specified log stream does not exist."})
	// A new stream of the same name starts empty.
	createStream(t, c, "g", "web/1")
	got := awstest.Call(t, c.GetLogEvents, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("web/1")})
	if len(got.Events) != 0 {
		t.Errorf("re-created stream has %d events, want 0", len(got.Events))
	}
}

func TestRetentionPolicyAndTags(t *testing.T) {
	ctx := context.Background()
	c, _ := start(t)
	createGroup(t, c, "g")
	retention := func() *int32 {
		return awstest.Call(t, c.DescribeLogGroups, &cwl.DescribeLogGroupsInput{}).LogGroups[0].RetentionInDays
	}
	if _, err := c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	if got := aws.ToInt32(retention()); got != 30 {
		t.Errorf("retention: got %d, want 30", got)
	}
	for _, bad := range []int32{0, 2, 4000} {
		t.Run(fmt.Sprint("retention ", bad), func(t *testing.T) {
			_, err := c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(bad)})
			awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Message: "Member must satisfy enum value set: [1, 3, 5, 7, 14, 30"})
		})
	}
	_, err := c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("nope"), RetentionInDays: aws.Int32(1)})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Message: "The specified log group does not exist."})
	if _, err := c.DeleteRetentionPolicy(ctx, &cwl.DeleteRetentionPolicyInput{LogGroupName: aws.String("g")}); err != nil {
		t.Fatal(err)
	}
	if got := retention(); got != nil {
		t.Errorf("retention after delete: got %d, want none", *got)
	}

	// Name-based tagging.
	if _, err := c.TagLogGroup(ctx, &cwl.TagLogGroupInput{LogGroupName: aws.String("g"), Tags: map[string]string{"a": "1", "b": "2"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagLogGroup(ctx, &cwl.UntagLogGroupInput{LogGroupName: aws.String("g"), Tags: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	tags := awstest.Call(t, c.ListTagsLogGroup, &cwl.ListTagsLogGroupInput{LogGroupName: aws.String("g")}).Tags
	if diff := cmp.Diff(map[string]string{"b": "2"}, tags); diff != "" {
		t.Errorf("ListTagsLogGroup (-want +got):\n%s", diff)
	}
	_, err = c.ListTagsLogGroup(ctx, &cwl.ListTagsLogGroupInput{LogGroupName: aws.String("nope")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Message: "The specified log group does not exist."})

	// ARN-based tagging. The ARN DescribeLogGroups reports ends in ":*",
	// which the model's pattern for resourceArn refuses, as AWS does.
	arn := "arn:aws:logs:us-east-1:000000000000:log-group:g"
	if _, err := c.TagResource(ctx, &cwl.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"c": "3"}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.UntagResource(ctx, &cwl.UntagResourceInput{ResourceArn: aws.String(arn + ":*"), TagKeys: []string{"b"}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException",
		Message: `1 validation error detected: Value '` + arn + `:*' at 'resourceArn' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=/:,.@-]*`})
	if _, err := c.UntagResource(ctx, &cwl.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"b"}}); err != nil {
		t.Fatal(err)
	}
	tags = awstest.Call(t, c.ListTagsForResource, &cwl.ListTagsForResourceInput{ResourceArn: aws.String(arn)}).Tags
	if diff := cmp.Diff(map[string]string{"c": "3"}, tags); diff != "" {
		t.Errorf("ListTagsForResource (-want +got):\n%s", diff)
	}
	_, err = c.ListTagsForResource(ctx, &cwl.ListTagsForResourceInput{ResourceArn: aws.String(arn + "x")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Message: "The specified log group does not exist."})
	_, err = c.TagResource(ctx, &cwl.TagResourceInput{ResourceArn: aws.String("not-an-arn"), Tags: map[string]string{"c": "3"}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Message: "resourceArn"})
	_, err = c.TagResource(ctx, &cwl.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"aws:x": "3"}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Message: "aws:"})
	many := map[string]string{}
	for i := range 50 {
		many[fmt.Sprint("k", i)] = "v"
	}
	_, err = c.TagResource(ctx, &cwl.TagResourceInput{ResourceArn: aws.String(arn), Tags: many})
	var tooMany *types.TooManyTagsException
	if !errors.As(err, &tooMany) || aws.ToString(tooMany.ResourceName) != arn {
		t.Errorf("51 tags: got %v, want TooManyTagsException naming %s", err, arn)
	}
}

func TestPutLogEventsRules(t *testing.T) {
	ctx := context.Background()
	fake := clock.NewFake(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	c := startWithStream(t, awstest.Clock(fake))
	t0 := fake.Now().UnixMilli()
	const hour = int64(time.Hour / time.Millisecond)

	// Sequence tokens are ignored, whatever they say.
	out, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"),
		SequenceToken: aws.String("bogus"), LogEvents: []types.InputLogEvent{ev(t0, "one")}})
	if err != nil || out.NextSequenceToken == nil || out.RejectedLogEventsInfo != nil {
		t.Fatalf("PutLogEvents with a stale token: %v, %+v", err, out)
	}

	const day = 24 * hour
	out = put(t, c, "g", "s", ev(t0-14*day-hour, "too old"), ev(t0-14*day-hour+1, "too old"), ev(t0-14*day+hour, "old but kept"))
	want := &types.RejectedLogEventsInfo{TooOldLogEventEndIndex: aws.Int32(1)}
	if diff := cmp.Diff(want, out.RejectedLogEventsInfo, cmp.AllowUnexported(types.RejectedLogEventsInfo{})); diff != "" {
		t.Errorf("too old (-want +got):\n%s", diff)
	}
	out = put(t, c, "g", "s", ev(t0-1, "kept"), ev(t0+3*hour, "too new"), ev(t0+3*hour+1, "too new"))
	want = &types.RejectedLogEventsInfo{TooNewLogEventStartIndex: aws.Int32(1)}
	if diff := cmp.Diff(want, out.RejectedLogEventsInfo, cmp.AllowUnexported(types.RejectedLogEventsInfo{})); diff != "" {
		t.Errorf("too new (-want +got):\n%s", diff)
	}
	if _, err := c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	out = put(t, c, "g", "s", ev(t0-day-hour, "expired"), ev(t0-day+hour, "kept after retention"))
	want = &types.RejectedLogEventsInfo{ExpiredLogEventEndIndex: aws.Int32(0)}
	if diff := cmp.Diff(want, out.RejectedLogEventsInfo, cmp.AllowUnexported(types.RejectedLogEventsInfo{})); diff != "" {
		t.Errorf("expired (-want +got):\n%s", diff)
	}

	batch := func(n int, size int) []types.InputLogEvent {
		evs := make([]types.InputLogEvent, n)
		for i := range evs {
			evs[i] = ev(t0, strings.Repeat("x", size))
		}
		return evs
	}
	refused := func(name, group, stream string, events []types.InputLogEvent, code, msg string) awstest.ErrorCase {
		return awstest.ErrorCase{Name: name, Want: awstest.APIError{Code: code, Message: msg},
			Call: awstest.Fails(c.PutLogEvents, &cwl.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: events})}
	}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		refused("out of order", "g", "s", []types.InputLogEvent{ev(t0, "b"), ev(t0-1, "a")},
			"InvalidParameterException", "Log events in a single PutLogEvents request must be in chronological order."),
		refused("over 24 hours", "g", "s", []types.InputLogEvent{ev(t0-25*hour, "a"), ev(t0, "b")},
			"InvalidParameterException", "cannot span more than 24 hours"),
		refused("10,001 events", "g", "s", batch(10_001, 1), "InvalidParameterException", "less than or equal to 10000"),
		refused("over 1 MiB with overhead", "g", "s", batch(2, 1_048_576/2-25), "InvalidParameterException", "Upload too large: 1048578 bytes exceeds limit of 1048576"),
		refused("empty message", "g", "s", []types.InputLogEvent{ev(t0, "")}, "InvalidParameterException", "logEvents.1.member.message"),
		refused("no events", "g", "s", []types.InputLogEvent{}, "InvalidParameterException", "logEvents"),
		refused("missing group", "nope", "s", batch(1, 1), "ResourceNotFoundException", "The specified log group does not exist."),
		refused("missing stream", "g", "nope", batch(1, 1), "ResourceNotFoundException", "The specified log stream does not exist."),
	})
	// Exactly at the limits is fine.
	put(t, c, "g", "s", batch(10_000, 1)...)
	put(t, c, "g", "s", batch(2, 1_048_576/2-26)...)

	got := awstest.Call(t, c.GetLogEvents, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true), Limit: aws.Int32(3)})
	if diff := cmp.Diff([]string{"kept after retention", "kept", "one"}, messages(got.Events)); diff != "" {
		t.Errorf("stored events (-want +got):\n%s", diff)
	}
}

func TestGetLogEventsTokens(t *testing.T) {
	ctx := context.Background()
	c := startWithStream(t)
	createStream(t, c, "g", "empty")
	base := time.Now().Add(-time.Hour).UnixMilli()
	var all []string
	var evs []types.InputLogEvent
	for i := range 25 {
		msg := fmt.Sprintf("event %02d", i)
		all = append(all, msg)
		evs = append(evs, ev(base+int64(i/2), msg)) // pairs share a timestamp
	}
	put(t, c, "g", "s", evs...)
	in := func(mod func(*cwl.GetLogEventsInput)) *cwl.GetLogEventsInput {
		in := &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s")}
		if mod != nil {
			mod(in)
		}
		return in
	}

	// Forward from the head with the SDK paginator: it must terminate, on
	// the repeated token, having seen every event once.
	var got []string
	pages := 0
	p := cwl.NewGetLogEventsPaginator(c, in(func(in *cwl.GetLogEventsInput) { in.StartFromHead = aws.Bool(true) }),
		func(o *cwl.GetLogEventsPaginatorOptions) { o.Limit = 10; o.StopOnDuplicateToken = true })
	for p.HasMorePages() {
		if pages++; pages > 10 {
			t.Fatal("GetLogEvents paginator does not terminate")
		}
		got = append(got, messages(awstest.NextPage(t, p).Events)...)
	}
	if diff := cmp.Diff(all, got); diff != "" {
		t.Errorf("paginated forward (-want +got):\n%s", diff)
	}
	if pages != 4 { // 10 + 10 + 5 + the empty page that returns the same token
		t.Errorf("pages: got %d, want 4", pages)
	}

	// Without startFromHead the first page is the newest events; backward
	// tokens then walk to the start, and repeat once there.
	page := awstest.Call(t, c.GetLogEvents, in(func(in *cwl.GetLogEventsInput) { in.Limit = aws.Int32(10) }))
	if diff := cmp.Diff(all[15:], messages(page.Events)); diff != "" {
		t.Errorf("tail page (-want +got):\n%s", diff)
	}
	if f, b := aws.ToString(page.NextForwardToken), aws.ToString(page.NextBackwardToken); !strings.HasPrefix(f, "f/") || !strings.HasPrefix(b, "b/") || len(f) != 58 {
		t.Errorf("tokens %q %q, want f/<56 digits> and b/<56 digits>", f, b)
	}
	forward := page.NextForwardToken
	var back []string
	tok := page.NextBackwardToken
	for range 10 {
		page := awstest.Call(t, c.GetLogEvents, in(func(in *cwl.GetLogEventsInput) { in.Limit = aws.Int32(10); in.NextToken = tok }))
		if aws.ToString(page.NextBackwardToken) == aws.ToString(tok) {
			if len(page.Events) != 0 {
				t.Errorf("repeated backward token with %d events", len(page.Events))
			}
			break
		}
		back = append(messages(page.Events), back...)
		tok = page.NextBackwardToken
	}
	if diff := cmp.Diff(all[:15], back); diff != "" {
		t.Errorf("walking backward (-want +got):\n%s", diff)
	}

	// At the end, the forward token comes back unchanged until new events
	// arrive, and then it returns exactly those.
	page = awstest.Call(t, c.GetLogEvents, in(func(in *cwl.GetLogEventsInput) { in.NextToken = forward }))
	if len(page.Events) != 0 || aws.ToString(page.NextForwardToken) != aws.ToString(forward) {
		t.Errorf("at the end: %d events, token %s, want none and %s", len(page.Events), aws.ToString(page.NextForwardToken), aws.ToString(forward))
	}
	put(t, c, "g", "s", ev(base+100, "later"))
	page = awstest.Call(t, c.GetLogEvents, in(func(in *cwl.GetLogEventsInput) { in.NextToken = forward }))
	if diff := cmp.Diff([]string{"later"}, messages(page.Events)); diff != "" {
		t.Errorf("after a new event (-want +got):\n%s", diff)
	}

	// Time bounds: startTime inclusive, endTime exclusive.
	page = awstest.Call(t, c.GetLogEvents, in(func(in *cwl.GetLogEventsInput) {
		in.StartTime, in.EndTime, in.StartFromHead = aws.Int64(base+2), aws.Int64(base+4), aws.Bool(true)
	}))
	if diff := cmp.Diff(all[4:8], messages(page.Events)); diff != "" {
		t.Errorf("time range (-want +got):\n%s", diff)
	}
	e := page.Events[0]
	if aws.ToInt64(e.Timestamp) != base+2 || aws.ToInt64(e.IngestionTime) < base {
		t.Errorf("event timestamp %d ingestion %d", aws.ToInt64(e.Timestamp), aws.ToInt64(e.IngestionTime))
	}

	// An empty stream answers with tokens that repeat.
	page = awstest.Call(t, c.GetLogEvents, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("empty")})
	again := awstest.Call(t, c.GetLogEvents, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("empty"), NextToken: page.NextForwardToken})
	if len(page.Events)+len(again.Events) != 0 || aws.ToString(again.NextForwardToken) != aws.ToString(page.NextForwardToken) {
		t.Errorf("empty stream: tokens %s then %s", aws.ToString(page.NextForwardToken), aws.ToString(again.NextForwardToken))
	}

	_, err := c.GetLogEvents(ctx, in(func(in *cwl.GetLogEventsInput) { in.NextToken = aws.String("f/12") }))
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Message: "nextToken"})
	_, err = c.GetLogEvents(ctx, in(func(in *cwl.GetLogEventsInput) { in.Limit = aws.Int32(10_001) }))
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Message: "less than or equal to 10000"})
	_, err = c.GetLogEvents(ctx, in(func(in *cwl.GetLogEventsInput) { in.LogStreamName = aws.String("nope") }))
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Message: "The specified log stream does not exist."})
	_, err = c.GetLogEvents(ctx, in(func(in *cwl.GetLogEventsInput) { in.LogGroupName = aws.String("nope") }))
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Message: "The specified log group does not exist."})
}

func TestGetLogEventsResponseSize(t *testing.T) {
	c := startWithStream(t)
	now := time.Now().UnixMilli()
	big := strings.Repeat("x", 200_000)
	for range 3 {
		put(t, c, "g", "s", ev(now, big), ev(now, big))
	}
	out := awstest.Call(t, c.GetLogEvents, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true)})
	if len(out.Events) != 5 { // 5 × 200,026 bytes fit in 1 MiB, 6 do not
		t.Errorf("got %d events of 200 KB, want 5", len(out.Events))
	}
}

func TestFilterLogEvents(t *testing.T) {
	c, _ := start(t)
	createGroup(t, c, "g")
	base := time.Now().Add(-time.Hour).UnixMilli()
	streams := []struct {
		name   string
		events []types.InputLogEvent
	}{
		{"web/1", []types.InputLogEvent{ev(base+1, `ERROR web one`), ev(base+4, `{"level":"INFO","ms":12}`), ev(base+7, `{"level":"ERROR","ms":900}`)}},
		{"web/2", []types.InputLogEvent{ev(base+2, `WARN web two`), ev(base+4, `ERROR timeout`), ev(base+8, `INFO done`)}},
		{"api/1", []types.InputLogEvent{ev(base+3, `ERROR api exiting`), ev(base+5, `{"level":"ERROR","ms":5}`), ev(base+9, `INFO api done`)}},
	}
	for _, s := range streams {
		createStream(t, c, "g", s.name)
		put(t, c, "g", s.name, s.events...)
	}
	createStream(t, c, "g", "empty")

	filter := func(in *cwl.FilterLogEventsInput) ([]string, []string) {
		t.Helper()
		in.LogGroupName = aws.String("g")
		var msgs, ids []string
		p := cwl.NewFilterLogEventsPaginator(c, in)
		for pages := 0; p.HasMorePages(); pages++ {
			if pages > 50 {
				t.Fatal("FilterLogEvents paginator does not terminate")
			}
			out := awstest.NextPage(t, p)
			for _, e := range out.Events {
				msgs = append(msgs, aws.ToString(e.LogStreamName)+": "+aws.ToString(e.Message))
				ids = append(ids, aws.ToString(e.EventId))
			}
		}
		return msgs, ids
	}
	tests := []struct {
		name string
		in   *cwl.FilterLogEventsInput
		want []string
	}{
		{"all, interleaved by time, pages of 2", &cwl.FilterLogEventsInput{Limit: aws.Int32(2)}, []string{
			"web/1: ERROR web one", "web/2: WARN web two", "api/1: ERROR api exiting",
			// base+4 in two streams: ordered by stream creation.
			`web/1: {"level":"INFO","ms":12}`, `web/2: ERROR timeout`,
			`api/1: {"level":"ERROR","ms":5}`, `web/1: {"level":"ERROR","ms":900}`, "web/2: INFO done", "api/1: INFO api done"}},
		{"terms", &cwl.FilterLogEventsInput{FilterPattern: aws.String("ERROR web")}, []string{"web/1: ERROR web one"}},
		{"exclusion", &cwl.FilterLogEventsInput{FilterPattern: aws.String(`ERROR -exiting -timeout -level`)}, []string{"web/1: ERROR web one"}},
		{"or terms", &cwl.FilterLogEventsInput{FilterPattern: aws.String(`?WARN ?timeout`)}, []string{"web/2: WARN web two", "web/2: ERROR timeout"}},
		{"phrase", &cwl.FilterLogEventsInput{FilterPattern: aws.String(`"api done"`)}, []string{"api/1: INFO api done"}},
		{"json", &cwl.FilterLogEventsInput{FilterPattern: aws.String(`{ $.level = "ERROR" && $.ms > 100 }`)}, []string{`web/1: {"level":"ERROR","ms":900}`}},
		{"json, one per page", &cwl.FilterLogEventsInput{FilterPattern: aws.String(`{ $.level = "*" }`), Limit: aws.Int32(1)},
			[]string{`web/1: {"level":"INFO","ms":12}`, `api/1: {"level":"ERROR","ms":5}`, `web/1: {"level":"ERROR","ms":900}`}},
		{"stream names", &cwl.FilterLogEventsInput{LogStreamNames: []string{"api/1", "nope"}, FilterPattern: aws.String("INFO")}, []string{"api/1: INFO api done"}},
		{"stream prefix", &cwl.FilterLogEventsInput{LogStreamNamePrefix: aws.String("web/"), FilterPattern: aws.String("ERROR")},
			[]string{"web/1: ERROR web one", "web/2: ERROR timeout", `web/1: {"level":"ERROR","ms":900}`}},
		{"time range", &cwl.FilterLogEventsInput{StartTime: aws.Int64(base + 4), EndTime: aws.Int64(base + 6)},
			[]string{`web/1: {"level":"INFO","ms":12}`, `web/2: ERROR timeout`, `api/1: {"level":"ERROR","ms":5}`}},
	}
	for _, tt := range tests {
		got, ids := filter(tt.in)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
		seen := map[string]bool{}
		for _, id := range ids {
			if seen[id] || len(id) != 56 {
				t.Errorf("%s: eventId %q repeated or not 56 digits", tt.name, id)
			}
			seen[id] = true
		}
	}

	out := awstest.Call(t, c.FilterLogEvents, &cwl.FilterLogEventsInput{LogGroupName: aws.String("g"), LogStreamNamePrefix: aws.String("web/")})
	var searched []string
	for _, s := range out.SearchedLogStreams {
		searched = append(searched, aws.ToString(s.LogStreamName))
		if !aws.ToBool(s.SearchedCompletely) {
			t.Errorf("%s not searched completely", aws.ToString(s.LogStreamName))
		}
	}
	if diff := cmp.Diff([]string{"web/1", "web/2"}, searched); diff != "" {
		t.Errorf("searchedLogStreams (-want +got):\n%s", diff)
	}

	refused := func(name string, in *cwl.FilterLogEventsInput, code, msg string) awstest.ErrorCase {
		return awstest.ErrorCase{Name: name, Call: awstest.Fails(c.FilterLogEvents, in), Want: awstest.APIError{Code: code, Message: msg}}
	}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		refused("names and prefix", &cwl.FilterLogEventsInput{LogGroupName: aws.String("g"), LogStreamNames: []string{"a"}, LogStreamNamePrefix: aws.String("a")},
			"InvalidParameterException", "You cannot specify both"),
		refused("bad pattern", &cwl.FilterLogEventsInput{LogGroupName: aws.String("g"), FilterPattern: aws.String(`{ $.a = `)}, "InvalidParameterException", "If a filter pattern starts with '{' it must end with '}'"),
		refused("bad token", &cwl.FilterLogEventsInput{LogGroupName: aws.String("g"), NextToken: aws.String("x")}, "InvalidParameterException", "nextToken"),
		refused("missing group", &cwl.FilterLogEventsInput{LogGroupName: aws.String("nope")}, "ResourceNotFoundException", "The specified log group does not exist."),
		refused("name and identifier", &cwl.FilterLogEventsInput{LogGroupName: aws.String("g"), LogGroupIdentifier: aws.String("g")}, "InvalidParameterException", "mutually exclusive"),
	})
}

// TestRetentionApplied drives the clock: expired events disappear from
// reads at once, and the retention controller then deletes them (storedBytes drops).
func TestRetentionApplied(t *testing.T) {
	ctx := context.Background()
	fake := clock.NewFake(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	c := startWithStream(t, awstest.Clock(fake))
	t0 := fake.Now().UnixMilli()
	const day = int64(24 * time.Hour / time.Millisecond)
	put(t, c, "g", "s", ev(t0-3*day, "three days old"))
	put(t, c, "g", "s", ev(t0-day/2, "half a day old"))
	get := func() []string {
		t.Helper()
		out := awstest.Call(t, c.GetLogEvents, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true)})
		f := awstest.Call(t, c.FilterLogEvents, &cwl.FilterLogEventsInput{LogGroupName: aws.String("g")})
		if diff := cmp.Diff(messages(out.Events), messages(f.Events)); diff != "" {
			t.Errorf("GetLogEvents and FilterLogEvents disagree (-get +filter):\n%s", diff)
		}
		return messages(out.Events)
	}
	storedBytes := func() int64 {
		t.Helper()
		return aws.ToInt64(awstest.Call(t, c.DescribeLogStreams, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("g")}).LogStreams[0].StoredBytes)
	}
	waitBytes := func(want int64) {
		t.Helper()
		awstest.WaitFor(t, fmt.Sprintf("storedBytes %d (the retention controller deleting expired events)", want),
			func() bool { return storedBytes() == want })
	}
	if diff := cmp.Diff([]string{"three days old", "half a day old"}, get()); diff != "" {
		t.Errorf("before retention (-want +got):\n%s", diff)
	}

	if _, err := c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"half a day old"}, get()); diff != "" {
		t.Errorf("with 1-day retention (-want +got):\n%s", diff)
	}
	waitBytes(int64(len("half a day old")))

	// A day later the other one has expired too; reads hide it at once,
	// and the controller's next look (every minute of the clock) deletes it.
	fake.Advance(24 * time.Hour)
	if got := get(); len(got) != 0 {
		t.Errorf("a day later: got %v, want nothing", got)
	}
	waitBytes(0)
	groups := awstest.Call(t, c.DescribeLogGroups, &cwl.DescribeLogGroupsInput{})
	if got := aws.ToInt64(groups.LogGroups[0].StoredBytes); got != 0 {
		t.Errorf("group storedBytes: got %d, want 0", got)
	}
}

func TestRestart(t *testing.T) {
	ctx := context.Background()
	c, srv := start(t)
	_, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("g"), Tags: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	createStream(t, c, "g", "s")
	if _, err := c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	put(t, c, "g", "s", ev(now-2, "before"), ev(now-1, "restart"))
	snapshot := func(c *cwl.Client) []any {
		groups := awstest.Call(t, c.DescribeLogGroups, &cwl.DescribeLogGroupsInput{}).LogGroups
		streams := awstest.Call(t, c.DescribeLogStreams, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("g")}).LogStreams
		events := awstest.Call(t, c.GetLogEvents, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s")})
		tags := awstest.Call(t, c.ListTagsLogGroup, &cwl.ListTagsLogGroupInput{LogGroupName: aws.String("g")}).Tags
		return []any{groups, streams, events.Events, events.NextForwardToken, tags}
	}
	before := snapshot(c)
	srv.Restart(t)
	c = cwl.NewFromConfig(srv.Config())
	after := snapshot(c)
	opts := cmp.Options{cmp.AllowUnexported(types.LogGroup{}, types.LogStream{}, types.OutputLogEvent{})}
	if diff := cmp.Diff(before, after, opts); diff != "" {
		t.Errorf("after restart (-before +after):\n%s", diff)
	}
}

// TestValidationWording checks the model's constraints as the codec words
// them for Logs, the first case as AWS answered it
// (fluent-plugin-cloudwatch-logs#223).
func TestValidationWording(t *testing.T) {
	ctx := context.Background()
	c, _ := start(t)
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"pattern before length", func() error {
			_, err := c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("")})
			return err
		}, `2 validation errors detected: Value '' at 'logGroupNamePrefix' failed to satisfy constraint: Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+; ` +
			`Value '' at 'logGroupNamePrefix' failed to satisfy constraint: Member must have length greater than or equal to 1`},
		{"enum", func() error {
			_, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("g"), LogGroupClass: "HOT"})
			return err
		}, `1 validation error detected: Value 'HOT' at 'logGroupClass' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]`},
		{"no events", func() error {
			_, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), LogEvents: []types.InputLogEvent{}})
			return err
		}, `1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1`},
		{"page size", func() error {
			_, err := c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("g"), Limit: aws.Int32(51)})
			return err
		}, `1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ae smithy.APIError
			if err := tt.call(); !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterException" {
				t.Fatalf("got %v, want InvalidParameterException", err)
			}
			if diff := cmp.Diff(tt.want, ae.ErrorMessage()); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
		})
	}
}
