package gateway_test

import (
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"overcast/internal/api"
	"overcast/internal/awsproto"
	"overcast/internal/awsproto/wiretest"
	"overcast/internal/gateway"
	"overcast/internal/service"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// wireError is an error response as an SDK reads it: the Content-Type
// that says which protocol's envelope it is, and the code and message from
// that envelope.
type wireError struct {
	Status        int
	ContentType   string
	Code, Message string
}

// readWireError parses an error response the way the SDKs do and fails
// when it is not a well-formed envelope: a body that does not parse as its
// Content-Type, no error code, or a Content-Length that is not the body's.
func readWireError(status int, h http.Header, body []byte, head bool) (wireError, error) {
	e := wireError{Status: status, ContentType: h.Get("Content-Type")}
	if cl := h.Get("Content-Length"); cl != "" && !head && cl != strconv.Itoa(len(body)) {
		return e, fmt.Errorf("Content-Length %s for a body of %d bytes", cl, len(body))
	}
	if h.Get("x-amzn-RequestId") == "" && h.Get("x-amz-request-id") == "" {
		return e, fmt.Errorf("no request ID header in %v", h)
	}
	ct, _, _ := mime.ParseMediaType(e.ContentType)
	proto := map[string]string{"application/x-amz-json-1.0": "json", "application/x-amz-json-1.1": "json",
		"application/json": "rest-json", "text/xml": "query", "application/xml": "rest-xml"}[ct]
	switch {
	case proto == "":
		return e, fmt.Errorf("Content-Type %q is no AWS error envelope", e.ContentType)
	case head:
		return e, nil
	}
	var err error
	e.Code, e.Message, err = wiretest.ReadError(proto, h, body)
	return e, err
}

// answer runs req through gw and reads the error it answered.
func answer(t *testing.T, gw http.Handler, req *http.Request) (wireError, http.Header) {
	t.Helper()
	rec := httptest.NewRecorder()
	gw.ServeHTTP(rec, req)
	e, err := readWireError(rec.Code, rec.Header(), rec.Body.Bytes(), req.Method == http.MethodHead)
	if err != nil {
		t.Fatalf("%s %s: status %d: %v", req.Method, req.URL, rec.Code, err)
	}
	return e, rec.Header()
}

// sign gives req a SigV4 Authorization whose scope names service. Outside
// --strict an unknown key's signature is not checked, so it needs none.
func sign(req *http.Request, service string) {
	now := time.Now().UTC()
	req.Header.Set("X-Amz-Date", now.Format("20060102T150405Z"))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"+now.Format("20060102")+"/us-east-1/"+service+
		"/aws4_request, SignedHeaders=host;x-amz-date, Signature="+strings.Repeat("0", 64))
}

// request is a test request: target and contentType are headers, service
// signs it for that scope.
type request struct {
	method, path, target, contentType, body, service string
}

func (rq request) build() *http.Request {
	req := httptest.NewRequest(rq.method, rq.path, strings.NewReader(rq.body))
	if rq.target != "" {
		req.Header.Set("X-Amz-Target", rq.target)
	}
	if rq.contentType != "" {
		req.Header.Set("Content-Type", rq.contentType)
	}
	if rq.service != "" {
		sign(req, rq.service)
	}
	return req
}

// panicky answers every request by panicking, after setting a header that
// must not reach the client with the error.
type panicky struct{}

func (panicky) ServeRaw(w http.ResponseWriter, r *http.Request) (bool, error) {
	w.Header().Set("Content-Encoding", "gzip")
	panic("handler bug")
}

// TestPanicAnswersInternalFailure: a handler that panics gets the caller an
// InternalFailure in its protocol's envelope, never a dropped connection.
func TestPanicAnswersInternalFailure(t *testing.T) {
	services := []*awsproto.Service{
		{ID: "pjson", SigningName: "pjson", TargetPrefix: "PJson_20200101", Protocols: []string{"json"}, JSONVersion: "1.1"},
		{ID: "pquery", SigningName: "pquery", APIVersion: "2020-01-01", Protocols: []string{"query"}, XMLNamespace: "https://pquery.example.com/"},
		{ID: "prestjson", SigningName: "prestjson", Protocols: []string{"rest-json"}},
		{ID: "prestxml", SigningName: "prestxml", Protocols: []string{"rest-xml"}},
	}
	var apis []service.API
	for _, svc := range services {
		apis = append(apis, service.API{Binding: awsproto.NewBinding(svc, panicky{}, true), Fallback: svc.ID == "prestxml"})
	}
	panicPlane := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("plane bug") })
	gw := gateway.New(gateway.Config{APIs: apis, Logger: quiet, Planes: []service.Plane{
		{Name: "open", Match: service.PathPrefix("/open/"), Handler: panicPlane},
		{Name: "signed", Match: service.PathPrefix("/signed/"), Auth: service.AuthSigV4, API: "prestjson", Handler: panicPlane},
	}})
	const (
		jsonCT, queryCT, restJSONCT, restXMLCT = "application/x-amz-json-1.1", "text/xml", "application/json", "application/xml"
		form                                   = "application/x-www-form-urlencoded"
	)
	tests := []struct {
		name        string
		req         request
		contentType string
	}{
		{"json", request{method: "POST", path: "/", target: "PJson_20200101.Op", contentType: jsonCT, body: "{}"}, jsonCT},
		{"query", request{method: "POST", path: "/", contentType: form, body: "Action=Op&Version=2020-01-01"}, queryCT},
		{"rest-json", request{method: "GET", path: "/things", service: "prestjson"}, restJSONCT},
		{"rest-xml", request{method: "PUT", path: "/thing", contentType: restXMLCT, body: "<A/>"}, restXMLCT},
		{"rest-xml HEAD", request{method: "HEAD", path: "/thing"}, restXMLCT},
		{"signed data plane", request{method: "GET", path: "/signed/x", service: "prestjson"}, restJSONCT},
		{"open data plane, query caller", request{method: "POST", path: "/open/x", contentType: form, body: "Action=A"}, queryCT},
		{"open data plane, browser", request{method: "GET", path: "/open/x"}, restJSONCT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req.build()
			got, header := answer(t, gw, req)
			want := wireError{Status: http.StatusInternalServerError, ContentType: tt.contentType}
			if req.Method != http.MethodHead {
				want.Code, want.Message = "InternalFailure", awsproto.InternalFailure().Message
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			if ce := header.Get("Content-Encoding"); ce != "" {
				t.Errorf("got Content-Encoding %q from the failed handler, want none", ce)
			}
		})
	}
}

