package s3_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"overcast/internal/awstest"
)

// Under --enforce-iam a browser POST upload is authorized as the s3:PutObject
// of its key by the policy's signer, as every other S3 call is.
func TestPostObjectIsAuthorized(t *testing.T) {
	srv, _ := startWithBucket(t, "forms", awstest.EnforceIAM())
	id, secret := userKey(t, srv, "poster")
	awstest.Call(t, iam.NewFromConfig(srv.Config()).PutUserPolicy, &iam.PutUserPolicyInput{UserName: aws.String("poster"), PolicyName: aws.String("uploads"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::forms/uploads/*"}]}`)})
	presign := s3.NewPresignClient(newClient(srv, signedBy(id, secret)))
	post := func(key string) (int, string) {
		p, err := presign.PresignPostObject(ctx, &s3.PutObjectInput{Bucket: aws.String("forms"), Key: aws.String(key)},
			func(o *s3.PresignPostOptions) { o.Expires = time.Minute })
		if err != nil {
			t.Fatal(err)
		}
		status, _, body := postForm(t, p.URL, p.Values, "from a form")
		return status, body
	}
	if status, body := post("uploads/a.txt"); status != 204 {
		t.Errorf("POST to the allowed prefix: got %d %s", status, body)
	}
	status, body := post("private/a.txt")
	want := `User: arn:aws:iam::000000000000:user/poster is not authorized to perform: s3:PutObject on resource: &#34;arn:aws:s3:::forms/private/a.txt&#34; because no identity-based policy allows the s3:PutObject action`
	if status != 403 || !strings.Contains(body, "<Code>AccessDenied</Code>") || !strings.Contains(body, want) {
		t.Errorf("POST elsewhere: got %d %s, want 403 AccessDenied %s", status, body, want)
	}
}
