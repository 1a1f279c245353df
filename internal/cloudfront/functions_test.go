package cloudfront_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"overcast/internal/awstest"
)

func TestFunctionsThroughTheSDK(t *testing.T) {
	c := newClient(t)
	code := []byte("function handler(event) { return event.request; }")
	cfg := &types.FunctionConfig{Comment: aws.String("rewrite"), Runtime: types.FunctionRuntimeCloudfrontJs20}
	created := awstest.Call(t, c.CreateFunction, &cloudfront.CreateFunctionInput{Name: aws.String("rewrite"), FunctionConfig: cfg, FunctionCode: code})
	meta := created.FunctionSummary.FunctionMetadata
	if got, want := aws.ToString(meta.FunctionARN), "arn:aws:cloudfront::000000000000:function/rewrite"; got != want || meta.Stage != types.FunctionStageDevelopment {
		t.Errorf("got ARN %q stage %s, want %q DEVELOPMENT", got, meta.Stage, want)
	}
	published := awstest.Call(t, c.PublishFunction, &cloudfront.PublishFunctionInput{Name: aws.String("rewrite"), IfMatch: created.ETag})
	if published.FunctionSummary.FunctionMetadata.Stage != types.FunctionStageLive {
		t.Errorf("got stage %s after publishing, want LIVE", published.FunctionSummary.FunctionMetadata.Stage)
	}
	live := awstest.Call(t, c.ListFunctions, &cloudfront.ListFunctionsInput{Stage: types.FunctionStageLive})
	if n := aws.ToInt32(live.FunctionList.Quantity); n != 1 {
		t.Errorf("got %d LIVE functions, want 1", n)
	}
	got := awstest.Call(t, c.GetFunction, &cloudfront.GetFunctionInput{Name: aws.String("rewrite"), Stage: types.FunctionStageLive})
	if string(got.FunctionCode) != string(code) {
		t.Errorf("got LIVE code %q, want %q", got.FunctionCode, code)
	}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "same name", Call: awstest.Fails(c.CreateFunction, &cloudfront.CreateFunctionInput{Name: aws.String("rewrite"), FunctionConfig: cfg,
			FunctionCode: code}), Want: awstest.Conflict("FunctionAlreadyExists", "")},
		{Name: "code over 10 KB", Call: awstest.Fails(c.CreateFunction, &cloudfront.CreateFunctionInput{Name: aws.String("big"), FunctionConfig: cfg,
			FunctionCode: []byte(strings.Repeat("x", 10*1024+1))}), Want: awstest.APIError{Code: "FunctionSizeLimitExceeded", Status: 413}},
		{Name: "no such function", Call: awstest.Fails(c.DescribeFunction, &cloudfront.DescribeFunctionInput{Name: aws.String("nope")}),
			Want: awstest.NotFound("NoSuchFunctionExists", "")},
		{Name: "test with a stale ETag", Call: awstest.Fails(c.TestFunction, &cloudfront.TestFunctionInput{Name: aws.String("rewrite"),
			IfMatch: aws.String("E0000000000000"), EventObject: []byte(viewerRequest)}), Want: awstest.APIError{Code: "PreconditionFailed", Status: 412}},
	})
}

const viewerRequest = `{"version": "1.0", "context": {"eventType": "viewer-request"}, "viewer": {"ip": "198.51.100.11"},
	"request": {"method": "GET", "uri": "/index.html", "querystring": {}, "headers": {}, "cookies": {}}}`

// TestTestFunction runs a function on the CloudFront Functions runtime
// through TestFunction.
func TestTestFunction(t *testing.T) {
	c := newClient(t)
	code := []byte(`function handler(event) { event.request.headers["x-test"] = {value: "yes"}; console.log("ran"); return event.request; }`)
	created := awstest.Call(t, c.CreateFunction, &cloudfront.CreateFunctionInput{Name: aws.String("header"), FunctionCode: code,
		FunctionConfig: &types.FunctionConfig{Comment: aws.String(""), Runtime: types.FunctionRuntimeCloudfrontJs20}})
	got := awstest.Call(t, c.TestFunction, &cloudfront.TestFunctionInput{Name: aws.String("header"), IfMatch: created.ETag,
		EventObject: []byte(viewerRequest)})
	r := got.TestResult
	if !strings.Contains(aws.ToString(r.FunctionOutput), `"x-test"`) || aws.ToString(r.FunctionErrorMessage) != "" ||
		aws.ToString(r.ComputeUtilization) == "" || len(r.FunctionExecutionLogs) != 1 {
		t.Errorf("got output %s, error %q, utilization %q, logs %q; want the header added, no error, a utilization and one log line",
			aws.ToString(r.FunctionOutput), aws.ToString(r.FunctionErrorMessage), aws.ToString(r.ComputeUtilization), r.FunctionExecutionLogs)
	}
	_, err := c.TestFunction(ctx, &cloudfront.TestFunctionInput{Name: aws.String("header"), IfMatch: created.ETag, EventObject: []byte("not json")})
	awstest.WantAPIError(t, err, awstest.BadRequest("InvalidArgument", ""))
}
