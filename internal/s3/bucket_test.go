package s3_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/clock"
)

func TestBuckets(t *testing.T) {
	srv, c := startWithBucket(t, "alpha")
	createBucket(t, c, "beta")

	// Re-creating a bucket you own in us-east-1 is a 200 OK, as on AWS;
	// the errors table has the 409 every other region answers.
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("alpha")}); err != nil {
		t.Fatalf("create again in us-east-1: %v", err)
	}
	other := newClient(srv, func(o *s3.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider("123456789012", "x", "")
	})
	_, err := other.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("alpha")})
	wantError(t, "create another account's", err, "BucketAlreadyExists", http.StatusConflict)

	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("alpha")}); err != nil {
		t.Errorf("HeadBucket: %v", err)
	}
	_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("missing-bucket")})
	wantError(t, "HeadBucket of a missing bucket", err, "", http.StatusNotFound)

	out, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range out.Buckets {
		names = append(names, aws.ToString(b.Name))
	}
	if diff := cmp.Diff([]string{"alpha", "beta"}, names); diff != "" {
		t.Errorf("ListBuckets (-want +got):\n%s", diff)
	}
	if out.Owner == nil || aws.ToString(out.Owner.ID) == "" {
		t.Errorf("ListBuckets: no owner")
	}

	// The newer pagination parameters.
	page, err := c.ListBuckets(ctx, &s3.ListBucketsInput{MaxBuckets: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Buckets) != 1 || page.ContinuationToken == nil {
		t.Fatalf("first page: got %d buckets, token %v; want 1 and a token", len(page.Buckets), page.ContinuationToken)
	}
	page2, err := c.ListBuckets(ctx, &s3.ListBucketsInput{MaxBuckets: aws.Int32(1), ContinuationToken: page.ContinuationToken})
	if err != nil {
		t.Fatal(err)
	}
	if len(page2.Buckets) != 1 || aws.ToString(page2.Buckets[0].Name) != "beta" || page2.ContinuationToken != nil {
		t.Errorf("second page: got %+v", page2.Buckets)
	}
	pre, err := c.ListBuckets(ctx, &s3.ListBucketsInput{Prefix: aws.String("be")})
	if err != nil || len(pre.Buckets) != 1 {
		t.Errorf("ListBuckets with prefix: got %v, %v", pre, err)
	}
	// Another account sees none of them.
	theirs, err := other.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(theirs.Buckets) != 0 {
		t.Errorf("another account's ListBuckets: got %d buckets, %v", len(theirs.Buckets), err)
	}

	putObject(t, c, "alpha", "k", "v")
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("alpha")})
	wantError(t, "delete non-empty", err, "BucketNotEmpty", http.StatusConflict)
	awstest.Call(t, c.DeleteObject, &s3.DeleteObjectInput{Bucket: aws.String("alpha"), Key: aws.String("k")})
	awstest.Call(t, c.DeleteBucket, &s3.DeleteBucketInput{Bucket: aws.String("alpha")})
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("alpha")})
	wantError(t, "delete deleted", err, "NoSuchBucket", http.StatusNotFound)
}

func TestBucketLocation(t *testing.T) {
	srv, c := startWithBucket(t, "east")
	loc, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("east")})
	if err != nil || loc.LocationConstraint != "" {
		t.Errorf("us-east-1 location: got %q, %v; want empty", loc.LocationConstraint, err)
	}
	west := newClient(srv, func(o *s3.Options) { o.Region = "eu-west-2" })
	if _, err := west.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("west"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "eu-west-2"}}); err != nil {
		t.Fatal(err)
	}
	loc, err = c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("west")})
	if err != nil || loc.LocationConstraint != "eu-west-2" {
		t.Errorf("eu-west-2 location: got %q, %v", loc.LocationConstraint, err)
	}
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("explicit-east"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "us-east-1"}})
	wantError(t, "LocationConstraint us-east-1", err, "InvalidLocationConstraint", http.StatusBadRequest)
	_, err = west.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("no-constraint")})
	wantError(t, "no constraint outside us-east-1", err, "IllegalLocationConstraintException", http.StatusBadRequest)
}

