package cloudtrail_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ct "github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
)

// A browser POST upload is an S3 data event like a PutObject: PostObject.
func TestTrailRecordsPostUploads(t *testing.T) {
	srv := awstest.Start(t)
	s3c := s3Client(srv, srv.Config())
	createBucket(t, s3c, "trail-logs", trailPolicy)
	createBucket(t, s3c, "data", "")
	c := ct.NewFromConfig(srv.Config())
	awstest.Call(t, c.CreateTrail, &ct.CreateTrailInput{Name: aws.String("objects"), S3BucketName: aws.String("trail-logs"), S3KeyPrefix: aws.String("objects")})
	awstest.Call(t, c.PutEventSelectors, &ct.PutEventSelectorsInput{TrailName: aws.String("objects"), EventSelectors: []types.EventSelector{{
		ReadWriteType: types.ReadWriteTypeWriteOnly, IncludeManagementEvents: aws.Bool(false),
		DataResources: []types.DataResource{{Type: aws.String("AWS::S3::Object"), Values: []string{"arn:aws:s3:::data/"}}}}}})
	awstest.Call(t, c.StartLogging, &ct.StartLoggingInput{Name: aws.String("objects")})

	p, err := s3.NewPresignClient(s3c).PresignPostObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("form.txt")},
		func(o *s3.PresignPostOptions) { o.Expires = time.Minute })
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range p.Values {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "form.txt")
	io.WriteString(fw, "from a form")
	mw.Close()
	resp, err := http.Post(p.URL, mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST upload: got %d", resp.StatusCode)
	}
	awstest.Call(t, c.StopLogging, &ct.StopLoggingInput{Name: aws.String("objects")}) // delivers what is pending
	if got := deliveredEventNames(t, s3c, "objects"); !cmp.Equal(got, []string{"PostObject"}) {
		t.Errorf("the trail delivered %v, want [PostObject]", got)
	}
}
