package awsproto_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"overcast/internal/api/ecr"
	"overcast/internal/api/iam"
	"overcast/internal/awsproto"
)

// BenchmarkDecode measures decoding and validating a valid request, the
// part of every request's path the codec owns.
func BenchmarkDecode(b *testing.B) {
	benches := []struct {
		name string
		api  awsproto.Binding
		req  func() *http.Request
	}{
		{"iam CreateUser", iam.Bind(iam.UnimplementedServer{}), func() *http.Request {
			body := "Action=CreateUser&Version=2010-05-08&UserName=alice&Path=%2Fteam%2F" +
				"&PermissionsBoundary=arn%3Aaws%3Aiam%3A%3A000000000000%3Apolicy%2Fboundary" +
				"&Tags.member.1.Key=env&Tags.member.1.Value=prod&Tags.member.2.Key=team&Tags.member.2.Value=web"
			r := httptest.NewRequest("POST", "/", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r.WithContext(awsproto.WithBody(context.Background(), []byte(body)))
		}},
		{"ecr PutImage", ecr.Bind(ecr.UnimplementedServer{}), func() *http.Request {
			body := `{"registryId":"000000000000","repositoryName":"team/web","imageTag":"v1.2.3",` +
				`"imageManifestMediaType":"application/vnd.docker.distribution.manifest.v2+json",` +
				`"imageDigest":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",` +
				`"imageManifest":"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":1469,\"digest\":\"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"},\"layers\":[]}"}`
			r := httptest.NewRequest("POST", "/", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/x-amz-json-1.1")
			r.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.PutImage")
			return r.WithContext(awsproto.WithBody(context.Background(), []byte(body)))
		}},
	}
	for _, bb := range benches {
		b.Run(bb.name, func(b *testing.B) {
			h := awsproto.NewHandler(bb.api, nil)
			r := bb.req()
			if _, err := awsproto.DecodeRequest(h, r); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := awsproto.DecodeRequest(h, r); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bb.name+" validate only", func(b *testing.B) {
			h := awsproto.NewHandler(bb.api, nil)
			r := bb.req()
			in, err := awsproto.DecodeRequest(h, r)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := awsproto.Validate(h, r, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