func TestInvalidBucketNames(t *testing.T) {
	_, c := start(t)
	for _, name := range []string{"ab", strings.Repeat("a", 64), "Upper", "under_score", "-start", "end-", "two..dots",
		"192.168.5.4", "xn--bucket", "bucket-s3alias", "bucket--ol-s3", "sthree-x"} {
		_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
		wantError(t, "CreateBucket("+name+")", err, "InvalidBucketName", http.StatusBadRequest)
	}
	for _, name := range []string{"abc", strings.Repeat("a", 63), "my.bucket-1", "1bucket"} {
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
			t.Errorf("CreateBucket(%s): %v", name, err)
		}
	}
}

func TestBucketTagging(t *testing.T) {
	_, c := startWithBucket(t, "tagged")
	_, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("tagged")})
	wantError(t, "no tags", err, "NoSuchTagSet", http.StatusNotFound)
	tags := []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}, {Key: aws.String("env"), Value: aws.String("dev")}}
	if _, err := c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("tagged"), Tagging: &types.Tagging{TagSet: tags}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("tagged")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tg := range out.TagSet {
		got = append(got, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
	}
	slices.Sort(got)
	if diff := cmp.Diff([]string{"env=dev", "team=web"}, got); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	awstest.Call(t, c.DeleteBucketTagging, &s3.DeleteBucketTaggingInput{Bucket: aws.String("tagged")})
	_, err = c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("tagged")})
	wantError(t, "after delete", err, "NoSuchTagSet", http.StatusNotFound)
}

// TestVirtualHostStyle: the SDK's default addressing against
// http://s3.localhost:PORT puts the bucket in the host name.
func TestVirtualHostStyle(t *testing.T) {
	srv := awstest.Start(t)
	c := newVirtualHostClient(srv)
	createBucket(t, c, "vhost")
	putObject(t, c, "vhost", "dir/file.txt", "virtual")
	putObject(t, c, "vhost", "key with spaces+plus", "spaces")
	if got := getObject(t, c, "vhost", "dir/file.txt"); got != "virtual" {
		t.Errorf("got %q, want %q", got, "virtual")
	}
	if got := getObject(t, c, "vhost", "key with spaces+plus"); got != "spaces" {
		t.Errorf("got %q, want %q", got, "spaces")
	}
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("vhost")})
	if err != nil || len(out.Contents) != 2 {
		t.Fatalf("ListObjectsV2: %v, %v", out, err)
	}
	// The same objects through path-style.
	if got := getObject(t, newClient(srv), "vhost", "dir/file.txt"); got != "virtual" {
		t.Errorf("path-style: got %q", got)
	}
	if _, err := c.ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		t.Errorf("ListBuckets on s3.localhost: %v", err)
	}
	// Plain HTTP on the bucket host, as curl sends it.
	status, _, _ := rawRequest(t, "GET", localhostURL(srv, "127.0.0.1")+"/vhost/dir/file.txt", nil, http.Header{})
	if status != http.StatusForbidden {
		t.Errorf("anonymous GET: got %d, want 403", status)
	}
}

