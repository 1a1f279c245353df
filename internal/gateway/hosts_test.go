package gateway

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http/httptest"
	"testing"

	"overcast/internal/service"
	"overcast/internal/tabletest"
)

func TestVirtualHost(t *testing.T) {
	a := &api{API: service.API{VirtualHosts: []string{".s3.localhost"}}}
	tabletest.RunCommaOK(t, "virtualHost", a.virtualHost, map[string]string{
		"photos.s3.localhost:4566":      "photos",
		"my.dotted.bucket.s3.localhost": "my.dotted.bucket",
		"PHOTOS.S3.LOCALHOST.":          "photos",
	}, "s3.localhost:4566", "127.0.0.1:4566", "x.s3-website.localhost")
}

func TestPathStyle(t *testing.T) {
	tests := []struct{ uri, wantURI, wantPath string }{
		{"/", "/b", "/b"},
		{"/?list-type=2&prefix=a%2Fb", "/b?list-type=2&prefix=a%2Fb", "/b"},
		{"/key", "/b/key", "/b/key"},
		{"/dir/a%20b%2Fc?versionId=1", "/b/dir/a%20b%2Fc?versionId=1", "/b/dir/a b/c"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", tt.uri, nil)
		got := pathStyle(r, "b")
		if got.RequestURI != tt.wantURI || got.URL.Path != tt.wantPath {
			t.Errorf("pathStyle(%q): got %q (path %q), want %q (%q)", tt.uri, got.RequestURI, got.URL.Path, tt.wantURI, tt.wantPath)
		}
		if r.RequestURI != tt.uri {
			t.Errorf("pathStyle changed the original request")
		}
	}
}

// TestStringToSignV2 is the query-string authentication example of the S3
// documentation (RESTAuthentication, "Query String Request Authentication").
func TestStringToSignV2(t *testing.T) {
	r := httptest.NewRequest("GET", "/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620&Signature=x", nil)
	r.Host = "johnsmith.s3.amazonaws.com"
	sts := stringToSignV2(r, r.URL.Query(), "johnsmith")
	if want := "GET\n\n\n1175139620\n/johnsmith/photos/puppy.jpg"; sts != want {
		t.Fatalf("string to sign: got %q, want %q", sts, want)
	}
	mac := hmac.New(sha1.New, []byte("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"))
	mac.Write([]byte(sts))
	if got, want := base64.StdEncoding.EncodeToString(mac.Sum(nil)), "NpgCjnDzrM+WFzoENXmpNDUsSn8="; got != want {
		t.Errorf("signature: got %s, want %s", got, want)
	}
}