// unimplementedGateway routes like overcast up, with every modeled service
// answering 501 and S3 registered as the app registers it.
func unimplementedGateway() *gateway.Gateway {
	var apis []service.API
	for _, b := range api.Unimplemented() {
		a := service.API{Binding: b}
		if b.Service().ID == "s3" {
			a.Anonymous, a.Fallback, a.PresignedV2, a.VirtualHosts = true, true, true, []string{".s3.localhost"}
		}
		apis = append(apis, a)
	}
	return gateway.New(gateway.Config{APIs: apis, Logger: quiet})
}

// TestUnknownService: a call of a service overcast does not model gets what
// an AWS endpoint answers for an operation it does not have, in the
// envelope of the caller's protocol, so that clients fail without retrying.
func TestUnknownService(t *testing.T) {
	gw := unimplementedGateway()
	const (
		json10, json11, query, restJSON, restXML = "application/x-amz-json-1.0", "application/x-amz-json-1.1", "text/xml", "application/json", "application/xml"
		form                                     = "application/x-www-form-urlencoded; charset=utf-8"
		unknownOp                                = "UnknownOperationException"
	)
	tests := []struct {
		name string
		req  request
		want wireError
	}{
		{"json, signed", request{method: "POST", path: "/", target: "DynamoDB_20120810.ListTables", contentType: json10, body: "{}", service: "dynamodb"},
			wireError{400, json10, unknownOp, "overcast does not serve the dynamodb API, so it has no operation ListTables."}},
		{"json 1.1, unsigned", request{method: "POST", path: "/", target: "StarlingDoveService.DescribeConfigRules", contentType: json11, body: "{}"},
			wireError{400, json11, unknownOp, "overcast does not serve the StarlingDoveService API, so it has no operation DescribeConfigRules."}},
		{"query", request{method: "POST", path: "/", contentType: form, body: "Action=ListDomains&Version=2009-04-15", service: "sdb"},
			wireError{400, query, "InvalidAction", "overcast does not serve the sdb API, so it has no operation ListDomains."}},
		{"query in the URL", request{method: "GET", path: "/?Action=ListDomains&Version=2009-04-15", service: "sdb"},
			wireError{400, query, "InvalidAction", "overcast does not serve the sdb API, so it has no operation ListDomains."}},
		// SimpleDB signs with SigV2, which names no service: its Action and
		// Version make it a query call all the same.
		{"query, SigV2", request{method: "POST", path: "/", contentType: form, body: "Action=ListDomains&Version=2009-04-15&AWSAccessKeyId=AKID&SignatureVersion=2&Signature=x"},
			wireError{400, query, "InvalidAction", "overcast does not serve the version 2009-04-15 API, so it has no operation ListDomains."}},
		{"query in the URL, unsigned", request{method: "GET", path: "/?Action=ListDomains&Version=2009-04-15"},
			wireError{400, query, "InvalidAction", "overcast does not serve the version 2009-04-15 API, so it has no operation ListDomains."}},
		{"rest-json", request{method: "GET", path: "/restapis", service: "apigateway"},
			wireError{404, restJSON, unknownOp, "overcast does not serve the apigateway API."}},
		{"rest-json with a body", request{method: "POST", path: "/clusters", contentType: restJSON, body: `{"name":"c"}`, service: "eks"},
			wireError{404, restJSON, unknownOp, "overcast does not serve the eks API."}},
		{"rest-xml", request{method: "PUT", path: "/v20180820/bucket/b", contentType: restXML, body: "<A/>", service: "s3-outposts"},
			wireError{404, restXML, unknownOp, "overcast does not serve the s3-outposts API."}},
		{"HEAD", request{method: "HEAD", path: "/restapis", service: "apigateway"}, wireError{Status: 404, ContentType: restJSON}},
		// Requests that name no service are still S3's.
		{"unsigned, no target", request{method: "GET", path: "/bucket"},
			wireError{501, restXML, "NotImplemented", "The operation ListObjects is not implemented by overcast yet."}},
		{"unsigned form without an Action", request{method: "POST", path: "/bucket/key?uploads", contentType: form, body: "x=1"},
			wireError{501, restXML, "NotImplemented", "The operation CreateMultipartUpload is not implemented by overcast yet."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := answer(t, gw, tt.req.build())
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}
}
