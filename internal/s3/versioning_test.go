package s3_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/clock"
)

func setVersioning(t *testing.T, c *s3.Client, bucket string, status types.BucketVersioningStatus) {
	t.Helper()
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: status}}); err != nil {
		t.Fatalf("PutBucketVersioning(%s): %v", status, err)
	}
}

func getVersion(t *testing.T, c *s3.Client, bucket, key, version string) (string, error) {
	t.Helper()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), VersionId: aws.String(version)})
	if err != nil {
		return "", err
	}
	defer out.Body.Close()
	b := make([]byte, 100)
	n, _ := out.Body.Read(b)
	return string(b[:n]), nil
}

func TestVersioning(t *testing.T) {
	_, c := startWithBucket(t, "versions")
	v, _ := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("versions")})
	if v.Status != "" {
		t.Errorf("new bucket versioning: got %q, want none", v.Status)
	}
	putObject(t, c, "versions", "k", "before") // the null version
	setVersioning(t, c, "versions", types.BucketVersioningStatusEnabled)
	v, _ = c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("versions")})
	if v.Status != types.BucketVersioningStatusEnabled {
		t.Errorf("versioning: got %q", v.Status)
	}
	v1 := aws.ToString(putObject(t, c, "versions", "k", "one").VersionId)
	v2 := aws.ToString(putObject(t, c, "versions", "k", "two").VersionId)
	if v1 == "" || v2 == "" || v1 == v2 {
		t.Fatalf("version IDs: %q, %q", v1, v2)
	}
	if got := getObject(t, c, "versions", "k"); got != "two" {
		t.Errorf("latest: got %q", got)
	}
	for version, want := range map[string]string{v1: "one", v2: "two", "null": "before"} {
		if got, err := getVersion(t, c, "versions", "k", version); err != nil || got != want {
			t.Errorf("version %s: got %q, %v; want %q", version, got, err, want)
		}
	}

	del, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("versions"), Key: aws.String("k")})
	if err != nil || !aws.ToBool(del.DeleteMarker) || del.VersionId == nil {
		t.Fatalf("delete in a versioned bucket: %+v, %v; want a delete marker", del, err)
	}
	marker := aws.ToString(del.VersionId)
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("versions"), Key: aws.String("k")})
	wantError(t, "GET behind a delete marker", err, "NoSuchKey", http.StatusNotFound)
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("versions"), Key: aws.String("k"), VersionId: aws.String(marker)})
	wantError(t, "HEAD of a delete marker by version", err, "", http.StatusMethodNotAllowed)
	if got, _ := getVersion(t, c, "versions", "k", v1); got != "one" {
		t.Errorf("old version behind the marker: %q", got)
	}
	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("versions")})
	if err != nil || len(list.Contents) != 0 {
		t.Errorf("listing hides deleted keys: %v, %v", list.Contents, err)
	}

	lv, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("versions")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ov := range lv.Versions {
		got = append(got, aws.ToString(ov.VersionId)+latest(ov.IsLatest))
	}
	if diff := cmp.Diff([]string{v2, v1, "null"}, got); diff != "" {
		t.Errorf("versions (-want +got):\n%s", diff)
	}
	if len(lv.DeleteMarkers) != 1 || aws.ToString(lv.DeleteMarkers[0].VersionId) != marker || !aws.ToBool(lv.DeleteMarkers[0].IsLatest) {
		t.Errorf("delete markers: %+v", lv.DeleteMarkers)
	}
	// Pagination by key-marker and version-id-marker.
	page, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("versions"), MaxKeys: aws.Int32(2)})
	if err != nil || !aws.ToBool(page.IsTruncated) || aws.ToString(page.NextVersionIdMarker) != v2 {
		t.Fatalf("first page: truncated %v, next %v, %v", page.IsTruncated, page.NextVersionIdMarker, err)
	}
	page2, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("versions"), MaxKeys: aws.Int32(2),
		KeyMarker: page.NextKeyMarker, VersionIdMarker: page.NextVersionIdMarker})
	if err != nil || len(page2.Versions) != 2 || aws.ToString(page2.Versions[0].VersionId) != v1 || aws.ToBool(page2.Versions[0].IsLatest) {
		t.Errorf("second page: %+v, %v", page2.Versions, err)
	}

	// Removing the marker brings the object back.
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("versions"), Key: aws.String("k"), VersionId: aws.String(marker)}); err != nil {
		t.Fatal(err)
	}
	if got := getObject(t, c, "versions", "k"); got != "two" {
		t.Errorf("after removing the marker: got %q", got)
	}
	// Deleting a version for good.
	awstest.Call(t, c.DeleteObject, &s3.DeleteObjectInput{Bucket: aws.String("versions"), Key: aws.String("k"), VersionId: aws.String(v2)})
	if got := getObject(t, c, "versions", "k"); got != "one" {
		t.Errorf("after deleting the latest version: got %q", got)
	}
	_, err = getVersion(t, c, "versions", "k", v2)
	wantError(t, "deleted version", err, "NoSuchVersion", http.StatusNotFound)
	_, err = getVersion(t, c, "versions", "k", "not-a-version")
	wantError(t, "malformed version", err, "InvalidArgument", http.StatusBadRequest)
}

