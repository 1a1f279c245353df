package logs_test

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
)

// exportPolicy is the bucket policy AWS documents for exports to S3
// (S3ExportTasks.html), for the default account in us-east-1.
const exportPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"}, "Action": "s3:GetBucketAcl",
     "Resource": "arn:aws:s3:::%[1]s",
     "Condition": {"StringEquals": {"aws:SourceAccount": ["000000000000"]},
                   "ArnLike": {"aws:SourceArn": ["arn:aws:logs:us-east-1:000000000000:log-group:*"]}}},
    {"Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"}, "Action": "s3:PutObject",
     "Resource": "arn:aws:s3:::%[1]s/*",
     "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceAccount": ["000000000000"]},
                   "ArnLike": {"aws:SourceArn": ["arn:aws:logs:us-east-1:000000000000:log-group:*"]}}}
  ]
}`

// aclOnlyPolicy lets CloudWatch Logs read the bucket's ACL but not write.
const aclOnlyPolicy = `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
  "Principal": {"Service": "logs.us-east-1.amazonaws.com"}, "Action": "s3:GetBucketAcl", "Resource": "arn:aws:s3:::%s"}]}`

func s3Client(srv *awstest.Server) *s3.Client {
	return s3.NewFromConfig(srv.Config(), func(o *s3.Options) { o.UsePathStyle = true })
}

func createBucket(t *testing.T, s *s3.Client, name, policy string) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if policy != "" {
		if _, err := s.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(name), Policy: aws.String(fmt.Sprintf(policy, name))}); err != nil {
			t.Fatal(err)
		}
	}
}

// getObject reads an object, gunzipped when its key ends in .gz.
func getObject(t *testing.T, s *s3.Client, bucket, key string) string {
	t.Helper()
	out, err := s.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	defer out.Body.Close()
	var r io.Reader = out.Body
	if strings.HasSuffix(key, ".gz") {
		if r, err = gzip.NewReader(out.Body); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestExportTask(t *testing.T) {
	ctx := context.Background()
	c, srv := start(t)
	s := s3Client(srv)
	createGroup(t, c, "/app/web")
	for _, st := range []string{"web/1", "web/2", "other"} {
		createStream(t, c, "/app/web", st)
	}
	// Exports end after the group's creation (AWS refuses others), and
	// events may be up to two hours ahead.
	t0 := time.Now().Add(time.Minute).Truncate(time.Second)
	ms := func(d time.Duration) int64 { return t0.Add(d).UnixMilli() }
	put(t, c, "/app/web", "web/1", ev(ms(0), "too early"), ev(ms(time.Second), "GET / 200"), ev(ms(2*time.Second), "GET /x 404"))
	put(t, c, "/app/web", "web/2", ev(ms(time.Second), "POST /y 201"), ev(ms(time.Minute), "too late"))
	put(t, c, "/app/web", "other", ev(ms(time.Second), "not under the prefix"))

	createBucket(t, s, "exports", exportPolicy)
	createBucket(t, s, "closed", "")
	createBucket(t, s, "readonly", aclOnlyPolicy)
	export := func(bucket string) (*cwl.CreateExportTaskOutput, error) {
		return c.CreateExportTask(ctx, &cwl.CreateExportTaskInput{TaskName: aws.String("nightly"), LogGroupName: aws.String("/app/web"),
			LogStreamNamePrefix: aws.String("web/"), From: aws.Int64(ms(time.Second)), To: aws.Int64(ms(30 * time.Second)),
			Destination: aws.String(bucket), DestinationPrefix: aws.String("exp")})
	}
	for _, tt := range []struct {
		bucket string
		want   awstest.APIError
	}{
		{"missing", awstest.APIError{Code: "InvalidParameterException", Message: "The specified bucket does not exist."}},
		{"closed", awstest.APIError{Code: "InvalidParameterException",
			Message: "GetBucketAcl call on the given bucket failed. Please check if CloudWatch Logs has been granted permission to perform this operation."}},
		{"readonly", awstest.APIError{Code: "InvalidParameterException",
			Message: "PutObject call on the given bucket failed. Please check if CloudWatch Logs has been granted permission to perform this operation."}},
	} {
		_, err := export(tt.bucket)
		awstest.WantAPIError(t, err, tt.want)
	}
	_, err := c.CreateExportTask(ctx, &cwl.CreateExportTaskInput{LogGroupName: aws.String("nope"), From: aws.Int64(0), To: aws.Int64(1), Destination: aws.String("exports")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Message: "The specified log group does not exist."})
	_, err = c.CreateExportTask(ctx, &cwl.CreateExportTaskInput{LogGroupName: aws.String("/app/web"), From: aws.Int64(ms(time.Minute)), To: aws.Int64(ms(0)), Destination: aws.String("exports")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Message: "is not valid"})

	out, err := export("exports")
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.TaskId)
	var task types.ExportTask
	awstest.WaitFor(t, "the export task to complete", func() bool {
		tasks := awstest.Call(t, c.DescribeExportTasks, &cwl.DescribeExportTasksInput{TaskId: aws.String(id)}).ExportTasks
		task = tasks[0]
		return task.Status.Code == types.ExportTaskStatusCodeCompleted
	})
	want := types.ExportTask{TaskId: aws.String(id), TaskName: aws.String("nightly"), LogGroupName: aws.String("/app/web"),
		From: aws.Int64(ms(time.Second)), To: aws.Int64(ms(30 * time.Second)), Destination: aws.String("exports"), DestinationPrefix: aws.String("exp"),
		Status: &types.ExportTaskStatus{Code: types.ExportTaskStatusCodeCompleted, Message: aws.String("Completed successfully")}}
	info := task.ExecutionInfo
	task.ExecutionInfo = nil
	if diff := cmp.Diff(want, task, cmp.AllowUnexported(types.ExportTask{}, types.ExportTaskStatus{})); diff != "" {
		t.Errorf("DescribeExportTasks (-want +got):\n%s", diff)
	}
	if info == nil || aws.ToInt64(info.CreationTime) == 0 || aws.ToInt64(info.CompletionTime) < aws.ToInt64(info.CreationTime) {
		t.Errorf("executionInfo: %+v", info)
	}

	if got := getObject(t, s, "exports", "exp/aws-logs-write-test"); got != "Permission Check Successful" {
		t.Errorf("write test object: %q", got)
	}
	list, err := s.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("exports"), Prefix: aws.String("exp/" + id + "/")})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range list.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	wantKeys := []string{"exp/" + id + "/web/1/000000.gz", "exp/" + id + "/web/2/000000.gz"}
	if diff := cmp.Diff(wantKeys, keys); diff != "" {
		t.Errorf("exported objects (-want +got):\n%s", diff)
	}
	iso := func(d time.Duration) string { return t0.Add(d).UTC().Format("2006-01-02T15:04:05.000Z") }
	if got, want := getObject(t, s, "exports", wantKeys[0]), iso(time.Second)+" GET / 200\n"+iso(2*time.Second)+" GET /x 404\n"; got != want {
		t.Errorf("web/1 exported as %q, want %q", got, want)
	}
	if got, want := getObject(t, s, "exports", wantKeys[1]), iso(time.Second)+" POST /y 201\n"; got != want {
		t.Errorf("web/2 exported as %q, want %q", got, want)
	}

	// Finished tasks are listed, newest first, and cannot be cancelled.
	second, err := c.CreateExportTask(ctx, &cwl.CreateExportTaskInput{LogGroupName: aws.String("/app/web"),
		From: aws.Int64(ms(0)), To: aws.Int64(ms(time.Hour)), Destination: aws.String("exports")})
	if err != nil {
		t.Fatal(err)
	}
	awstest.WaitFor(t, "the second export to complete", func() bool {
		tasks := awstest.Call(t, c.DescribeExportTasks, &cwl.DescribeExportTasksInput{StatusCode: types.ExportTaskStatusCodeCompleted}).ExportTasks
		return len(tasks) == 2
	})
	tasks := awstest.Call(t, c.DescribeExportTasks, &cwl.DescribeExportTasksInput{Limit: aws.Int32(1)})
	if len(tasks.ExportTasks) != 1 || aws.ToString(tasks.ExportTasks[0].TaskId) != aws.ToString(second.TaskId) || tasks.NextToken == nil {
		t.Errorf("first page: %+v, next %v; want the second task and a token", tasks.ExportTasks, tasks.NextToken)
	}
	if got := getObject(t, s, "exports", "exportedlogs/"+aws.ToString(second.TaskId)+"/other/000000.gz"); !strings.Contains(got, " not under the prefix\n") {
		t.Errorf("default prefix, every stream: other exported as %q", got)
	}
	_, err = c.CancelExportTask(ctx, &cwl.CancelExportTaskInput{TaskId: aws.String(id)})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidOperationException"})
	_, err = c.CancelExportTask(ctx, &cwl.CancelExportTaskInput{TaskId: aws.String("nope")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Message: "The specified export task does not exist."})
}