// TestBucketTrailingSlash: "/<bucket>/" addresses the bucket, not an object
// with an empty key, whatever the operation.
func TestBucketTrailingSlash(t *testing.T) {
	srv, plain := start(t)
	c := newClient(srv, trailingSlash)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("slashed")}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("slashed")}); err != nil {
		t.Errorf("HeadBucket: %v", err)
	}
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("slashed"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Errorf("PutBucketVersioning: %v", err)
	}
	if v, err := plain.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("slashed")}); err != nil || v.Status != types.BucketVersioningStatusEnabled {
		t.Errorf("GetBucketVersioning: got %v, %v; want Enabled", v, err)
	}
	putObject(t, plain, "slashed", "a/b", "x")
	v2, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("slashed"), Delimiter: aws.String("/")})
	if err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	if len(v2.CommonPrefixes) != 1 || aws.ToString(v2.CommonPrefixes[0].Prefix) != "a/" {
		t.Errorf("ListObjectsV2: got prefixes %v, want [a/]", v2.CommonPrefixes)
	}
	v1, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("slashed")})
	if err != nil || len(v1.Contents) != 1 {
		t.Errorf("ListObjects: got %v, %v; want one object", v1, err)
	}
	del, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("slashed"),
		Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String("a/b")}}}})
	if err != nil || len(del.Deleted) != 1 {
		t.Errorf("DeleteObjects: got %v, %v", del, err)
	}
	putObject(t, c, "slashed", "k", "v")
	if got := getObject(t, c, "slashed", "k"); got != "v" {
		t.Errorf("GetObject: got %q, want v", got)
	}
	createBucket(t, c, "slashed-empty")
	awstest.Call(t, c.DeleteBucket, &s3.DeleteBucketInput{Bucket: aws.String("slashed-empty")})
	_, err = plain.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("slashed-empty")})
	wantError(t, "HeadBucket after DeleteBucket", err, "", http.StatusNotFound)
}

func TestLifecycleValidation(t *testing.T) {
	_, c := startWithBucket(t, "rules")
	days := func(n int32) *types.LifecycleExpiration { return &types.LifecycleExpiration{Days: aws.Int32(n)} }
	all := &types.LifecycleRuleFilter{}
	tagged := &types.LifecycleRuleFilter{Tag: &types.Tag{Key: aws.String("k"), Value: aws.String("v")}}
	malformed := awstest.APIError{Code: "MalformedXML", Status: http.StatusBadRequest}
	tests := []struct {
		name  string
		rules []types.LifecycleRule
		want  awstest.APIError // zero: accepted
	}{
		{"expiration by days", []types.LifecycleRule{{ID: aws.String("a"), Status: "Enabled", Filter: all, Expiration: days(1)}}, awstest.APIError{}},
		{"legacy prefix", []types.LifecycleRule{{Status: "Enabled", Prefix: aws.String("logs/"), Expiration: days(1)}}, awstest.APIError{}},
		{"every action", []types.LifecycleRule{{Status: "Disabled", Filter: &types.LifecycleRuleFilter{Prefix: aws.String("p/")},
			Expiration:                     &types.LifecycleExpiration{Date: aws.Time(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))},
			Transitions:                    []types.Transition{{Days: aws.Int32(30), StorageClass: types.TransitionStorageClassStandardIa}},
			NoncurrentVersionExpiration:    &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(3)},
			AbortIncompleteMultipartUpload: &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(7)}}}, awstest.APIError{}},
		{"bad status", []types.LifecycleRule{{Status: "On", Filter: all, Expiration: days(1)}}, malformed},
		{"no filter", []types.LifecycleRule{{Status: "Enabled", Expiration: days(1)}}, malformed},
		{"prefix and filter", []types.LifecycleRule{{Status: "Enabled", Prefix: aws.String("a"), Filter: all, Expiration: days(1)}}, malformed},
		{"two conditions outside And", []types.LifecycleRule{{Status: "Enabled", Expiration: days(1),
			Filter: &types.LifecycleRuleFilter{Prefix: aws.String("a"), ObjectSizeGreaterThan: aws.Int64(1)}}}, malformed},
		{"days and date", []types.LifecycleRule{{Status: "Enabled", Filter: all,
			Expiration: &types.LifecycleExpiration{Days: aws.Int32(1), Date: aws.Time(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))}}}, malformed},
		{"no action", []types.LifecycleRule{{Status: "Enabled", Filter: all}},
			awstest.APIError{Code: "InvalidRequest", Message: "At least one action needs to be specified in a rule"}},
		{"zero days", []types.LifecycleRule{{Status: "Enabled", Filter: all, Expiration: days(0)}},
			awstest.APIError{Code: "InvalidArgument", Message: "'Days' for Expiration action must be a positive integer"}},
		{"date not at midnight", []types.LifecycleRule{{Status: "Enabled", Filter: all,
			Expiration: &types.LifecycleExpiration{Date: aws.Time(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC))}}},
			awstest.APIError{Code: "InvalidArgument", Message: "'Date' must be at midnight GMT"}},
		{"duplicate IDs", []types.LifecycleRule{{ID: aws.String("x"), Status: "Enabled", Filter: all, Expiration: days(1)},
			{ID: aws.String("x"), Status: "Enabled", Filter: all, Expiration: days(2)}},
			awstest.APIError{Code: "InvalidArgument", Message: "Rule ID must be unique. Found same ID for more than one rule"}},
		{"long ID", []types.LifecycleRule{{ID: aws.String(strings.Repeat("i", 256)), Status: "Enabled", Filter: all, Expiration: days(1)}},
			awstest.APIError{Code: "InvalidArgument", Message: "ID length should not exceed allowed limit of 255"}},
		{"zero noncurrent days", []types.LifecycleRule{{Status: "Enabled", Filter: all,
			NoncurrentVersionExpiration: &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(0)}}},
			awstest.APIError{Code: "InvalidArgument", Message: "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer"}},
		{"zero days after initiation", []types.LifecycleRule{{Status: "Enabled", Filter: all,
			AbortIncompleteMultipartUpload: &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(0)}}},
			awstest.APIError{Code: "InvalidArgument", Message: "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer"}},
		{"abort with tags", []types.LifecycleRule{{Status: "Enabled", Filter: tagged,
			AbortIncompleteMultipartUpload: &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(1)}}},
			awstest.APIError{Code: "InvalidRequest", Message: "AbortIncompleteMultipartUpload cannot be specified with Tags."}},
		{"delete markers with tags", []types.LifecycleRule{{Status: "Enabled", Filter: tagged,
			Expiration: &types.LifecycleExpiration{ExpiredObjectDeleteMarker: aws.Bool(true)}}},
			awstest.APIError{Code: "InvalidRequest", Message: "ExpiredObjectDeleteMarker cannot be specified with Tags."}},
		{"transition to IA too soon", []types.LifecycleRule{{Status: "Enabled", Filter: all,
			Transitions: []types.Transition{{Days: aws.Int32(7), StorageClass: types.TransitionStorageClassStandardIa}}}},
			awstest.APIError{Code: "InvalidArgument", Message: "'Days' in Transition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'"}},
	}
	for _, tt := range tests {
		_, err := c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String("rules"),
			LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: tt.rules}})
		wantOutcome(t, tt.name, err, tt.want)
	}
	// The bucket is looked for before the configuration.
	_, err := c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String("no-such-bucket"),
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{{Status: "On"}}}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "NoSuchBucket"})
}

