package awsproto_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"overcast/internal/api/ec2"
	"overcast/internal/api/ecs"
	"overcast/internal/api/iam"
	"overcast/internal/api/lambda"
	"overcast/internal/api/s3"
	"overcast/internal/awsproto"
)

// The decoders face whatever arrives on the socket. Each fuzz target sends
// arbitrary input through the real dispatcher of a large generated API
// (nobody implements the operations here, so a well-formed request ends in
// 501): the handler must answer, and a 500 would mean the codec blamed
// itself for the client's bytes.
func serve(t *testing.T, h http.Handler, req *http.Request) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code >= 500 && rec.Code != http.StatusNotImplemented {
		t.Fatalf("status %d for client input: %s", rec.Code, rec.Body)
	}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func FuzzJSONProtocol(f *testing.F) {
	f.Add("RunTask", []byte(`{"cluster":"c","taskDefinition":"t:1","count":2,"overrides":{"containerOverrides":[{"name":"x","environment":[{"name":"A","value":"b"}]}]}}`))
	f.Add("CreateService", []byte(`{"serviceName":"s","desiredCount":1.5,"deploymentConfiguration":{"maximumPercent":"x"}}`))
	f.Add("RegisterTaskDefinition", []byte(`{"family":"f","containerDefinitions":[{"name":"n","image":"i","memory":512,"portMappings":[{"containerPort":80}]}],"tags":null}`))
	f.Add("ListClusters", []byte(`[1,2,{`))
	h := awsproto.NewHandler(ecs.Bind(ecs.UnimplementedServer{}), quiet)
	f.Fuzz(func(t *testing.T, op string, body []byte) {
		req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113."+op)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		serve(t, h, req)
	})
}

func FuzzQueryProtocol(f *testing.F) {
	f.Add(false, "Action=CreateUser&Version=2010-05-08&UserName=a&Tags.member.1.Key=k&Tags.member.1.Value=v")
	f.Add(false, "Action=PutUserPolicy&UserName=a&PolicyName=p&PolicyDocument=%7B%7D")
	f.Add(true, "Action=RunInstances&ImageId=ami-1&MinCount=1&MaxCount=x&TagSpecification.1.Tag.1.Key=a")
	f.Add(true, "Action=DescribeInstances&Filter.1.Name=a&Filter.1.Value.1=b&Filter.1.Value.2=c&MaxResults=5")
	iamH := awsproto.NewHandler(iam.Bind(iam.UnimplementedServer{}), quiet)
	ec2H := awsproto.NewHandler(ec2.Bind(ec2.UnimplementedServer{}), quiet)
	f.Fuzz(func(t *testing.T, useEC2 bool, body string) {
		h := iamH
		if useEC2 {
			h = ec2H
		}
		req := httptest.NewRequest("POST", "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		serve(t, h, req)
	})
}

func FuzzRESTXML(f *testing.F) {
	f.Add("PUT", "/bucket?tagging", []byte(`<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>`))
	f.Add("POST", "/bucket?delete", []byte(`<Delete><Object><Key>a</Key></Object><Quiet>true</Quiet></Delete>`))
	f.Add("PUT", "/bucket", []byte(`<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>`))
	f.Add("GET", "/bucket?list-type=2&max-keys=x&prefix=a%2Fb", []byte{})
	f.Add("POST", "/bucket/key%2F%zz?uploadId=1", []byte(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"x"</ETag></Part></CompleteMultipartUpload>`))
	fuzzREST(f, awsproto.NewHandler(s3.Bind(s3.UnimplementedServer{}), quiet), http.Header{
		"Content-Type": {"application/xml"}, "X-Amz-Meta-A": {"b"}})
}

func FuzzRESTJSON(f *testing.F) {
	f.Add("POST", "/2015-03-31/functions", []byte(`{"FunctionName":"f","Runtime":"go1.x","Code":{"ZipFile":"UEsDBA=="},"Timeout":3}`))
	f.Add("GET", "/2015-03-31/functions/f?Qualifier=1", []byte{})
	f.Add("POST", "/2015-03-31/functions/f/invocations", []byte(`{"any":"payload"}`))
	f.Add("PUT", "/2017-03-31/tags/arn%3Aaws%3Alambda", []byte(`{"Tags":{"a":1}}`))
	fuzzREST(f, awsproto.NewHandler(lambda.Bind(lambda.UnimplementedServer{}), quiet), http.Header{
		"Content-Type": {"application/json"}, "X-Amz-Invocation-Type": {"Event"}})
}

// fuzzREST sends arbitrary methods, request targets and bodies, with
// header, to h, a REST protocol's dispatcher.
func fuzzREST(f *testing.F, h http.Handler, header http.Header) {
	f.Fuzz(func(t *testing.T, method, target string, body []byte) {
		if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\t#") {
			return
		}
		req, err := http.NewRequest(method, "http://localhost"+target, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.RequestURI = target
		req.Header = header.Clone()
		serve(t, h, req)
	})
}
