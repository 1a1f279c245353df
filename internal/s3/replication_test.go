package s3_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
)

const replicationRole = "arn:aws:iam::000000000000:role/replication"

// replicationPair starts overcast with a versioned bucket "source" in
// us-east-1 and a versioned bucket "replica" in eu-west-1, and returns a
// client of each region.
func replicationPair(t *testing.T, opts ...awstest.Option) (srv *awstest.Server, east, west *s3.Client) {
	t.Helper()
	srv, east = startWithBucket(t, "source", opts...)
	west = westClient(srv)
	if _, err := west.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("replica"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintEuWest1}}); err != nil {
		t.Fatal(err)
	}
	setVersioning(t, east, "source", types.BucketVersioningStatusEnabled)
	setVersioning(t, west, "replica", types.BucketVersioningStatusEnabled)
	return srv, east, west
}

func westClient(srv *awstest.Server) *s3.Client {
	return newClient(srv, func(o *s3.Options) { o.Region = "eu-west-1" })
}

// v2Rule is a rule of the current schema replicating filter's objects to
// the replica bucket.
func v2Rule(id string, priority int32, filter *types.ReplicationRuleFilter, deleteMarkers types.DeleteMarkerReplicationStatus) types.ReplicationRule {
	return types.ReplicationRule{ID: aws.String(id), Priority: aws.Int32(priority), Status: types.ReplicationRuleStatusEnabled,
		Filter: filter, DeleteMarkerReplication: &types.DeleteMarkerReplication{Status: deleteMarkers},
		Destination: &types.Destination{Bucket: aws.String("arn:aws:s3:::replica")}}
}

func putReplication(t *testing.T, c *s3.Client, rules ...types.ReplicationRule) {
	t.Helper()
	if _, err := c.PutBucketReplication(ctx, &s3.PutBucketReplicationInput{Bucket: aws.String("source"),
		ReplicationConfiguration: &types.ReplicationConfiguration{Role: aws.String(replicationRole), Rules: rules}}); err != nil {
		t.Fatalf("PutBucketReplication: %v", err)
	}
}

// waitForStatus waits until the source version reports status.
func waitForStatus(t *testing.T, c *s3.Client, key, version string, status types.ReplicationStatus) {
	t.Helper()
	awstest.WaitFor(t, key+" "+string(status), func() bool {
		out, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("source"), Key: aws.String(key), VersionId: aws.String(version)})
		return err == nil && out.ReplicationStatus == status
	})
}

func TestReplicationCopiesToAnotherRegion(t *testing.T) {
	_, east, west := replicationPair(t)
	before := putObject(t, east, "source", "before", "written before the configuration")
	rule := v2Rule("all", 1, &types.ReplicationRuleFilter{}, types.DeleteMarkerReplicationStatusDisabled)
	rule.Destination.StorageClass = types.StorageClassStandardIa
	putReplication(t, east, rule)
	got := awstest.Call(t, east.GetBucketReplication, &s3.GetBucketReplicationInput{Bucket: aws.String("source")})
	if diff := cmp.Diff([]string{"all"}, awstest.Strings(got.ReplicationConfiguration.Rules, func(r types.ReplicationRule) *string { return r.ID })); diff != "" {
		t.Errorf("GetBucketReplication rule IDs (-want +got):\n%s", diff)
	}

	put := putObject(t, east, "source", "doc", "hello, replica", func(in *s3.PutObjectInput) {
		in.ContentType, in.CacheControl = aws.String("text/plain"), aws.String("max-age=60")
		in.Metadata, in.Tagging = map[string]string{"owner": "ops"}, aws.String("team=blue")
	})
	head := awstest.Call(t, east.HeadObject, &s3.HeadObjectInput{Bucket: aws.String("source"), Key: aws.String("doc")})
	if s := head.ReplicationStatus; s != types.ReplicationStatusPending && s != types.ReplicationStatusCompleted {
		t.Errorf("source right after PUT: got status %q, want PENDING (or COMPLETED already)", s)
	}
	waitForStatus(t, east, "doc", *put.VersionId, types.ReplicationStatusCompleted)

	out := awstest.Call(t, west.GetObject, &s3.GetObjectInput{Bucket: aws.String("replica"), Key: aws.String("doc"), VersionId: put.VersionId})
	body, _ := io.ReadAll(out.Body)
	out.Body.Close()
	type copied struct{ Body, Status, Type, Cache, ETag, Class string }
	want := copied{"hello, replica", "REPLICA", "text/plain", "max-age=60", aws.ToString(put.ETag), "STANDARD_IA"}
	if diff := cmp.Diff(want, copied{string(body), string(out.ReplicationStatus), aws.ToString(out.ContentType),
		aws.ToString(out.CacheControl), aws.ToString(out.ETag), string(out.StorageClass)}); diff != "" {
		t.Errorf("the replica (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"owner": "ops"}, out.Metadata); diff != "" {
		t.Errorf("replica metadata (-want +got):\n%s", diff)
	}
	tags := awstest.Call(t, west.GetObjectTagging, &s3.GetObjectTaggingInput{Bucket: aws.String("replica"), Key: aws.String("doc")})
	if len(tags.TagSet) != 1 || aws.ToString(tags.TagSet[0].Value) != "blue" {
		t.Errorf("replica tags: got %v, want team=blue", tags.TagSet)
	}

	// Multipart uploads and copies replicate too; the object from before
	// the configuration and the replica itself never do.
	up := awstest.Call(t, east.CreateMultipartUpload, &s3.CreateMultipartUploadInput{Bucket: aws.String("source"), Key: aws.String("multi")})
	part := awstest.Call(t, east.UploadPart, &s3.UploadPartInput{Bucket: aws.String("source"), Key: aws.String("multi"),
		UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("one part")})
	done := awstest.Call(t, east.CompleteMultipartUpload, &s3.CompleteMultipartUploadInput{Bucket: aws.String("source"), Key: aws.String("multi"),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: part.ETag, PartNumber: aws.Int32(1)}}}})
	cp := awstest.Call(t, east.CopyObject, &s3.CopyObjectInput{Bucket: aws.String("source"), Key: aws.String("copy"), CopySource: aws.String("source/doc")})
	waitForStatus(t, east, "multi", *done.VersionId, types.ReplicationStatusCompleted)
	waitForStatus(t, east, "copy", *cp.VersionId, types.ReplicationStatusCompleted)
	if got := getObject(t, west, "replica", "multi"); got != "one part" {
		t.Errorf("multipart replica: got %q, want %q", got, "one part")
	}
	if got := getObject(t, west, "replica", "copy"); got != "hello, replica" {
		t.Errorf("copied object's replica: got %q", got)
	}
	oldHead := awstest.Call(t, east.HeadObject, &s3.HeadObjectInput{Bucket: aws.String("source"), Key: aws.String("before"), VersionId: before.VersionId})
	if oldHead.ReplicationStatus != "" {
		t.Errorf("object from before the configuration: got status %q, want none", oldHead.ReplicationStatus)
	}
	_, err := west.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("replica"), Key: aws.String("before")})
	wantError(t, "HeadObject of an object from before the configuration", err, "NotFound", http.StatusNotFound)
}

func TestReplicationRuleFilters(t *testing.T) {
	_, east, west := replicationPair(t)
	putReplication(t, east,
		v2Rule("logs", 2, &types.ReplicationRuleFilter{Prefix: aws.String("logs/")}, types.DeleteMarkerReplicationStatusEnabled),
		v2Rule("tagged", 1, &types.ReplicationRuleFilter{And: &types.ReplicationRuleAndOperator{Prefix: aws.String("data/"),
			Tags: []types.Tag{{Key: aws.String("replicate"), Value: aws.String("yes")}}}}, types.DeleteMarkerReplicationStatusDisabled))
	tests := []struct {
		key, tagging string
		replicated   bool
	}{
		{"logs/app.log", "", true},
		{"data/tagged", "replicate=yes", true},
		{"data/untagged", "", false},
		{"data/other-tag", "replicate=no", false},
		{"elsewhere/tagged", "replicate=yes", false},
	}
	for _, tt := range tests {
		put := putObject(t, east, "source", tt.key, "body of "+tt.key, func(in *s3.PutObjectInput) { in.Tagging = aws.String(tt.tagging) })
		if !tt.replicated {
			head := awstest.Call(t, east.HeadObject, &s3.HeadObjectInput{Bucket: aws.String("source"), Key: aws.String(tt.key)})
			if head.ReplicationStatus != "" {
				t.Errorf("%s: got status %q, want none", tt.key, head.ReplicationStatus)
			}
			continue
		}
		waitForStatus(t, east, tt.key, *put.VersionId, types.ReplicationStatusCompleted)
		if got := getObject(t, west, "replica", tt.key); got != "body of "+tt.key {
			t.Errorf("%s replica: got %q", tt.key, got)
		}
	}

	// The logs rule replicates delete markers, with the source's version
	// ID; the tagged rule cannot.
	del := awstest.Call(t, east.DeleteObject, &s3.DeleteObjectInput{Bucket: aws.String("source"), Key: aws.String("logs/app.log")})
	awstest.WaitFor(t, "the replicated delete marker", func() bool {
		out, err := west.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("replica"), Prefix: aws.String("logs/")})
		return err == nil && len(out.DeleteMarkers) == 1 && aws.ToString(out.DeleteMarkers[0].VersionId) == aws.ToString(del.VersionId)
	})
}