func TestEncryptionValidation(t *testing.T) {
	_, c := startWithBucket(t, "sse")
	rule := func(alg types.ServerSideEncryption, key *string) types.ServerSideEncryptionRule {
		return types.ServerSideEncryptionRule{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: alg, KMSMasterKeyID: key}}
	}
	malformed := awstest.APIError{Code: "MalformedXML", Status: http.StatusBadRequest}
	tests := []struct {
		name  string
		rules []types.ServerSideEncryptionRule
		want  awstest.APIError // zero: accepted
	}{
		{"SSE-S3", []types.ServerSideEncryptionRule{rule(types.ServerSideEncryptionAes256, nil)}, awstest.APIError{}},
		{"SSE-KMS with a key", []types.ServerSideEncryptionRule{rule(types.ServerSideEncryptionAwsKms, aws.String("alias/k"))}, awstest.APIError{}},
		{"two rules", []types.ServerSideEncryptionRule{rule("AES256", nil), rule("AES256", nil)}, malformed},
		{"no default", []types.ServerSideEncryptionRule{{BucketKeyEnabled: aws.Bool(true)}}, malformed},
		{"unknown algorithm", []types.ServerSideEncryptionRule{rule("AES512", nil)}, malformed},
		{"SSE-S3 with a KMS key", []types.ServerSideEncryptionRule{rule(types.ServerSideEncryptionAes256, aws.String("alias/k"))},
			awstest.APIError{Code: "InvalidArgument", Status: http.StatusBadRequest,
				Message: "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse"}},
	}
	for _, tt := range tests {
		_, err := c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String("sse"),
			ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: tt.rules}})
		wantOutcome(t, tt.name, err, tt.want)
	}
	out, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("sse")})
	if err != nil || out.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != types.ServerSideEncryptionAwsKms {
		t.Errorf("GetBucketEncryption: got %v, %v; want the last accepted (aws:kms)", out, err)
	}
}

