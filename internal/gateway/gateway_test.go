package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"overcast/internal/api"
	"overcast/internal/awsproto"
	"overcast/internal/awstest"
	"overcast/internal/clock"
	"overcast/internal/gateway"
	"overcast/internal/service"
)

func apiError(t *testing.T, err error) (string, int) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want an API error", err)
	}
	status := 0
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return ae.ErrorCode(), status
}

func TestHealth(t *testing.T) {
	srv := awstest.Start(t)
	resp, err := http.Get(srv.URL + "/_overcast/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct {
		Status   string            `json:"status"`
		Version  string            `json:"version"`
		Services map[string]string `json:"services"`
		Docker   struct {
			Reachable *bool `json:"reachable"`
		} `json:"docker"`
		Store struct {
			Reachable bool `json:"reachable"`
		} `json:"store"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	if h.Status != "ok" || h.Version != "test" || h.Services["sts"] != "available" || h.Services["ecs"] == "" || h.Docker.Reachable == nil || !h.Store.Reachable {
		t.Errorf("health = %+v", h)
	}
	if len(h.Services) != len(api.Unimplemented()) {
		t.Errorf("health lists %d services, want all %d", len(h.Services), len(api.Unimplemented()))
	}
	resp, err = http.Get(srv.URL + "/_overcast/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `overcast_requests_total{service="overcast",status="200"}`) {
		t.Errorf("metrics do not count the health request:\n%s", b)
	}
}

// TestUnimplementedOperation: every operation of every modeled service
// answers, 501 in its protocol's envelope, never 404 or a hang.
func TestUnimplementedOperation(t *testing.T) {
	srv := awstest.Start(t)
	ctx := context.Background()
	tests := []struct {
		name, target, contentType, body, path, method, wantInBody string
	}{
		{"json", "TrentService.ListKeys", "application/x-amz-json-1.1", "{}", "/", "POST", `"__type":"NotImplemented"`},
		{"query", "", "application/x-www-form-urlencoded", "Action=DescribeEnvironments&Version=2010-12-01", "/", "POST", "<Code>NotImplemented</Code>"},
		{"rest-xml", "", "", "", "/2020-05-31/streaming-distribution", "GET", "<Code>NotImplemented</Code>"},
		// CBOR strings travel as they are: the __type's text shows in the bytes.
		{"rpc-v2-cbor", "", "", "", "/service/GraniteServiceVersion20100801/operation/ListDashboards", "POST", "com.amazonaws.cloudwatch#NotImplemented"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(ctx, tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			if tt.target != "" {
				req.Header.Set("X-Amz-Target", tt.target)
			}
			if tt.name == "rpc-v2-cbor" {
				req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
			}
			if tt.name == "rest-xml" {
				// CloudFront is only found by its signature's scope.
				req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/"+time.Now().UTC().Format("20060102")+"/us-east-1/cloudfront/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")
				req.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotImplemented || !strings.Contains(string(b), tt.wantInBody) {
				t.Errorf("got %d %s, want 501 with %s", resp.StatusCode, b, tt.wantInBody)
			}
		})
	}
}

func TestSignatureErrors(t *testing.T) {
	ctx := context.Background()
	srv := awstest.Start(t, awstest.Strict())
	// Root keys are known under --strict, so their signatures are checked.
	_, err := sts.NewFromConfig(srv.ConfigWith("test", "wrong", "")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if code, status := apiError(t, err); code != "SignatureDoesNotMatch" || status != 403 {
		t.Errorf("query API: got %s %d, want SignatureDoesNotMatch 403", code, status)
	}
	_, err = iam.NewFromConfig(srv.ConfigWith("AKIANOTAKEY000000000", "x", "")).ListUsers(ctx, &iam.ListUsersInput{})
	if code, status := apiError(t, err); code != "InvalidClientTokenId" || status != 403 {
		t.Errorf("unknown key: got %s %d, want InvalidClientTokenId 403", code, status)
	}
	// A JSON API reports bad signatures its own way.
	req, _ := http.NewRequest("POST", srv.URL+"/", strings.NewReader("{}"))
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.ListClusters")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/"+time.Now().UTC().Format("20060102")+
		"/us-east-1/ecs/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(b), `"__type":"InvalidSignatureException"`) {
		t.Errorf("json API bad signature: got %d %s", resp.StatusCode, b)
	}
	// A malformed Authorization header.
	req, _ = http.NewRequest("POST", srv.URL+"/", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=garbage")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("malformed Authorization: status %d, want 400", resp.StatusCode)
	}
}

func TestPresignedURLExpiry(t *testing.T) {
	ctx := context.Background()
	fake := clock.NewFake(time.Now())
	srv := awstest.Start(t, awstest.Strict(), awstest.Clock(fake))
	presigned, err := sts.NewPresignClient(sts.NewFromConfig(srv.ConfigWith("test", "test", ""))).
		PresignGetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	get := func() (int, string) {
		req, _ := http.NewRequest(presigned.Method, presigned.URL, nil)
		for k, vs := range presigned.SignedHeader {
			if !strings.EqualFold(k, "host") {
				req.Header[k] = vs
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, body := get(); status != 200 || !strings.Contains(body, "<Account>000000000000</Account>") {
		t.Fatalf("fresh presigned URL: %d %s", status, body)
	}
	fake.Advance(time.Hour)
	if status, body := get(); status != 403 {
		t.Errorf("expired presigned URL: %d %s, want 403", status, body)
	}
}

func TestCORSPreflight(t *testing.T) {
	srv := awstest.Start(t)
	req, _ := http.NewRequest("OPTIONS", srv.URL+"/", nil)
	req.Header.Set("Origin", "http://localhost:3000")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization,x-amz-date,x-amz-target,content-type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "x-amz-target") {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestBodyLimit(t *testing.T) {
	srv := awstest.Start(t)
	body := "Action=GetCallerIdentity&Version=2011-06-15&Pad=" + strings.Repeat("a", awsproto.MaxBodySize)
	resp, err := http.Post(srv.URL+"/", "application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", resp.StatusCode)
	}
}

func TestDataPlaneRouting(t *testing.T) {
	plane := func(name string, m service.Matcher) service.Plane {
		return service.Plane{Name: name, Match: m,
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, name) })}
	}
	gw := gateway.New(gateway.Config{Planes: []service.Plane{
		plane("registry", func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/v2/") }),
		plane("git", service.PathPrefix("/v1/repos/")),
		plane("cdn", service.HostSuffix(".cloudfront.localhost")),
		plane("internal", service.PathPrefix("/_overcast/plane/")),
	}})
	tests := []struct {
		host, path, auth, want string
	}{
		{"127.0.0.1:4566", "/v2/", "", "registry"},
		{"127.0.0.1:4566", "/v2/demo/manifests/latest", "Bearer x", "registry"},
		{"127.0.0.1:4566", "/v1/repos/app/info/refs", "", "git"},
		{"d111111abcdef8.cloudfront.localhost:4566", "/index.html", "", "cdn"},
		{"127.0.0.1:4566", "/_overcast/plane/x", "", "internal"},
	}
	for _, tt := range tests {
		req := httptest.NewRequest("GET", "http://"+tt.host+tt.path, nil)
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, req)
		if rec.Body.String() != tt.want {
			t.Errorf("%s%s: served by %q, want %q", tt.host, tt.path, rec.Body, tt.want)
		}
	}
	// /_overcast/health is the gateway's own, whatever the planes match.
	rec := httptest.NewRecorder()
	gw.ServeHTTP(rec, httptest.NewRequest("GET", "http://127.0.0.1/_overcast/health", nil))
	if !strings.Contains(rec.Body.String(), `"status":"ok"`) {
		t.Errorf("health: got %q", rec.Body)
	}
}