// TestVersioningSuspended: writes make the null version, replacing the
// previous null version and keeping the others.
func TestVersioningSuspended(t *testing.T) {
	_, c := startWithBucket(t, "suspended")
	setVersioning(t, c, "suspended", types.BucketVersioningStatusEnabled)
	v1 := aws.ToString(putObject(t, c, "suspended", "k", "kept").VersionId)
	setVersioning(t, c, "suspended", types.BucketVersioningStatusSuspended)
	if got := aws.ToString(putObject(t, c, "suspended", "k", "null one").VersionId); got != "null" {
		t.Errorf("version of a write while suspended: got %q, want null", got)
	}
	putObject(t, c, "suspended", "k", "null two")
	lv, _ := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("suspended")})
	var got []string
	for _, ov := range lv.Versions {
		got = append(got, aws.ToString(ov.VersionId))
	}
	if diff := cmp.Diff([]string{"null", v1}, got); diff != "" {
		t.Errorf("versions (-want +got):\n%s", diff)
	}
	if got, _ := getVersion(t, c, "suspended", "k", "null"); got != "null two" {
		t.Errorf("null version: got %q", got)
	}
	del, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("suspended"), Key: aws.String("k")})
	if err != nil || !aws.ToBool(del.DeleteMarker) || aws.ToString(del.VersionId) != "null" {
		t.Errorf("delete while suspended: %+v, %v; want a null delete marker", del, err)
	}
	if got, _ := getVersion(t, c, "suspended", "k", v1); got != "kept" {
		t.Errorf("the versioned version survives: %q", got)
	}
}

func latest(b *bool) string {
	if aws.ToBool(b) {
		return "*"
	}
	return ""
}

var errLocked = awstest.APIError{Code: "AccessDenied", Status: http.StatusForbidden, Message: "Access Denied because object protected by object lock."}

// startLocked runs overcast with a client that sends every body's
// checksum, as the SDKs' default configuration does: S3 wants one for
// writes Object Lock applies to.
func startLocked(t *testing.T, opts ...awstest.Option) (*awstest.Server, *s3.Client) {
	t.Helper()
	srv := awstest.Start(t, opts...)
	return srv, newClient(srv, func(o *s3.Options) { o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenSupported })
}

// lockedBucket creates a bucket with Object Lock enabled.
func lockedBucket(t *testing.T, c *s3.Client, name string) {
	t.Helper()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name), ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
		t.Fatalf("CreateBucket(%s) with Object Lock: %v", name, err)
	}
}

func deleteVersion(c *s3.Client, bucket, key string, version *string, bypass bool) error {
	in := &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), VersionId: version}
	if bypass {
		in.BypassGovernanceRetention = aws.Bool(true)
	}
	_, err := c.DeleteObject(ctx, in)
	return err
}