// lifecycleEpoch is noon: a rule of n days falls due at the midnight after
// the n-th day, n days and 12 hours later.
var lifecycleEpoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func putLifecycle(t *testing.T, c *s3.Client, bucket string, rules ...types.LifecycleRule) {
	t.Helper()
	if _, err := c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(bucket),
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: rules}}); err != nil {
		t.Fatalf("PutBucketLifecycleConfiguration(%s): %v", bucket, err)
	}
}

// keys lists the current keys of a bucket.
func keys(t *testing.T, c *s3.Client, bucket string) []string {
	t.Helper()
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("ListObjectsV2(%s): %v", bucket, err)
	}
	names := []string{}
	for _, o := range out.Contents {
		names = append(names, aws.ToString(o.Key))
	}
	return names
}

// versions lists a bucket's versions and delete markers as key:kind,
// oldest last within a key.
func versions(t *testing.T, c *s3.Client, bucket string) []string {
	t.Helper()
	out, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("ListObjectVersions(%s): %v", bucket, err)
	}
	type entry struct {
		key  string
		when time.Time
		kind string
	}
	var all []entry
	for _, v := range out.Versions {
		all = append(all, entry{aws.ToString(v.Key), aws.ToTime(v.LastModified), "version"})
	}
	for _, m := range out.DeleteMarkers {
		all = append(all, entry{aws.ToString(m.Key), aws.ToTime(m.LastModified), "marker"})
	}
	slices.SortStableFunc(all, func(a, b entry) int {
		if a.key != b.key {
			return map[bool]int{true: -1, false: 1}[a.key < b.key]
		}
		return b.when.Compare(a.when)
	})
	names := []string{}
	for _, e := range all {
		names = append(names, e.key+":"+e.kind)
	}
	return names
}

// waitForList waits until list() gives want.
func waitForList(t *testing.T, what string, want []string, list func() []string) {
	t.Helper()
	awstest.WaitFor(t, what, func() bool { return cmp.Equal(want, list()) })
}