// TestReplicationFailsWithoutDestination: a version whose destination has
// gone is FAILED, announced as s3:Replication:OperationFailedReplication.
func TestReplicationFailsWithoutDestination(t *testing.T) {
	srv, east, west := replicationPair(t)
	putReplication(t, east, v2Rule("all", 1, &types.ReplicationRuleFilter{}, types.DeleteMarkerReplicationStatusDisabled))
	awstest.Call(t, west.DeleteBucket, &s3.DeleteBucketInput{Bucket: aws.String("replica")})
	log := subscribe(t, srv.Main.Bus(), "replication-test")
	put := putObject(t, east, "source", "orphan", "nowhere to go")
	waitForStatus(t, east, "orphan", *put.VersionId, types.ReplicationStatusFailed)
	var names []string
	for _, ev := range log.wait(t, 2) {
		names = append(names, ev.Type)
	}
	if diff := cmp.Diff([]string{"ObjectCreated:Put", "Replication:OperationFailedReplication"}, names); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestReplicationSurvivesRestart(t *testing.T) {
	srv, east, west := replicationPair(t, awstest.InDir(t.TempDir()))
	putReplication(t, east, v2Rule("all", 1, &types.ReplicationRuleFilter{}, types.DeleteMarkerReplicationStatusDisabled))
	put := putObject(t, east, "source", "durable", "still here")
	srv.Restart(t)
	east, west = newClient(srv), westClient(srv)
	waitForStatus(t, east, "durable", *put.VersionId, types.ReplicationStatusCompleted)
	if got := getObject(t, west, "replica", "durable"); got != "still here" {
		t.Errorf("replica after restart: got %q", got)
	}
	cfg := awstest.Call(t, east.GetBucketReplication, &s3.GetBucketReplicationInput{Bucket: aws.String("source")})
	if aws.ToString(cfg.ReplicationConfiguration.Role) != replicationRole {
		t.Errorf("configuration after restart: got role %q", aws.ToString(cfg.ReplicationConfiguration.Role))
	}
}

func TestReplicationConfigurationErrors(t *testing.T) {
	_, east, _ := replicationPair(t)
	createBucket(t, east, "unversioned")
	put := func(bucket string, rules ...types.ReplicationRule) func(context.Context) error {
		return awstest.Fails(east.PutBucketReplication, &s3.PutBucketReplicationInput{Bucket: aws.String(bucket),
			ReplicationConfiguration: &types.ReplicationConfiguration{Role: aws.String(replicationRole), Rules: rules}})
	}
	all := &types.ReplicationRuleFilter{}
	to := func(arn string) types.ReplicationRule {
		r := v2Rule("r", 1, all, types.DeleteMarkerReplicationStatusDisabled)
		r.Destination = &types.Destination{Bucket: aws.String(arn)}
		return r
	}
	noPriority := v2Rule("r", 1, all, types.DeleteMarkerReplicationStatusDisabled)
	noPriority.Priority = nil
	noMarkers := v2Rule("r", 1, all, "")
	noMarkers.DeleteMarkerReplication = nil
	glacierish := v2Rule("r", 1, all, types.DeleteMarkerReplicationStatusDisabled)
	glacierish.Destination.StorageClass = "COLD"
	invalid := func(msg string) awstest.APIError {
		return awstest.APIError{Code: "InvalidRequest", Status: http.StatusBadRequest, Message: msg}
	}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "no configuration", Call: awstest.Fails(east.GetBucketReplication, &s3.GetBucketReplicationInput{Bucket: aws.String("source")}),
			Want: awstest.APIError{Code: "ReplicationConfigurationNotFoundError", Status: http.StatusNotFound, Message: "The replication configuration was not found"}},
		{Name: "unversioned source", Call: put("unversioned", to("arn:aws:s3:::replica")),
			Want: invalid("Versioning must be 'Enabled' on the bucket to apply a replication configuration")},
		{Name: "missing destination", Call: put("source", to("arn:aws:s3:::no-such-bucket")), Want: invalid("Destination bucket must exist.")},
		{Name: "unversioned destination", Call: put("source", to("arn:aws:s3:::unversioned")),
			Want: invalid("Destination bucket must have versioning enabled.")},
		{Name: "destination is the source", Call: put("source", to("arn:aws:s3:::source")),
			Want: invalid("Destination bucket cannot be the same as the source bucket.")},
		{Name: "destination not an ARN", Call: put("source", to("replica")),
			Want: awstest.APIError{Code: "InvalidArgument", Status: http.StatusBadRequest, Message: "Invalid bucket ARN."}},
		{Name: "V2 rule without priority", Call: put("source", noPriority), Want: invalid("Priority must be specified")},
		{Name: "V2 rule without delete marker replication", Call: put("source", noMarkers),
			Want: invalid("DeleteMarkerReplication must be specified")},
		{Name: "delete markers with a tag filter", Call: put("source", v2Rule("r", 1,
			&types.ReplicationRuleFilter{Tag: &types.Tag{Key: aws.String("k"), Value: aws.String("v")}}, types.DeleteMarkerReplicationStatusEnabled)),
			Want: invalid("Delete marker replication is not supported if any Tag filter is specified.")},
		{Name: "two filters", Call: put("source", v2Rule("r", 1,
			&types.ReplicationRuleFilter{Prefix: aws.String("a"), Tag: &types.Tag{Key: aws.String("k"), Value: aws.String("v")}}, types.DeleteMarkerReplicationStatusDisabled)),
			Want: awstest.APIError{Code: "MalformedXML", Status: http.StatusBadRequest}},
		{Name: "duplicate rule IDs", Call: put("source", to("arn:aws:s3:::replica"), to("arn:aws:s3:::replica")),
			Want: awstest.APIError{Code: "InvalidArgument", Status: http.StatusBadRequest}},
		{Name: "unknown storage class", Call: put("source", glacierish), Want: awstest.APIError{Code: "InvalidStorageClass", Status: http.StatusBadRequest}},
		{Name: "no such bucket", Call: put("nope", to("arn:aws:s3:::replica")), Want: awstest.APIError{Code: "NoSuchBucket", Status: http.StatusNotFound}},
		{Name: "suspending a replicating bucket's versioning", Call: func(c context.Context) error {
			putReplication(t, east, to("arn:aws:s3:::replica"))
			_, err := east.PutBucketVersioning(c, &s3.PutBucketVersioningInput{Bucket: aws.String("source"),
				VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusSuspended}})
			return err
		}, Want: awstest.APIError{Code: "InvalidBucketState", Status: http.StatusConflict}},
	})
	// A deleted configuration is gone.
	awstest.Call(t, east.DeleteBucketReplication, &s3.DeleteBucketReplicationInput{Bucket: aws.String("source")})
	_, err := east.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: aws.String("source")})
	wantError(t, "GetBucketReplication after delete", err, "ReplicationConfigurationNotFoundError", http.StatusNotFound)
}

