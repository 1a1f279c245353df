package gateway_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

var fuzzMethods = []string{"GET", "POST", "PUT", "HEAD", "DELETE", "OPTIONS", "PATCH"}

// FuzzGatewayAnswers sends whatever a client might through the routing
// table overcast up builds (every modeled service answering 501, S3 as the
// fallback): any signing scope, target, path, host and content type. Every
// request must get a well-formed answer: nothing escapes ServeHTTP (which
// the server would turn into a dropped connection), no 500 (a handler that
// panicked or blamed itself for the client's bytes), and every error is an
// AWS envelope that parses as its Content-Type says.
func FuzzGatewayAnswers(f *testing.F) {
	f.Add(uint8(1), "dynamodb", "DynamoDB_20120810.ListTables", "/", "", "application/x-amz-json-1.0", []byte("{}"))
	f.Add(uint8(1), "", "Kinesis_20131202.ListStreams", "/", "", "application/x-amz-json-1.1", []byte("{}"))
	f.Add(uint8(1), "config", "StarlingDoveService.DescribeConfigRules", "/", "", "application/x-amz-json-1.1", []byte("{}"))
	f.Add(uint8(1), "ecs", "AmazonEC2ContainerServiceV20141113.ListClusters", "/", "", "application/x-amz-json-1.1", []byte("{}"))
	f.Add(uint8(1), "sdb", "", "/", "", "application/x-www-form-urlencoded", []byte("Action=ListDomains&Version=2009-04-15"))
	f.Add(uint8(1), "", "", "/", "", "application/x-www-form-urlencoded", []byte("Action=GetCallerIdentity&Version=2011-06-15"))
	f.Add(uint8(0), "apigateway", "", "/restapis?limit=5", "", "", []byte(nil))
	f.Add(uint8(2), "s3-outposts", "", "/v20180820/bucket/b", "", "application/xml", []byte("<A/>"))
	f.Add(uint8(3), "lambda", "", "/2015-03-31/functions/", "", "", []byte(nil))
	f.Add(uint8(2), "s3", "", "/bucket/key", "", "text/plain", []byte("data"))
	f.Add(uint8(0), "", "", "/key?list-type=2", "bucket.s3.localhost:4566", "", []byte(nil))
	f.Add(uint8(0), "", "", "/b/k?AWSAccessKeyId=AKID&Expires=1&Signature=x", "", "", []byte(nil))
	f.Add(uint8(5), "", "", "/_overcast/health", "", "", []byte(nil))
	f.Add(uint8(1), "cloudfront", "x.y", "/2020-05-31/distribution", "", "application/x-amz-json-1.1", []byte("{"))
	f.Add(uint8(1), "a/b", ".", "/", "", "multipart/form-data; boundary=\"", []byte("--\r\n"))
	gw := unimplementedGateway()
	f.Fuzz(func(t *testing.T, method uint8, scope, target, path, host, contentType string, body []byte) {
		u, err := url.ParseRequestURI(path)
		if err != nil {
			return // not a request line a server would pass on
		}
		req := httptest.NewRequest(fuzzMethods[int(method)%len(fuzzMethods)], "/", bytes.NewReader(body))
		req.URL, req.RequestURI = u, path
		if host != "" {
			req.Host = host
		}
		if target != "" {
			req.Header.Set("X-Amz-Target", target)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if scope != "" {
			sign(req, scope)
		}
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, req)
		if rec.Code < 200 || rec.Code > 599 || rec.Code == http.StatusInternalServerError {
			t.Fatalf("%s %s: status %d: %s", req.Method, path, rec.Code, rec.Body)
		}
		if rec.Code < 400 || strings.HasPrefix(u.Path, "/_overcast/") {
			return
		}
		if _, err := readWireError(rec.Code, rec.Header(), rec.Body.Bytes(), req.Method == http.MethodHead); err != nil {
			t.Fatalf("%s %s: status %d: %v", req.Method, path, rec.Code, err)
		}
	})
}