func TestLifecycleExpiration(t *testing.T) {
	clk := clock.NewFake(lifecycleEpoch)
	_, c := startWithBucket(t, "expiring", awstest.Clock(clk))
	for _, k := range []string{"logs/a", "logs/b", "keep/c"} {
		putObject(t, c, "expiring", k, "x")
	}
	putObject(t, c, "expiring", "logs/big", "a larger object", func(in *s3.PutObjectInput) { in.Tagging = aws.String("keep=yes") })
	putLifecycle(t, c, "expiring",
		types.LifecycleRule{ID: aws.String("logs"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("logs/")},
			Expiration: &types.LifecycleExpiration{Days: aws.Int32(1)}},
		types.LifecycleRule{ID: aws.String("off"), Status: types.ExpirationStatusDisabled, Filter: &types.LifecycleRuleFilter{},
			Expiration: &types.LifecycleExpiration{Days: aws.Int32(1)}})

	// Not before the midnight after the day is over.
	clk.Advance(24 * time.Hour)
	putObject(t, c, "expiring", "logs/new", "x") // a day younger than the rest
	clk.Advance(11 * time.Hour)
	if got := keys(t, c, "expiring"); len(got) != 5 {
		t.Fatalf("before the rule is due: got %v", got)
	}
	clk.Advance(time.Hour) // midnight after day 1
	waitForList(t, "logs/ expired", []string{"keep/c", "logs/new"}, func() []string { return keys(t, c, "expiring") })
	clk.Advance(24 * time.Hour)
	waitForList(t, "the younger one expired a day later", []string{"keep/c"}, func() []string { return keys(t, c, "expiring") })

	// Tags and sizes select objects too, and a date expires everything
	// from that day on.
	createBucket(t, c, "filtered")
	putObject(t, c, "filtered", "tagged", "x", func(in *s3.PutObjectInput) { in.Tagging = aws.String("tier=tmp") })
	putObject(t, c, "filtered", "untagged", "x")
	putObject(t, c, "filtered", "large", "0123456789")
	midnight := clk.Now().Truncate(24 * time.Hour).Add(48 * time.Hour)
	putLifecycle(t, c, "filtered",
		types.LifecycleRule{Status: types.ExpirationStatusEnabled, Expiration: &types.LifecycleExpiration{Days: aws.Int32(1)},
			Filter: &types.LifecycleRuleFilter{Tag: &types.Tag{Key: aws.String("tier"), Value: aws.String("tmp")}}},
		types.LifecycleRule{Status: types.ExpirationStatusEnabled, Expiration: &types.LifecycleExpiration{Date: aws.Time(midnight)},
			Filter: &types.LifecycleRuleFilter{ObjectSizeGreaterThan: aws.Int64(5)}})
	clk.Advance(36 * time.Hour)
	waitForList(t, "the tagged object expired", []string{"large", "untagged"}, func() []string { return keys(t, c, "filtered") })
	clk.Advance(24 * time.Hour)
	waitForList(t, "the large object expired on the date", []string{"untagged"}, func() []string { return keys(t, c, "filtered") })
}

func TestLifecycleVersions(t *testing.T) {
	clk := clock.NewFake(lifecycleEpoch)
	_, c := startLocked(t, awstest.Clock(clk))
	lockedBucket(t, c, "history") // versioned, and some versions will be held
	putObject(t, c, "history", "doc", "v1")
	putObject(t, c, "history", "doc", "v2")
	held := putObject(t, c, "history", "held", "v1", func(in *s3.PutObjectInput) { in.ObjectLockLegalHoldStatus = types.ObjectLockLegalHoldStatusOn })
	putObject(t, c, "history", "held", "v2")
	putLifecycle(t, c, "history",
		types.LifecycleRule{ID: aws.String("expire"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{},
			Expiration:                  &types.LifecycleExpiration{Days: aws.Int32(1)},
			NoncurrentVersionExpiration: &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(1)}},
		types.LifecycleRule{ID: aws.String("markers"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{},
			Expiration: &types.LifecycleExpiration{ExpiredObjectDeleteMarker: aws.Bool(true)}})
	list := func() []string { return versions(t, c, "history") }

	// The current versions expire behind delete markers; the noncurrent
	// ones go, but for the one under a legal hold.
	clk.Advance(36 * time.Hour)
	waitForList(t, "first pass", []string{"doc:marker", "doc:version", "held:marker", "held:version", "held:version"}, list)
	// The versions the markers made noncurrent go a day later...
	clk.Advance(24 * time.Hour)
	waitForList(t, "second pass", []string{"doc:marker", "held:marker", "held:version"}, list)
	// ...and then the markers left with no versions.
	clk.Advance(24 * time.Hour)
	waitForList(t, "third pass", []string{"held:marker", "held:version"}, list)
	out, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("history")})
	if err != nil || len(out.Versions) != 1 || aws.ToString(out.Versions[0].VersionId) != aws.ToString(held.VersionId) {
		t.Errorf("the version under a legal hold: got %v, %v; want %s kept", out.Versions, err, aws.ToString(held.VersionId))
	}
}