// TestReplicationToTwoDestinations: each destination whose rule selects a
// version gets a copy, and the source is COMPLETED once both have theirs.
func TestReplicationToTwoDestinations(t *testing.T) {
	srv, east, west := replicationPair(t)
	oregon := newClient(srv, func(o *s3.Options) { o.Region = "us-west-2" })
	if _, err := oregon.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("replica2"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintUsWest2}}); err != nil {
		t.Fatal(err)
	}
	setVersioning(t, oregon, "replica2", types.BucketVersioningStatusEnabled)
	docs := v2Rule("docs", 2, &types.ReplicationRuleFilter{Prefix: aws.String("docs/")}, types.DeleteMarkerReplicationStatusDisabled)
	docs.Destination = &types.Destination{Bucket: aws.String("arn:aws:s3:::replica2")}
	putReplication(t, east, v2Rule("all", 1, &types.ReplicationRuleFilter{}, types.DeleteMarkerReplicationStatusDisabled), docs)

	both := putObject(t, east, "source", "docs/both", "to two regions")
	one := putObject(t, east, "source", "misc/one", "to one region")
	waitForStatus(t, east, "docs/both", *both.VersionId, types.ReplicationStatusCompleted)
	waitForStatus(t, east, "misc/one", *one.VersionId, types.ReplicationStatusCompleted)
	for _, c := range []struct {
		client *s3.Client
		bucket string
	}{{west, "replica"}, {oregon, "replica2"}} {
		if got := getObject(t, c.client, c.bucket, "docs/both"); got != "to two regions" {
			t.Errorf("%s/docs/both: got %q", c.bucket, got)
		}
	}
	_, err := oregon.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("replica2"), Key: aws.String("misc/one")})
	wantError(t, "HeadObject of an object the docs rule does not select", err, "NotFound", http.StatusNotFound)
}
