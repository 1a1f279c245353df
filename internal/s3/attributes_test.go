package s3_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
)

func TestGetObjectAttributes(t *testing.T) {
	_, c := start(t)
	createBucket(t, c, "attrs")
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("attrs"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	small := putObject(t, c, "attrs", "small", "hello", func(in *s3.PutObjectInput) {
		in.ChecksumAlgorithm = types.ChecksumAlgorithmSha256
		in.StorageClass = types.StorageClassStandardIa
	})
	id := createUpload(t, c, "attrs", "big")
	parts := []types.CompletedPart{
		{PartNumber: aws.Int32(1), ETag: aws.String(uploadPart(t, c, "attrs", "big", id, 1, randomBytes(5<<20, 1)))},
		{PartNumber: aws.Int32(2), ETag: aws.String(uploadPart(t, c, "attrs", "big", id, 2, randomBytes(5<<20, 2)))},
		{PartNumber: aws.Int32(3), ETag: aws.String(uploadPart(t, c, "attrs", "big", id, 3, randomBytes(10, 3)))},
	}
	done, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("attrs"), Key: aws.String("big"),
		UploadId: aws.String(id), MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		t.Fatal(err)
	}

	every := []types.ObjectAttributes{types.ObjectAttributesEtag, types.ObjectAttributesChecksum, types.ObjectAttributesObjectParts,
		types.ObjectAttributesStorageClass, types.ObjectAttributesObjectSize}
	type attrs struct {
		ETag, VersionID, StorageClass, SHA256, ChecksumType string
		Size                                                int64
		Parts                                               []int32
		TotalParts                                          int32
		Truncated                                           bool
	}
	get := func(key string, asked []types.ObjectAttributes, maxParts *int32, marker *string) attrs {
		t.Helper()
		out, err := c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("attrs"), Key: aws.String(key),
			ObjectAttributes: asked, MaxParts: maxParts, PartNumberMarker: marker})
		if err != nil {
			t.Fatalf("GetObjectAttributes(%s): %v", key, err)
		}
		a := attrs{ETag: aws.ToString(out.ETag), VersionID: aws.ToString(out.VersionId), StorageClass: string(out.StorageClass),
			Size: aws.ToInt64(out.ObjectSize)}
		if out.Checksum != nil {
			a.SHA256, a.ChecksumType = aws.ToString(out.Checksum.ChecksumSHA256), string(out.Checksum.ChecksumType)
		}
		if p := out.ObjectParts; p != nil {
			a.TotalParts, a.Truncated = aws.ToInt32(p.TotalPartsCount), aws.ToBool(p.IsTruncated)
			for _, part := range p.Parts {
				a.Parts = append(a.Parts, aws.ToInt32(part.PartNumber))
			}
		}
		return a
	}
	unquoted := func(etag *string) string { return strings.Trim(aws.ToString(etag), `"`) }
	tests := []struct {
		name     string
		key      string
		asked    []types.ObjectAttributes
		maxParts *int32
		marker   *string
		want     attrs
	}{
		{"every attribute of a simple object", "small", every, nil, nil, attrs{ETag: unquoted(small.ETag), VersionID: aws.ToString(small.VersionId),
			StorageClass: "STANDARD_IA", SHA256: aws.ToString(small.ChecksumSHA256), ChecksumType: "FULL_OBJECT", Size: 5}},
		{"only the size", "small", []types.ObjectAttributes{types.ObjectAttributesObjectSize}, nil, nil,
			attrs{VersionID: aws.ToString(small.VersionId), Size: 5}},
		{"a multipart object's parts", "big", []types.ObjectAttributes{types.ObjectAttributesEtag, types.ObjectAttributesObjectParts,
			types.ObjectAttributesStorageClass}, nil, nil, attrs{ETag: unquoted(done.ETag), VersionID: aws.ToString(done.VersionId),
			StorageClass: "STANDARD", Parts: []int32{1, 2, 3}, TotalParts: 3}},
		{"a page of parts", "big", []types.ObjectAttributes{types.ObjectAttributesObjectParts}, aws.Int32(2), nil,
			attrs{VersionID: aws.ToString(done.VersionId), Parts: []int32{1, 2}, TotalParts: 3, Truncated: true}},
		{"the next page", "big", []types.ObjectAttributes{types.ObjectAttributesObjectParts}, aws.Int32(2), aws.String("2"),
			attrs{VersionID: aws.ToString(done.VersionId), Parts: []int32{3}, TotalParts: 3}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, get(tt.key, tt.asked, tt.maxParts, tt.marker)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}

	_, err = c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("attrs"), Key: aws.String("small"),
		ObjectAttributes: []types.ObjectAttributes{"Color"}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidArgument", Status: http.StatusBadRequest, Message: "Invalid attribute name specified."})
	_, err = c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("attrs"), Key: aws.String("missing"), ObjectAttributes: every})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "NoSuchKey", Status: http.StatusNotFound})
	// Behind a delete marker the key is gone; its versions are still there.
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("attrs"), Key: aws.String("small")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("attrs"), Key: aws.String("small"), ObjectAttributes: every})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "NoSuchKey", Status: http.StatusNotFound})
	old, err := c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("attrs"), Key: aws.String("small"),
		VersionId: small.VersionId, ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesObjectSize}})
	if err != nil || aws.ToInt64(old.ObjectSize) != 5 {
		t.Errorf("GetObjectAttributes of the version under the delete marker: got %v, %v", old, err)
	}
}
