package cloudtrail_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ct "github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/childtest"
	"overcast/internal/clock"
)

// trailPolicy is the bucket policy AWS documents for trails, for the
// default account.
const trailPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
     "Resource": "arn:aws:s3:::%[1]s"},
    {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
     "Resource": "arn:aws:s3:::%[1]s/*AWSLogs/000000000000/*",
     "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}
  ]
}`

func s3Client(srv *awstest.Server, cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

func createBucket(t *testing.T, c *s3.Client, name, policy string) {
	t.Helper()
	ctx := context.Background()
	awstest.Call(t, c.CreateBucket, &s3.CreateBucketInput{Bucket: aws.String(name)})
	if policy != "" {
		if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(name), Policy: aws.String(fmt.Sprintf(policy, name))}); err != nil {
			t.Fatal(err)
		}
	}
}

// lookup returns the events LookupEvents finds with one attribute.
func lookup(t *testing.T, c *ct.Client, key types.LookupAttributeKey, value string) []types.Event {
	t.Helper()
	out := awstest.Call(t, c.LookupEvents, &ct.LookupEventsInput{LookupAttributes: []types.LookupAttribute{
		{AttributeKey: key, AttributeValue: aws.String(value)}}})
	return out.Events
}

// record is the part of a CloudTrail record the tests read.
type record struct {
	EventVersion string `json:"eventVersion"`
	UserIdentity struct {
		Type        string `json:"type"`
		PrincipalID string `json:"principalId"`
		ARN         string `json:"arn"`
		AccountID   string `json:"accountId"`
		AccessKeyID string `json:"accessKeyId"`
		UserName    string `json:"userName"`
	} `json:"userIdentity"`
	EventSource        string          `json:"eventSource"`
	EventName          string          `json:"eventName"`
	AWSRegion          string          `json:"awsRegion"`
	SourceIPAddress    string          `json:"sourceIPAddress"`
	UserAgent          string          `json:"userAgent"`
	ErrorCode          string          `json:"errorCode"`
	ErrorMessage       string          `json:"errorMessage"`
	RequestParameters  json.RawMessage `json:"requestParameters"`
	ResponseElements   json.RawMessage `json:"responseElements"`
	RequestID          string          `json:"requestID"`
	EventID            string          `json:"eventID"`
	ReadOnly           bool            `json:"readOnly"`
	EventType          string          `json:"eventType"`
	ManagementEvent    bool            `json:"managementEvent"`
	RecipientAccountID string          `json:"recipientAccountId"`
}

func parse(t *testing.T, ev types.Event) record {
	t.Helper()
	var r record
	if err := json.Unmarshal([]byte(aws.ToString(ev.CloudTrailEvent)), &r); err != nil {
		t.Fatalf("CloudTrailEvent: %v", err)
	}
	return r
}

// TestLookupEventsFindsTheCall: a call is in the event history at once,
// with its caller (an IAM user with an access key), where it came from,
// what it asked and what it was answered.
func TestLookupEventsFindsTheCall(t *testing.T) {
	ctx := context.Background()
	srv := awstest.Start(t)
	root := iam.NewFromConfig(srv.Config())
	awstest.Call(t, root.CreateUser, &iam.CreateUserInput{UserName: aws.String("dev")})
	key := awstest.Call(t, root.CreateAccessKey, &iam.CreateAccessKeyInput{UserName: aws.String("dev")}).AccessKey
	dev := srv.ConfigWith(*key.AccessKeyId, *key.SecretAccessKey, "")
	createBucket(t, s3Client(srv, dev), "audited", "")

	c := ct.NewFromConfig(srv.Config())
	events := lookup(t, c, types.LookupAttributeKeyEventName, "CreateBucket")
	if len(events) != 1 {
		t.Fatalf("got %d CreateBucket events, want 1", len(events))
	}
	ev := events[0]
	got := []string{aws.ToString(ev.EventName), aws.ToString(ev.EventSource), aws.ToString(ev.Username), aws.ToString(ev.AccessKeyId), aws.ToString(ev.ReadOnly)}
	want := []string{"CreateBucket", "s3.amazonaws.com", "dev", *key.AccessKeyId, "false"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]types.Resource{{ResourceType: aws.String("AWS::S3::Bucket"), ResourceName: aws.String("audited")}}, ev.Resources,
		cmp.AllowUnexported(types.Resource{}), cmp.Comparer(func(a, b *string) bool { return aws.ToString(a) == aws.ToString(b) })); diff != "" {
		t.Errorf("resources (-want +got):\n%s", diff)
	}
	r := parse(t, ev)
	if r.UserIdentity.Type != "IAMUser" || r.UserIdentity.UserName != "dev" || r.UserIdentity.ARN != "arn:aws:iam::000000000000:user/dev" ||
		r.UserIdentity.AccountID != "000000000000" || r.UserIdentity.AccessKeyID != *key.AccessKeyId || !strings.HasPrefix(r.UserIdentity.PrincipalID, "AIDA") {
		t.Errorf("userIdentity = %+v, want dev's", r.UserIdentity)
	}
	if r.EventVersion != "1.11" || r.EventType != "AwsApiCall" || !r.ManagementEvent || r.ReadOnly || r.AWSRegion != "us-east-1" ||
		r.RecipientAccountID != "000000000000" || r.SourceIPAddress != "127.0.0.1" || !strings.Contains(r.UserAgent, "aws-sdk-go-v2") ||
		r.RequestID == "" || r.EventID != aws.ToString(ev.EventId) {
		t.Errorf("record = %+v", r)
	}
	if got, want := string(r.RequestParameters), `{"bucket":"audited"}`; got != want {
		t.Errorf("requestParameters = %s, want %s", got, want)
	}

	// The secret of a new access key is hidden; reads have no response.
	keys := lookup(t, c, types.LookupAttributeKeyEventName, "CreateAccessKey")
	if len(keys) != 1 || !strings.Contains(string(parse(t, keys[0]).ResponseElements), `"secretAccessKey":"HIDDEN_DUE_TO_SECURITY_REASONS"`) {
		t.Errorf("CreateAccessKey's responseElements = %s, want the secret hidden", parse(t, keys[0]).ResponseElements)
	}
	if strings.Contains(aws.ToString(keys[0].CloudTrailEvent), *key.SecretAccessKey) {
		t.Error("the record holds the secret access key")
	}
	awstest.Call(t, sts.NewFromConfig(dev).GetCallerIdentity, &sts.GetCallerIdentityInput{})
	reads := lookup(t, c, types.LookupAttributeKeyEventName, "GetCallerIdentity")
	if len(reads) != 1 || string(parse(t, reads[0]).ResponseElements) != "null" || !parse(t, reads[0]).ReadOnly {
		t.Errorf("GetCallerIdentity's record = %+v, want a read with null responseElements", reads)
	}

	// Every lookup attribute finds the bucket's creation.
	for _, a := range []struct {
		key   types.LookupAttributeKey
		value string
	}{
		{types.LookupAttributeKeyEventId, aws.ToString(ev.EventId)},
		{types.LookupAttributeKeyUsername, "dev"},
		{types.LookupAttributeKeyAccessKeyId, *key.AccessKeyId},
		{types.LookupAttributeKeyEventSource, "s3.amazonaws.com"},
		{types.LookupAttributeKeyReadOnly, "false"},
		{types.LookupAttributeKeyResourceType, "AWS::S3::Bucket"},
		{types.LookupAttributeKeyResourceName, "audited"},
	} {
		found := lookup(t, c, a.key, a.value)
		if !containsEvent(found, aws.ToString(ev.EventId)) {
			t.Errorf("LookupEvents %s=%s: got %d events without the CreateBucket one", a.key, a.value, len(found))
		}
	}

	// A data event (an object written) is not in the event history.
	_, err := s3Client(srv, dev).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("audited"), Key: aws.String("k"), Body: strings.NewReader("x")})
	if err != nil {
		t.Fatal(err)
	}
	if got := lookup(t, c, types.LookupAttributeKeyEventName, "PutObject"); len(got) != 0 {
		t.Errorf("LookupEvents found %d PutObject events, want none: they are data events", len(got))
	}
}

func containsEvent(events []types.Event, id string) bool {
	for _, e := range events {
		if aws.ToString(e.EventId) == id {
			return true
		}
	}
	return false
}

// TestFailedCallRecordsItsError: a refused call is recorded with AWS's
// error code and message.
func TestFailedCallRecordsItsError(t *testing.T) {
	srv := awstest.Start(t)
	_, err := iam.NewFromConfig(srv.Config()).GetUser(context.Background(), &iam.GetUserInput{UserName: aws.String("nobody")})
	if awstest.ErrorCode(err) != "NoSuchEntity" {
		t.Fatalf("GetUser: %v", err)
	}
	events := lookup(t, ct.NewFromConfig(srv.Config()), types.LookupAttributeKeyEventName, "GetUser")
	if len(events) != 1 {
		t.Fatalf("got %d GetUser events, want 1", len(events))
	}
	r := parse(t, events[0])
	if r.ErrorCode != "NoSuchEntity" || !strings.Contains(r.ErrorMessage, "nobody") || r.EventSource != "iam.amazonaws.com" || r.UserIdentity.Type != "Root" {
		t.Errorf("record = %+v, want NoSuchEntity by the root user", r)
	}
}

// TestRefusedCallIsRecorded: a call whose parameters fail validation is
// answered before it reaches IAM, and recorded with its error all the same.
func TestRefusedCallIsRecorded(t *testing.T) {
	srv := awstest.Start(t)
	name := strings.Repeat("n", 129) // the model allows 128
	_, err := iam.NewFromConfig(srv.Config()).GetUser(context.Background(), &iam.GetUserInput{UserName: aws.String(name)})
	if awstest.ErrorCode(err) != "ValidationError" {
		t.Fatalf("GetUser with a long name: %v", err)
	}
	events := lookup(t, ct.NewFromConfig(srv.Config()), types.LookupAttributeKeyEventName, "GetUser")
	if len(events) != 1 {
		t.Fatalf("got %d GetUser events, want 1", len(events))
	}
	r := parse(t, events[0])
	if r.ErrorCode != "ValidationError" || !strings.Contains(r.ErrorMessage, "userName") || !strings.Contains(string(r.RequestParameters), name) {
		t.Errorf("record = %+v, want ValidationError with the name asked for", r)
	}
}

// TestLookupEventsPages: newest first, MaxResults a page, NextToken the
// rest, and a time range.
func TestLookupEventsPages(t *testing.T) {
	fake := clock.NewFake(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
	srv := awstest.Start(t, awstest.Clock(fake))
	stsc := sts.NewFromConfig(srv.Config())
	for range 7 {
		awstest.Call(t, stsc.GetCallerIdentity, &sts.GetCallerIdentityInput{})
		fake.Advance(time.Second)
	}
	c := ct.NewFromConfig(srv.Config())
	in := &ct.LookupEventsInput{MaxResults: aws.Int32(3), LookupAttributes: []types.LookupAttribute{
		{AttributeKey: types.LookupAttributeKeyEventName, AttributeValue: aws.String("GetCallerIdentity")}}}
	var sizes []int
	var times []time.Time
	for p := ct.NewLookupEventsPaginator(c, in); p.HasMorePages(); {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(page.Events))
		for _, e := range page.Events {
			times = append(times, *e.EventTime)
		}
	}
	if diff := cmp.Diff([]int{3, 3, 1}, sizes); diff != "" {
		t.Errorf("page sizes (-want +got):\n%s", diff)
	}
	for i := 1; i < len(times); i++ {
		if !times[i].Before(times[i-1]) {
			t.Errorf("event %d at %v is not older than the one before it (%v)", i, times[i], times[i-1])
		}
	}
	start, end := fake.Now().Add(-5*time.Second), fake.Now().Add(-3*time.Second)
	ranged := awstest.Call(t, c.LookupEvents, &ct.LookupEventsInput{StartTime: &start, EndTime: &end, LookupAttributes: in.LookupAttributes})
	if len(ranged.Events) != 3 {
		t.Errorf("got %d events from %v to %v, want 3", len(ranged.Events), start, end)
	}

	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "two attributes", Call: awstest.Fails(c.LookupEvents, &ct.LookupEventsInput{LookupAttributes: []types.LookupAttribute{
			in.LookupAttributes[0], {AttributeKey: types.LookupAttributeKeyUsername, AttributeValue: aws.String("root")}}}),
			Want: awstest.APIError{Code: "InvalidLookupAttributesException", Status: 400, Message: "You cannot specify more than one lookup attribute."}},
		{Name: "start after end", Call: awstest.Fails(c.LookupEvents, &ct.LookupEventsInput{StartTime: &end, EndTime: &start}),
			Want: awstest.APIError{Code: "InvalidTimeRangeException", Status: 400, Message: "Start time must be less than end time."}},
		{Name: "bad token", Call: awstest.Fails(c.LookupEvents, &ct.LookupEventsInput{NextToken: aws.String("nope")}),
			Want: awstest.APIError{Code: "InvalidNextTokenException", Status: 400, Message: "Invalid NextToken."}},
	})
}

// TestRestartLosesNoEvent: events answered before a shutdown are in the
// history after the restart.
func TestRestartLosesNoEvent(t *testing.T) {
	srv := awstest.Start(t)
	stsc := sts.NewFromConfig(srv.Config())
	for range 20 {
		awstest.Call(t, stsc.GetCallerIdentity, &sts.GetCallerIdentityInput{})
	}
	srv.Restart(t)
	events := lookup(t, ct.NewFromConfig(srv.Config()), types.LookupAttributeKeyEventName, "GetCallerIdentity")
	if len(events) != 20 {
		t.Errorf("got %d GetCallerIdentity events after a restart, want 20", len(events))
	}
}

// crashChildEnv, when set to a data dir, makes TestKillLosesNoEvent the
// child process that calls and is killed.
const crashChildEnv = "OVERCAST_CLOUDTRAIL_CRASH_CHILD"

// TestKillLosesNoEvent: the events of calls answered just before the
// process is killed (SIGKILL, while the writer still holds them) are in
// the history of the next process on the same data dir, once each.
func TestKillLosesNoEvent(t *testing.T) {
	dir := childtest.CrashedDir(t, crashChildEnv, func(t *testing.T, dir string) {
		srv := awstest.Start(t, awstest.InDir(dir))
		stsc := sts.NewFromConfig(srv.Config())
		for range 20 {
			awstest.Call(t, stsc.GetCallerIdentity, &sts.GetCallerIdentityInput{})
		}
		syscall.Kill(syscall.Getpid(), syscall.SIGKILL)
	})
	if dir == "" {
		return
	}
	srv := awstest.Start(t, awstest.InDir(dir))
	c := ct.NewFromConfig(srv.Config())
	if events := lookup(t, c, types.LookupAttributeKeyEventName, "GetCallerIdentity"); len(events) != 20 {
		t.Errorf("got %d GetCallerIdentity events after kill -9, want 20", len(events))
	}
	srv.Restart(t) // what was replayed is not replayed again
	c = ct.NewFromConfig(srv.Config())
	if events := lookup(t, c, types.LookupAttributeKeyEventName, "GetCallerIdentity"); len(events) != 20 {
		t.Errorf("got %d GetCallerIdentity events after a restart that followed, want 20", len(events))
	}
}

// TestTrailDelivers: a logging trail writes its events to its bucket as
// gzipped JSON under AWS's key layout, and its status says when.
func TestTrailDelivers(t *testing.T) {
	ctx := context.Background()
	fake := clock.NewFake(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
	srv := awstest.Start(t, awstest.Clock(fake))
	s3c := s3Client(srv, srv.Config())
	createBucket(t, s3c, "trail-logs", trailPolicy)
	c := ct.NewFromConfig(srv.Config())
	created := awstest.Call(t, c.CreateTrail, &ct.CreateTrailInput{Name: aws.String("main"), S3BucketName: aws.String("trail-logs")})
	if got, want := aws.ToString(created.TrailARN), "arn:aws:cloudtrail:us-east-1:000000000000:trail/main"; got != want {
		t.Errorf("TrailARN = %s, want %s", got, want)
	}
	awstest.Call(t, c.StartLogging, &ct.StartLoggingInput{Name: aws.String("main")})
	createBucket(t, s3c, "made-while-logging", "")
	fake.Advance(5 * time.Minute)

	prefix := "AWSLogs/000000000000/CloudTrail/us-east-1/2026/12/07/"
	var keys []string
	awstest.WaitFor(t, "a log file", func() bool {
		out, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("trail-logs"), Prefix: aws.String(prefix)})
		if err != nil {
			return false
		}
		keys = awstest.Strings(out.Contents, func(o s3types.Object) *string { return o.Key })
		return len(keys) > 0
	})
	name := strings.TrimPrefix(keys[0], prefix)
	if !strings.HasPrefix(name, "000000000000_CloudTrail_us-east-1_20261207T10") || !strings.HasSuffix(name, ".json.gz") || len(name) != len("000000000000_CloudTrail_us-east-1_20261207T1005Z_0123456789abcdef.json.gz") {
		t.Errorf("log file %s is not named as AWS names them", keys[0])
	}
	obj := awstest.Call(t, s3c.GetObject, &s3.GetObjectInput{Bucket: aws.String("trail-logs"), Key: aws.String(keys[0])})
	raw, _ := io.ReadAll(obj.Body)
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Records []record }
	if err := json.NewDecoder(zr).Decode(&file); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range file.Records {
		names = append(names, r.EventName+" "+string(r.RequestParameters))
	}
	if !contains(names, `CreateBucket {"bucket":"made-while-logging"}`) {
		t.Errorf("records %v, want the CreateBucket made while logging", names)
	}
	if contains(names, `CreateBucket {"bucket":"trail-logs"}`) {
		t.Errorf("records %v hold a call made before logging started", names)
	}
	status := awstest.Call(t, c.GetTrailStatus, &ct.GetTrailStatusInput{Name: aws.String("main")})
	if !aws.ToBool(status.IsLogging) || status.LatestDeliveryTime == nil || status.StartLoggingTime == nil {
		t.Errorf("status = logging %v, delivered %v, started %v", aws.ToBool(status.IsLogging), status.LatestDeliveryTime, status.StartLoggingTime)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// TestTrailErrors: AWS's errors for trails that cannot be made or found.
func TestTrailErrors(t *testing.T) {
	srv := awstest.Start(t)
	s3c := s3Client(srv, srv.Config())
	createBucket(t, s3c, "no-policy", "")
	createBucket(t, s3c, "logs", trailPolicy)
	c := ct.NewFromConfig(srv.Config())
	awstest.Call(t, c.CreateTrail, &ct.CreateTrailInput{Name: aws.String("taken"), S3BucketName: aws.String("logs")})
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "bucket missing", Call: awstest.Fails(c.CreateTrail, &ct.CreateTrailInput{Name: aws.String("trail1"), S3BucketName: aws.String("missing")}),
			Want: awstest.APIError{Code: "S3BucketDoesNotExistException", Status: 400, Message: "S3 bucket does not exist: missing"}},
		{Name: "bucket policy without CloudTrail", Call: awstest.Fails(c.CreateTrail, &ct.CreateTrailInput{Name: aws.String("trail1"), S3BucketName: aws.String("no-policy")}),
			Want: awstest.APIError{Code: "InsufficientS3BucketPolicyException", Status: 400, Message: "Incorrect S3 bucket policy is detected for bucket: no-policy"}},
		{Name: "name taken", Call: awstest.Fails(c.CreateTrail, &ct.CreateTrailInput{Name: aws.String("taken"), S3BucketName: aws.String("logs")}),
			Want: awstest.APIError{Code: "TrailAlreadyExistsException", Status: 400, Message: "Trail taken already exists for customer: 000000000000"}},
		{Name: "name too short", Call: awstest.Fails(c.CreateTrail, &ct.CreateTrailInput{Name: aws.String("ab"), S3BucketName: aws.String("logs")}),
			Want: awstest.APIError{Code: "InvalidTrailNameException", Status: 400,
				Message: "Trail name too short. Minimum allowed length: 3 characters. Specified name length: 2 characters."}},
		{Name: "unknown trail", Call: awstest.Fails(c.GetTrail, &ct.GetTrailInput{Name: aws.String("nope")}),
			Want: awstest.APIError{Code: "TrailNotFoundException", Status: 400,
				Message: "Unknown trail: arn:aws:cloudtrail:us-east-1:000000000000:trail/nope for the user: 000000000000"}},
		{Name: "selectors of both kinds", Call: awstest.Fails(c.PutEventSelectors, &ct.PutEventSelectorsInput{TrailName: aws.String("taken"),
			EventSelectors: []types.EventSelector{{ReadWriteType: types.ReadWriteTypeAll}},
			AdvancedEventSelectors: []types.AdvancedEventSelector{{FieldSelectors: []types.AdvancedFieldSelector{
				{Field: aws.String("eventCategory"), Equals: []string{"Data"}}}}}}),
			Want: awstest.APIError{Code: "InvalidParameterCombinationException", Status: 400,
				Message: "You cannot specify both EventSelectors and AdvancedEventSelectors."}},
	})
}

// TestTrailDeliversDataEventsItSelects: object-level S3 calls reach only
// the trails whose selectors ask for them.
func TestTrailDeliversDataEventsItSelects(t *testing.T) {
	ctx := context.Background()
	fake := clock.NewFake(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
	srv := awstest.Start(t, awstest.Clock(fake))
	s3c := s3Client(srv, srv.Config())
	createBucket(t, s3c, "trail-logs", trailPolicy)
	createBucket(t, s3c, "data", "")
	c := ct.NewFromConfig(srv.Config())
	for _, name := range []string{"management", "objects"} {
		awstest.Call(t, c.CreateTrail, &ct.CreateTrailInput{Name: aws.String(name), S3BucketName: aws.String("trail-logs"), S3KeyPrefix: aws.String(name)})
	}
	awstest.Call(t, c.PutEventSelectors, &ct.PutEventSelectorsInput{TrailName: aws.String("objects"), EventSelectors: []types.EventSelector{{
		ReadWriteType: types.ReadWriteTypeWriteOnly, IncludeManagementEvents: aws.Bool(false),
		DataResources: []types.DataResource{{Type: aws.String("AWS::S3::Object"), Values: []string{"arn:aws:s3:::data/"}}}}}})
	got := awstest.Call(t, c.GetEventSelectors, &ct.GetEventSelectorsInput{TrailName: aws.String("management")})
	if len(got.EventSelectors) != 1 || got.EventSelectors[0].ReadWriteType != types.ReadWriteTypeAll || !aws.ToBool(got.EventSelectors[0].IncludeManagementEvents) {
		t.Errorf("default selectors = %+v, want all management events", got.EventSelectors)
	}
	for _, name := range []string{"management", "objects"} {
		awstest.Call(t, c.StartLogging, &ct.StartLoggingInput{Name: aws.String(name)})
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("a.txt"), Body: strings.NewReader("a")}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"management", "objects"} {
		awstest.Call(t, c.StopLogging, &ct.StopLoggingInput{Name: aws.String(name)}) // delivers what is pending
	}
	names := func(trail string) []string { return deliveredEventNames(t, s3c, trail) }
	if got := names("objects"); !cmp.Equal(got, []string{"PutObject"}) {
		t.Errorf("the objects trail delivered %v, want [PutObject]", got)
	}
	if got := names("management"); contains(got, "PutObject") || !contains(got, "StartLogging") {
		t.Errorf("the management trail delivered %v, want management events only", got)
	}
}

// deliveredEventNames are the names of the events a trail delivered to
// the trail-logs bucket under its prefix, in order.
func deliveredEventNames(t *testing.T, s3c *s3.Client, trail string) []string {
	t.Helper()
	out := awstest.Call(t, s3c.ListObjectsV2, &s3.ListObjectsV2Input{Bucket: aws.String("trail-logs"), Prefix: aws.String(trail + "/AWSLogs/")})
	var names []string
	for _, o := range out.Contents {
		obj := awstest.Call(t, s3c.GetObject, &s3.GetObjectInput{Bucket: aws.String("trail-logs"), Key: o.Key})
		zr, err := gzip.NewReader(obj.Body)
		if err != nil {
			t.Fatal(err)
		}
		var file struct{ Records []record }
		if err := json.NewDecoder(zr).Decode(&file); err != nil {
			t.Fatal(err)
		}
		for _, r := range file.Records {
			names = append(names, r.EventName)
		}
	}
	return names
}