func TestLifecycleNewerNoncurrentVersions(t *testing.T) {
	clk := clock.NewFake(lifecycleEpoch)
	_, c := startWithBucket(t, "kept", awstest.Clock(clk))
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("kept"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"1", "2", "3", "4"} {
		putObject(t, c, "kept", "k", v)
	}
	putLifecycle(t, c, "kept", types.LifecycleRule{Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{},
		NoncurrentVersionExpiration: &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(1), NewerNoncurrentVersions: aws.Int32(1)}})
	clk.Advance(36 * time.Hour)
	waitForList(t, "all but the newest noncurrent version expired", []string{"k:version", "k:version"}, func() []string { return versions(t, c, "kept") })
	if got := getObject(t, c, "kept", "k"); got != "4" {
		t.Errorf("current version: got %q, want 4", got)
	}
}

func TestLifecycleAbortsUploads(t *testing.T) {
	clk := clock.NewFake(lifecycleEpoch)
	srv, c := startWithBucket(t, "uploads", awstest.Clock(clk))
	old := createUpload(t, c, "uploads", "tmp/old")
	uploadPart(t, c, "uploads", "tmp/old", old, 1, []byte("part"))
	createUpload(t, c, "uploads", "other/kept")
	putLifecycle(t, c, "uploads", types.LifecycleRule{Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("tmp/")},
		AbortIncompleteMultipartUpload: &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(2)}})
	uploads := func() []string {
		out, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("uploads")})
		if err != nil {
			t.Fatalf("ListMultipartUploads: %v", err)
		}
		keys := []string{}
		for _, u := range out.Uploads {
			keys = append(keys, aws.ToString(u.Key))
		}
		return keys
	}
	blobs := countBlobs(t, srv)

	// A restart in between: the pass is found again from the store.
	srv.Restart(t)
	c = newClient(srv)
	clk.Advance(60 * time.Hour)
	waitForList(t, "the old upload aborted", []string{"other/kept"}, uploads)
	if got := countBlobs(t, srv); got != blobs-1 {
		t.Errorf("blobs after the abort: got %d, want %d (the part's deleted)", got, blobs-1)
	}
}

// listAllV2 pages through ListObjectsV2 and returns keys and prefixes in
// the order they came, and the number of pages.
func listAllV2(t *testing.T, c *s3.Client, in s3.ListObjectsV2Input) (keys, prefixes []string, pages int) {
	t.Helper()
	p := s3.NewListObjectsV2Paginator(c, &in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListObjectsV2: %v", err)
		}
		pages++
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		for _, cp := range out.CommonPrefixes {
			prefixes = append(prefixes, aws.ToString(cp.Prefix))
		}
	}
	return keys, prefixes, pages
}

