package s3_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"overcast/internal/awstest"
)

// TestErrorsTable holds S3's most common failures to the codes, statuses
// and messages AWS answers them with. Unless a row says otherwise, they
// are from the S3 API Reference's "Error responses" list (List of error
// codes), which gives each code its status and its message.
func TestErrorsTable(t *testing.T) {
	srv, c := start(t)
	other := newClient(srv, signedBy("111122223333", "x"))
	anonymous := newClient(srv, func(o *s3.Options) { o.Credentials = aws.AnonymousCredentials{} })
	awstest.Call(t, c.CreateBucket, &s3.CreateBucketInput{Bucket: aws.String("data")})
	awstest.Call(t, c.PutObject, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("hello.txt"), Body: strings.NewReader("hello")})
	awstest.Call(t, c.CreateBucket, &s3.CreateBucketInput{Bucket: aws.String("versions")})
	awstest.Call(t, c.PutBucketVersioning, &s3.PutBucketVersioningInput{Bucket: aws.String("versions"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
	a := awstest.Call(t, c.PutObject, &s3.PutObjectInput{Bucket: aws.String("versions"), Key: aws.String("a"), Body: strings.NewReader("a")})
	awstest.Call(t, c.PutObject, &s3.PutObjectInput{Bucket: aws.String("versions"), Key: aws.String("b"), Body: strings.NewReader("b")})
	upload := awstest.Call(t, c.CreateMultipartUpload, &s3.CreateMultipartUploadInput{Bucket: aws.String("data"), Key: aws.String("big")}).UploadId
	var parts []types.CompletedPart
	for n := int32(1); n <= 2; n++ {
		p := awstest.Call(t, c.UploadPart, &s3.UploadPartInput{Bucket: aws.String("data"), Key: aws.String("big"), UploadId: upload,
			PartNumber: aws.Int32(n), Body: strings.NewReader("small part")})
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: p.ETag})
	}
	complete := func(parts ...types.CompletedPart) func(context.Context) error {
		return awstest.Fails(c.CompleteMultipartUpload, &s3.CompleteMultipartUploadInput{Bucket: aws.String("data"), Key: aws.String("big"),
			UploadId: upload, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	}
	get := func(c *s3.Client, in s3.GetObjectInput) func(context.Context) error {
		if in.Bucket == nil {
			in.Bucket = aws.String("data")
		}
		if in.Key == nil {
			in.Key = aws.String("hello.txt")
		}
		return awstest.Fails(c.GetObject, &in)
	}

	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "GetObject: no such key", Call: get(c, s3.GetObjectInput{Key: aws.String("nope")}),
			Want: awstest.NotFound("NoSuchKey", "The specified key does not exist.")},
		// A HEAD answer has no body: the SDK can only report the status.
		{Name: "HeadObject: no such key", Call: awstest.Fails(c.HeadObject, &s3.HeadObjectInput{Bucket: aws.String("data"), Key: aws.String("nope")}),
			Want: awstest.APIError{Code: "NotFound", Status: 404}},
		{Name: "GetObject: no such bucket", Call: get(c, s3.GetObjectInput{Bucket: aws.String("nowhere")}),
			Want: awstest.NotFound("NoSuchBucket", "The specified bucket does not exist")},
		{Name: "GetObject: a version of another key", Call: get(c, s3.GetObjectInput{Bucket: aws.String("versions"), Key: aws.String("b"), VersionId: a.VersionId}),
			Want: awstest.NotFound("NoSuchVersion", "The specified version does not exist.")},
		// Well-known: a version ID S3 did not mint is refused as malformed.
		{Name: "GetObject: a made-up version ID", Call: get(c, s3.GetObjectInput{VersionId: aws.String("not-a-version")}),
			Want: awstest.BadRequest("InvalidArgument", "Invalid version id specified")},
		{Name: "GetObject: If-Match differs", Call: get(c, s3.GetObjectInput{IfMatch: aws.String(`"0123"`)}),
			Want: awstest.APIError{Code: "PreconditionFailed", Status: 412, Message: "At least one of the pre-conditions you specified did not hold"}},
		{Name: "GetObject: range past the end", Call: get(c, s3.GetObjectInput{Range: aws.String("bytes=100-200")}),
			Want: awstest.APIError{Code: "InvalidRange", Status: 416, Message: "The requested range is not satisfiable"}},
		{Name: "GetObject: anonymous, no policy", Call: get(anonymous, s3.GetObjectInput{}),
			Want: awstest.Forbidden("AccessDenied", "Access Denied")},
		{Name: "CreateBucket: invalid name", Call: awstest.Fails(c.CreateBucket, &s3.CreateBucketInput{Bucket: aws.String("Bad_Name")}),
			Want: awstest.BadRequest("InvalidBucketName", "The specified bucket is not valid.")},
		// CreateBucket's reference: outside us-east-1 a bucket you own is
		// BucketAlreadyOwnedByYou; one another account owns is
		// BucketAlreadyExists wherever you ask.
		{Name: "CreateBucket: yours already, outside us-east-1", Call: awstest.Fails(newClient(srv, func(o *s3.Options) { o.Region = "eu-west-1" }).CreateBucket,
			&s3.CreateBucketInput{Bucket: aws.String("data"),
				CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintEuWest1}}),
			Want: awstest.Conflict("BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.")},
		{Name: "CreateBucket: another account's", Call: awstest.Fails(other.CreateBucket, &s3.CreateBucketInput{Bucket: aws.String("data")}),
			Want: awstest.Conflict("BucketAlreadyExists",
				"The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.")},
		{Name: "DeleteBucket: not empty", Call: awstest.Fails(c.DeleteBucket, &s3.DeleteBucketInput{Bucket: aws.String("data")}),
			Want: awstest.Conflict("BucketNotEmpty", "The bucket you tried to delete is not empty")},
		{Name: "GetBucketPolicy: none", Call: awstest.Fails(c.GetBucketPolicy, &s3.GetBucketPolicyInput{Bucket: aws.String("data")}),
			Want: awstest.NotFound("NoSuchBucketPolicy", "The bucket policy does not exist")},
		{Name: "GetBucketCors: none", Call: awstest.Fails(c.GetBucketCors, &s3.GetBucketCorsInput{Bucket: aws.String("data")}),
			Want: awstest.NotFound("NoSuchCORSConfiguration", "The CORS configuration does not exist")},
		{Name: "GetBucketLifecycleConfiguration: none", Call: awstest.Fails(c.GetBucketLifecycleConfiguration,
			&s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("data")}),
			Want: awstest.NotFound("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist")},
		{Name: "GetBucketTagging: none", Call: awstest.Fails(c.GetBucketTagging, &s3.GetBucketTaggingInput{Bucket: aws.String("data")}),
			Want: awstest.NotFound("NoSuchTagSet", "The TagSet does not exist")},
		{Name: "GetBucketWebsite: none", Call: awstest.Fails(c.GetBucketWebsite, &s3.GetBucketWebsiteInput{Bucket: aws.String("data")}),
			Want: awstest.NotFound("NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration")},
		// The Object Lock section of the S3 User Guide.
		{Name: "GetObjectLockConfiguration: not a lock bucket", Call: awstest.Fails(c.GetObjectLockConfiguration,
			&s3.GetObjectLockConfigurationInput{Bucket: aws.String("data")}),
			Want: awstest.NotFound("ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket")},
		// Bucket policy examples fail this way when the document is not
		// JSON (the S3 User Guide's "Troubleshooting" of bucket policies).
		{Name: "PutBucketPolicy: not JSON", Call: awstest.Fails(c.PutBucketPolicy, &s3.PutBucketPolicyInput{Bucket: aws.String("data"), Policy: aws.String("nope")}),
			Want: awstest.BadRequest("MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'")},
		{Name: "ListObjectsV2: made-up continuation token", Call: awstest.Fails(c.ListObjectsV2, &s3.ListObjectsV2Input{Bucket: aws.String("data"),
			ContinuationToken: aws.String("!!!")}),
			Want: awstest.BadRequest("InvalidArgument", "The continuation token provided is incorrect")},
		{Name: "UploadPart: no such upload", Call: awstest.Fails(c.UploadPart, &s3.UploadPartInput{Bucket: aws.String("data"), Key: aws.String("big"),
			UploadId: aws.String("nope"), PartNumber: aws.Int32(1), Body: strings.NewReader("x")}),
			Want: awstest.NotFound("NoSuchUpload",
				"The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")},
		{Name: "CompleteMultipartUpload: parts out of order", Call: complete(parts[1], parts[0]),
			Want: awstest.BadRequest("InvalidPartOrder", "The list of parts was not in ascending order. Parts must be ordered by part number.")},
		{Name: "CompleteMultipartUpload: wrong ETag", Call: complete(types.CompletedPart{PartNumber: aws.Int32(1), ETag: aws.String(`"0123"`)}),
			Want: awstest.BadRequest("InvalidPart",
				"One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")},
		{Name: "CompleteMultipartUpload: a part under 5 MiB", Call: complete(parts...),
			Want: awstest.BadRequest("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.")},
		{Name: "PutObject: unknown storage class", Call: awstest.Fails(c.PutObject, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("x"),
			Body: strings.NewReader("x"), StorageClass: "COLD"}),
			Want: awstest.BadRequest("InvalidStorageClass", "The storage class you specified is not valid")},
	})
}