func TestObjectLockConfiguration(t *testing.T) {
	_, c := startWithBucket(t, "plain")
	bucket := aws.String("plain")
	_, err := c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: bucket})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ObjectLockConfigurationNotFoundError", Status: http.StatusNotFound})
	enabled := &types.ObjectLockConfiguration{ObjectLockEnabled: types.ObjectLockEnabledEnabled}
	_, err = c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: bucket, ObjectLockConfiguration: enabled})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidBucketState", Status: http.StatusConflict})
	until := aws.Time(time.Now().Add(time.Hour))
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("k"), Body: strings.NewReader("x"),
		ObjectLockMode: types.ObjectLockModeGovernance, ObjectLockRetainUntilDate: until})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidRequest", Message: "Bucket is missing Object Lock Configuration"})
	putObject(t, c, "plain", "k", "x")
	_, err = c.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{Bucket: bucket, Key: aws.String("k"),
		Retention: &types.ObjectLockRetention{Mode: types.ObjectLockRetentionModeGovernance, RetainUntilDate: until}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidRequest", Message: "Bucket is missing Object Lock Configuration"})

	// A versioned bucket can turn Object Lock on, and then not suspend
	// versioning.
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: bucket,
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: bucket, ObjectLockConfiguration: enabled}); err != nil {
		t.Fatalf("PutObjectLockConfiguration on a versioned bucket: %v", err)
	}
	_, err = c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: bucket,
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusSuspended}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidBucketState", Status: http.StatusConflict})

	// A bucket created with Object Lock is versioned, with no default rule.
	lockedBucket(t, c, "locked")
	v, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("locked")})
	if err != nil || v.Status != types.BucketVersioningStatusEnabled {
		t.Errorf("versioning of a bucket created with Object Lock: got %v, %v; want Enabled", v, err)
	}
	rule := func(mode types.ObjectLockRetentionMode, days, years *int32) *types.ObjectLockConfiguration {
		return &types.ObjectLockConfiguration{ObjectLockEnabled: types.ObjectLockEnabledEnabled,
			Rule: &types.ObjectLockRule{DefaultRetention: &types.DefaultRetention{Mode: mode, Days: days, Years: years}}}
	}
	tests := []struct {
		name string
		cfg  *types.ObjectLockConfiguration
		want awstest.APIError // zero: accepted
	}{
		{"days", rule(types.ObjectLockRetentionModeGovernance, aws.Int32(1), nil), awstest.APIError{}},
		{"years", rule(types.ObjectLockRetentionModeCompliance, nil, aws.Int32(1)), awstest.APIError{}},
		{"days and years", rule(types.ObjectLockRetentionModeGovernance, aws.Int32(1), aws.Int32(1)), awstest.APIError{Code: "MalformedXML"}},
		{"no period", rule(types.ObjectLockRetentionModeGovernance, nil, nil), awstest.APIError{Code: "MalformedXML"}},
		{"unknown mode", rule("FOREVER", aws.Int32(1), nil), awstest.APIError{Code: "MalformedXML"}},
		{"zero days", rule(types.ObjectLockRetentionModeGovernance, aws.Int32(0), nil),
			awstest.APIError{Code: "InvalidArgument", Message: "Default retention period must be a positive integer value"}},
		{"not enabled", &types.ObjectLockConfiguration{}, awstest.APIError{Code: "MalformedXML"}},
	}
	for _, tt := range tests {
		_, err := c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: aws.String("locked"), ObjectLockConfiguration: tt.cfg})
		wantOutcome(t, tt.name, err, tt.want)
	}
	got, err := c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String("locked")})
	if err != nil {
		t.Fatal(err)
	}
	if d := got.ObjectLockConfiguration.Rule.DefaultRetention; d.Mode != types.ObjectLockRetentionModeCompliance || aws.ToInt32(d.Years) != 1 {
		t.Errorf("GetObjectLockConfiguration: got %+v, want the last accepted (COMPLIANCE, 1 year)", d)
	}
}

func TestObjectLockRetention(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	_, c := startLocked(t, awstest.Clock(clk))
	lockedBucket(t, c, "worm")
	day := clk.Now().Add(24 * time.Hour).Truncate(time.Second)
	lock := func(mode types.ObjectLockMode, until time.Time) func(*s3.PutObjectInput) {
		return func(in *s3.PutObjectInput) { in.ObjectLockMode, in.ObjectLockRetainUntilDate = mode, aws.Time(until) }
	}
	gov := putObject(t, c, "worm", "gov", "g", lock(types.ObjectLockModeGovernance, day))
	comp := putObject(t, c, "worm", "comp", "c", lock(types.ObjectLockModeCompliance, day))
	plain := putObject(t, c, "worm", "plain", "p")

	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("worm"), Key: aws.String("gov")})
	if err != nil || head.ObjectLockMode != types.ObjectLockModeGovernance || !aws.ToTime(head.ObjectLockRetainUntilDate).Equal(day) {
		t.Errorf("HeadObject: got mode %q until %v (%v), want GOVERNANCE until %v", head.ObjectLockMode, head.ObjectLockRetainUntilDate, err, day)
	}
	ret, err := c.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: aws.String("worm"), Key: aws.String("comp")})
	if err != nil || ret.Retention.Mode != types.ObjectLockRetentionModeCompliance || !aws.ToTime(ret.Retention.RetainUntilDate).Equal(day) {
		t.Errorf("GetObjectRetention: got %+v, %v", ret, err)
	}
	_, err = c.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: aws.String("worm"), Key: aws.String("plain")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "NoSuchObjectLockConfiguration", Status: http.StatusNotFound})

	// Deleting a protected version: GOVERNANCE gives way to a bypass,
	// COMPLIANCE to nothing. A delete marker is always allowed.
	awstest.WantAPIError(t, deleteVersion(c, "worm", "gov", gov.VersionId, false), errLocked)
	awstest.WantAPIError(t, deleteVersion(c, "worm", "comp", comp.VersionId, true), errLocked)
	if err := deleteVersion(c, "worm", "comp", nil, false); err != nil {
		t.Errorf("delete marker over a COMPLIANCE version: %v", err)
	}
	del, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("worm"), Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String("comp"), VersionId: comp.VersionId}, {Key: aws.String("plain"), VersionId: plain.VersionId}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(del.Errors) != 1 || aws.ToString(del.Errors[0].Code) != "AccessDenied" || len(del.Deleted) != 1 || aws.ToString(del.Deleted[0].Key) != "plain" {
		t.Errorf("DeleteObjects: got deleted %v, errors %v; want plain deleted, comp AccessDenied", del.Deleted, del.Errors)
	}

	// Retention in force may be lengthened or made stricter; weakening
	// GOVERNANCE needs the bypass, weakening COMPLIANCE is refused.
	retain := func(key string, version *string, mode types.ObjectLockRetentionMode, until *time.Time, bypass bool) error {
		in := &s3.PutObjectRetentionInput{Bucket: aws.String("worm"), Key: aws.String(key), VersionId: version,
			Retention: &types.ObjectLockRetention{Mode: mode, RetainUntilDate: until}}
		if bypass {
			in.BypassGovernanceRetention = aws.Bool(true)
		}
		_, err := c.PutObjectRetention(ctx, in)
		return err
	}
	later, sooner := day.Add(24*time.Hour), day.Add(-time.Hour)
	tests := []struct {
		name   string
		key    string
		mode   types.ObjectLockRetentionMode
		until  time.Time
		bypass bool
		want   awstest.APIError // zero: accepted
	}{
		{"shorten COMPLIANCE", "comp", types.ObjectLockRetentionModeCompliance, sooner, true, errLocked},
		{"COMPLIANCE to GOVERNANCE", "comp", types.ObjectLockRetentionModeGovernance, later, true, errLocked},
		{"lengthen COMPLIANCE", "comp", types.ObjectLockRetentionModeCompliance, later, false, awstest.APIError{}},
		{"shorten GOVERNANCE", "gov", types.ObjectLockRetentionModeGovernance, sooner, false, errLocked},
		{"shorten GOVERNANCE with bypass", "gov", types.ObjectLockRetentionModeGovernance, sooner, true, awstest.APIError{}},
		{"in the past", "gov", types.ObjectLockRetentionModeGovernance, clk.Now().Add(-time.Hour), true,
			awstest.APIError{Code: "InvalidArgument", Message: "The retain until date must be in the future!"}},
	}
	for _, tt := range tests {
		version := gov.VersionId
		if tt.key == "comp" {
			version = comp.VersionId
		}
		err := retain(tt.key, version, tt.mode, aws.Time(tt.until), tt.bypass)
		wantOutcome(t, tt.name, err, tt.want)
	}
	if err := deleteVersion(c, "worm", "gov", gov.VersionId, true); err != nil {
		t.Errorf("delete of a GOVERNANCE version with bypass: %v", err)
	}

	// Once the date passes, nothing protects the version.
	clk.Advance(49 * time.Hour)
	if err := deleteVersion(c, "worm", "comp", comp.VersionId, false); err != nil {
		t.Errorf("delete of a version whose retention ended: %v", err)
	}
}