func TestListObjects(t *testing.T) {
	_, c := startWithBucket(t, "listing")
	keys := []string{"a.txt", "b/1", "b/2", "b/c/3", "c/4", "d", "d/5", "e+f g", "z"}
	for _, k := range keys {
		putObject(t, c, "listing", k, k)
	}
	tests := []struct {
		name         string
		in           s3.ListObjectsV2Input
		keys, prefix []string
		pages        int
	}{
		{"all", s3.ListObjectsV2Input{}, keys, nil, 1},
		{"pages of 2", s3.ListObjectsV2Input{MaxKeys: aws.Int32(2)}, keys, nil, 5},
		{"prefix", s3.ListObjectsV2Input{Prefix: aws.String("b/")}, []string{"b/1", "b/2", "b/c/3"}, nil, 1},
		{"delimiter", s3.ListObjectsV2Input{Delimiter: aws.String("/")},
			[]string{"a.txt", "d", "e+f g", "z"}, []string{"b/", "c/", "d/"}, 1},
		{"delimiter, pages of 1", s3.ListObjectsV2Input{Delimiter: aws.String("/"), MaxKeys: aws.Int32(1)},
			[]string{"a.txt", "d", "e+f g", "z"}, []string{"b/", "c/", "d/"}, 7},
		{"prefix and delimiter", s3.ListObjectsV2Input{Prefix: aws.String("b/"), Delimiter: aws.String("/")},
			[]string{"b/1", "b/2"}, []string{"b/c/"}, 1},
		{"start-after", s3.ListObjectsV2Input{StartAfter: aws.String("c/4")}, []string{"d", "d/5", "e+f g", "z"}, nil, 1},
		{"start-after a prefix", s3.ListObjectsV2Input{StartAfter: aws.String("b/"), Delimiter: aws.String("/")},
			[]string{"d", "e+f g", "z"}, []string{"c/", "d/"}, 1},
		{"other delimiter", s3.ListObjectsV2Input{Delimiter: aws.String(".")}, []string{"b/1", "b/2", "b/c/3", "c/4", "d", "d/5", "e+f g", "z"}, []string{"a."}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Bucket = aws.String("listing")
			gotKeys, gotPrefixes, pages := listAllV2(t, c, tt.in)
			if diff := cmp.Diff(tt.keys, gotKeys); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.prefix, gotPrefixes); diff != "" {
				t.Errorf("common prefixes (-want +got):\n%s", diff)
			}
			if pages != tt.pages {
				t.Errorf("got %d pages, want %d", pages, tt.pages)
			}
		})
	}

	// encoding-type=url: the SDK decodes the keys back.
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("listing"), Prefix: aws.String("e"), EncodingType: types.EncodingTypeUrl})
	if err != nil || len(out.Contents) != 1 {
		t.Fatalf("encoding-type=url: %v, %v", out, err)
	}
	if got := aws.ToString(out.Contents[0].Key); got != "e+f g" && got != "e%2Bf+g" {
		t.Errorf("encoded key: got %q", got)
	}
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("listing"), EncodingType: "base64"})
	wantError(t, "bad encoding-type", err, "InvalidArgument", http.StatusBadRequest)
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("listing"), ContinuationToken: aws.String("!!!")})
	wantError(t, "bad continuation token", err, "InvalidArgument", http.StatusBadRequest)
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("no-such")})
	wantError(t, "missing bucket", err, "NoSuchBucket", http.StatusNotFound)

	// Version 1: marker and NextMarker.
	var v1 []string
	var marker *string
	for {
		out, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("listing"), MaxKeys: aws.Int32(3), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out.Contents {
			v1 = append(v1, aws.ToString(o.Key))
			if o.Owner == nil {
				t.Errorf("ListObjects v1 entries carry their owner")
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		marker = out.Contents[len(out.Contents)-1].Key
	}
	if diff := cmp.Diff(keys, v1); diff != "" {
		t.Errorf("ListObjects v1 (-want +got):\n%s", diff)
	}
	d1, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("listing"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(2)})
	if err != nil || aws.ToString(d1.NextMarker) != "b/" {
		t.Errorf("v1 NextMarker with a delimiter: got %v, %v", d1.NextMarker, err)
	}
}

// TestListManyKeysUnderOnePrefix: a delimiter listing skips a whole
// "directory" at once.
func TestListManyKeysUnderOnePrefix(t *testing.T) {
	_, c := startWithBucket(t, "wide")
	for i := range 1500 {
		putObject(t, c, "wide", fmt.Sprintf("dir/%04d", i), "")
	}
	putObject(t, c, "wide", "file", "")
	keys, prefixes, pages := listAllV2(t, c, s3.ListObjectsV2Input{Bucket: aws.String("wide"), Delimiter: aws.String("/")})
	if !cmp.Equal(keys, []string{"file"}) || !cmp.Equal(prefixes, []string{"dir/"}) || pages != 1 {
		t.Errorf("got keys %v prefixes %v in %d pages", keys, prefixes, pages)
	}
	keys, _, pages = listAllV2(t, c, s3.ListObjectsV2Input{Bucket: aws.String("wide"), Prefix: aws.String("dir/")})
	if len(keys) != 1500 || pages != 2 || keys[1499] != "dir/1499" || !strings.HasPrefix(keys[0], "dir/0000") {
		t.Errorf("got %d keys in %d pages", len(keys), pages)
	}
}
