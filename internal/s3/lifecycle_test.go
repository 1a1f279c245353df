package s3_test

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/clock"
)

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
	_, c := start(t, awstest.Clock(clk))
	createBucket(t, c, "expiring")
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
	_, c := start(t, awstest.Clock(clk))
	createBucket(t, c, "kept")
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
	srv, c := start(t, awstest.Clock(clk))
	createBucket(t, c, "uploads")
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