func TestLegalHold(t *testing.T) {
	_, c := startLocked(t)
	lockedBucket(t, c, "held")
	put := putObject(t, c, "held", "k", "x", func(in *s3.PutObjectInput) { in.ObjectLockLegalHoldStatus = types.ObjectLockLegalHoldStatusOn })
	hold := func(status types.ObjectLockLegalHoldStatus) {
		t.Helper()
		if _, err := c.PutObjectLegalHold(ctx, &s3.PutObjectLegalHoldInput{Bucket: aws.String("held"), Key: aws.String("k"),
			LegalHold: &types.ObjectLockLegalHold{Status: status}}); err != nil {
			t.Fatalf("PutObjectLegalHold(%s): %v", status, err)
		}
	}
	got, err := c.GetObjectLegalHold(ctx, &s3.GetObjectLegalHoldInput{Bucket: aws.String("held"), Key: aws.String("k")})
	if err != nil || got.LegalHold.Status != types.ObjectLockLegalHoldStatusOn {
		t.Errorf("GetObjectLegalHold: got %+v, %v; want ON", got, err)
	}
	// A legal hold does not give way to the governance bypass.
	awstest.WantAPIError(t, deleteVersion(c, "held", "k", put.VersionId, true), errLocked)
	hold(types.ObjectLockLegalHoldStatusOff)
	if err := deleteVersion(c, "held", "k", put.VersionId, false); err != nil {
		t.Errorf("delete once the hold is off: %v", err)
	}

	putObject(t, c, "held", "never", "x")
	_, err = c.GetObjectLegalHold(ctx, &s3.GetObjectLegalHoldInput{Bucket: aws.String("held"), Key: aws.String("never")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "NoSuchObjectLockConfiguration", Status: http.StatusNotFound})
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("held"), Key: aws.String("k"), Body: strings.NewReader("x"),
		ObjectLockLegalHoldStatus: "MAYBE"})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidArgument"})
}

func TestDefaultRetention(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	srv, c := startLocked(t, awstest.Clock(clk))
	lockedBucket(t, c, "default")
	if _, err := c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: aws.String("default"),
		ObjectLockConfiguration: &types.ObjectLockConfiguration{ObjectLockEnabled: types.ObjectLockEnabledEnabled,
			Rule: &types.ObjectLockRule{DefaultRetention: &types.DefaultRetention{Mode: types.ObjectLockRetentionModeGovernance, Days: aws.Int32(2)}}}}); err != nil {
		t.Fatal(err)
	}
	put := putObject(t, c, "default", "k", "x")
	want := clk.Now().Add(48 * time.Hour)

	// Multipart uploads and copies get it too, or what they ask for.
	id := createUpload(t, c, "default", "mp")
	etag := uploadPart(t, c, "default", "mp", id, 1, []byte("part"))
	awstest.Call(t, c.CompleteMultipartUpload, &s3.CompleteMultipartUploadInput{Bucket: aws.String("default"), Key: aws.String("mp"),
		UploadId: aws.String(id), MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: aws.String(etag)}}}})
	asked := clk.Now().Add(72 * time.Hour).Truncate(time.Second)
	awstest.Call(t, c.CopyObject, &s3.CopyObjectInput{Bucket: aws.String("default"), Key: aws.String("copy"), CopySource: aws.String("default/k"),
		ObjectLockMode: types.ObjectLockModeCompliance, ObjectLockRetainUntilDate: aws.Time(asked)})
	type retention struct {
		Mode  types.ObjectLockRetentionMode
		Until time.Time
	}
	for key, w := range map[string]retention{"k": {"GOVERNANCE", want}, "mp": {"GOVERNANCE", want}, "copy": {"COMPLIANCE", asked}} {
		ret, err := c.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: aws.String("default"), Key: aws.String(key)})
		if err != nil {
			t.Errorf("GetObjectRetention(%s): %v", key, err)
			continue
		}
		got := retention{ret.Retention.Mode, aws.ToTime(ret.Retention.RetainUntilDate)}
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("retention of %s (-want +got):\n%s", key, diff)
		}
	}

	// S3 wants a digest of what a lock will apply to.
	bare := newClient(srv, func(o *s3.Options) { o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired })
	_, err := bare.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("default"), Key: aws.String("bare"), Body: strings.NewReader("x")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidRequest", Message: "Content-MD5 OR x-amz-checksum- HTTP header is required"})

	awstest.WantAPIError(t, deleteVersion(c, "default", "k", put.VersionId, false), errLocked)
	clk.Advance(48*time.Hour + time.Second)
	if err := deleteVersion(c, "default", "k", put.VersionId, false); err != nil {
		t.Errorf("delete after the default retention: %v", err)
	}
}
