package s3_test

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"
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
	_, c := start(t)
	createBucket(t, c, "versions")
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
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("versions"), Key: aws.String("k"), VersionId: aws.String(v2)}); err != nil {
		t.Fatal(err)
	}
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
	_, c := start(t)
	createBucket(t, c, "suspended")
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
