package awsproto_test

import (
	"strings"
	"testing"
	"time"

	"overcast/internal/api/ecr"
	"overcast/internal/api/s3"
	"overcast/internal/api/sts"
	"overcast/internal/awsproto"
)

// TestAuditJSON: CloudTrail's requestParameters and responseElements name
// members in lower camel case, hide sensitive ones and leave payloads out.
func TestAuditJSON(t *testing.T) {
	expires := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"nil", nil, ""},
		{"nothing set", &sts.GetCallerIdentityRequest{}, ""},
		{"secret hidden, timestamp in ISO 8601", &sts.AssumeRoleResponse{Credentials: &sts.Credentials{
			AccessKeyId: new("ASIAEXAMPLE"), SecretAccessKey: new("s3cr3t"), SessionToken: new("token"), Expiration: &expires}},
			`{"credentials":{"accessKeyId":"ASIAEXAMPLE","secretAccessKey":"HIDDEN_DUE_TO_SECURITY_REASONS","sessionToken":"token","expiration":"2026-12-07T12:00:00Z"}}`},
		{"object body left out", &s3.PutObjectRequest{Bucket: new("b"), Key: new("k"), Body: nopCloser{strings.NewReader("data")}},
			`{"bucket":"b","key":"k"}`},
		{"layer part left out", &ecr.UploadLayerPartRequest{RepositoryName: new("app"), LayerPartBlob: []byte("layer")},
			`{"repositoryName":"app"}`},
		{"web identity token hidden", &sts.AssumeRoleWithWebIdentityRequest{RoleArn: new("arn:aws:iam::000000000000:role/ci"), WebIdentityToken: new("jwt")},
			`{"roleArn":"arn:aws:iam::000000000000:role/ci","webIdentityToken":"HIDDEN_DUE_TO_SECURITY_REASONS"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(awsproto.AuditJSON(tt.v)); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }
