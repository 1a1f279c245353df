package logs_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
)

func putMetricFilter(t *testing.T, c *cwl.Client, group, name, pattern string, tr types.MetricTransformation) {
	t.Helper()
	_, err := c.PutMetricFilter(context.Background(), &cwl.PutMetricFilterInput{LogGroupName: aws.String(group),
		FilterName: aws.String(name), FilterPattern: aws.String(pattern), MetricTransformations: []types.MetricTransformation{tr}})
	if err != nil {
		t.Fatalf("PutMetricFilter %s: %v", name, err)
	}
}

func metric(namespace, name, value string) types.MetricTransformation {
	return types.MetricTransformation{MetricNamespace: aws.String(namespace), MetricName: aws.String(name), MetricValue: aws.String(value)}
}

func TestMetricFilters(t *testing.T) {
	ctx := context.Background()
	c, _ := start(t)
	createGroup(t, c, "app")
	createGroup(t, c, "web")
	putMetricFilter(t, c, "app", "errors", "ERROR", metric("App", "Errors", "1"))
	latency := metric("App", "Latency", "$.latency")
	latency.Unit = types.StandardUnitMilliseconds
	latency.Dimensions = map[string]string{"Level": "$.level"}
	putMetricFilter(t, c, "app", "latency", `{ $.latency > 0 }`, latency)
	putMetricFilter(t, c, "web", "bytes", "[ip, user, status, size]", metric("Web", "Bytes", "$size"))
	putMetricFilter(t, c, "web", "errors", "ERROR", metric("App", "Errors", "1"))
	// Putting a filter again replaces it.
	putMetricFilter(t, c, "app", "errors", "?ERROR ?FATAL", metric("App", "Errors", "1"))

	got := awstest.Call(t, c.DescribeMetricFilters, &cwl.DescribeMetricFiltersInput{LogGroupName: aws.String("app")})
	want := []types.MetricFilter{
		{FilterName: aws.String("errors"), FilterPattern: aws.String("?ERROR ?FATAL"), LogGroupName: aws.String("app"),
			MetricTransformations: []types.MetricTransformation{metric("App", "Errors", "1")}},
		{FilterName: aws.String("latency"), FilterPattern: aws.String(`{ $.latency > 0 }`), LogGroupName: aws.String("app"),
			MetricTransformations: []types.MetricTransformation{latency}},
	}
	opts := cmp.Options{cmp.AllowUnexported(types.MetricFilter{}, types.MetricTransformation{}),
		cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".CreationTime" }, cmp.Ignore())}
	if diff := cmp.Diff(want, got.MetricFilters, opts); diff != "" {
		t.Errorf("DescribeMetricFilters app (-want +got):\n%s", diff)
	}
	for _, f := range got.MetricFilters {
		if aws.ToInt64(f.CreationTime) == 0 {
			t.Errorf("filter %s has no creationTime", aws.ToString(f.FilterName))
		}
	}

	names := func(in *cwl.DescribeMetricFiltersInput) []string {
		var out []string
		p := cwl.NewDescribeMetricFiltersPaginator(c, in)
		for p.HasMorePages() {
			for _, f := range awstest.NextPage(t, p).MetricFilters {
				out = append(out, aws.ToString(f.LogGroupName)+"/"+aws.ToString(f.FilterName))
			}
		}
		return out
	}
	wantListings(t, names, []listing[*cwl.DescribeMetricFiltersInput]{
		{"every group, by filter name", &cwl.DescribeMetricFiltersInput{}, []string{"web/bytes", "app/errors", "web/errors", "app/latency"}},
		{"a page at a time", &cwl.DescribeMetricFiltersInput{Limit: aws.Int32(1)}, []string{"web/bytes", "app/errors", "web/errors", "app/latency"}},
		{"name prefix", &cwl.DescribeMetricFiltersInput{LogGroupName: aws.String("app"), FilterNamePrefix: aws.String("lat")}, []string{"app/latency"}},
		{"metric", &cwl.DescribeMetricFiltersInput{MetricName: aws.String("Errors"), MetricNamespace: aws.String("App")}, []string{"app/errors", "web/errors"}},
		{"metric of another namespace", &cwl.DescribeMetricFiltersInput{MetricName: aws.String("Errors"), MetricNamespace: aws.String("Web")}, nil},
	})

	groups := awstest.Call(t, c.DescribeLogGroups, &cwl.DescribeLogGroupsInput{})
	counts := map[string]int32{}
	for _, g := range groups.LogGroups {
		counts[aws.ToString(g.LogGroupName)] = aws.ToInt32(g.MetricFilterCount)
	}
	if diff := cmp.Diff(map[string]int32{"app": 2, "web": 2}, counts); diff != "" {
		t.Errorf("metricFilterCount (-want +got):\n%s", diff)
	}

	if _, err := c.DeleteMetricFilter(ctx, &cwl.DeleteMetricFilterInput{LogGroupName: aws.String("app"), FilterName: aws.String("errors")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.DeleteMetricFilter(ctx, &cwl.DeleteMetricFilterInput{LogGroupName: aws.String("app"), FilterName: aws.String("errors")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Message: "The specified metric filter does not exist."})
	if got := names(&cwl.DescribeMetricFiltersInput{LogGroupName: aws.String("app")}); !cmp.Equal(got, []string{"app/latency"}) {
		t.Errorf("after DeleteMetricFilter: %v", got)
	}

	// A deleted group's filters go with it.
	if _, err := c.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: aws.String("web")}); err != nil {
		t.Fatal(err)
	}
	createGroup(t, c, "web")
	if got := names(&cwl.DescribeMetricFiltersInput{LogGroupName: aws.String("web")}); len(got) != 0 {
		t.Errorf("filters of a re-created group: %v, want none", got)
	}
}

func TestMetricFilterErrors(t *testing.T) {
	ctx := context.Background()
	c, _ := start(t)
	createGroup(t, c, "g")
	put := func(group, pattern string, tr types.MetricTransformation) func(context.Context) error {
		return awstest.Fails(c.PutMetricFilter, &cwl.PutMetricFilterInput{LogGroupName: aws.String(group), FilterName: aws.String("f"),
			FilterPattern: aws.String(pattern), MetricTransformations: []types.MetricTransformation{tr}})
	}
	withDims := func(tr types.MetricTransformation, dims map[string]string) types.MetricTransformation {
		tr.Dimensions = dims
		return tr
	}
	withDefault := withDims(metric("N", "M", "1"), map[string]string{"L": "$.level"})
	withDefault.DefaultValue = aws.Float64(0)
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "missing group", Call: put("nope", "x", metric("N", "M", "1")),
			Want: awstest.APIError{Code: "ResourceNotFoundException", Message: "The specified log group does not exist."}},
		{Name: "bad pattern", Call: put("g", `{ $.level = }`, metric("N", "M", "1")), Want: awstest.APIError{Code: "InvalidParameterException", Message: "Invalid filter pattern"}},
		{Name: "field value of a term pattern", Call: put("g", "ERROR", metric("N", "M", "$.latency")), Want: awstest.APIError{Code: "InvalidParameterException", Message: "Invalid metric value $.latency"}},
		{Name: "unnamed field", Call: put("g", "[a, b]", metric("N", "M", "$c")), Want: awstest.APIError{Code: "InvalidParameterException", Message: "Invalid metric value $c"}},
		{Name: "dimension not a field", Call: put("g", `{ $.a = 1 }`, withDims(metric("N", "M", "1"), map[string]string{"L": "level"})),
			Want: awstest.APIError{Code: "InvalidParameterException", Message: "Invalid dimension L"}},
		{Name: "four dimensions", Call: put("g", `{ $.a = 1 }`, withDims(metric("N", "M", "1"), map[string]string{"A": "$.a", "B": "$.b", "C": "$.c", "D": "$.d"})),
			Want: awstest.APIError{Code: "InvalidParameterException", Message: "at most 3 dimensions"}},
		{Name: "default with dimensions", Call: put("g", `{ $.a = 1 }`, withDefault), Want: awstest.APIError{Code: "InvalidParameterException", Message: "cannot have a default value"}},
		{Name: "metric name without namespace", Call: awstest.Fails(c.DescribeMetricFilters, &cwl.DescribeMetricFiltersInput{MetricName: aws.String("M")}),
			Want: awstest.APIError{Code: "InvalidParameterException"}},
		{Name: "describe a missing group", Call: awstest.Fails(c.DescribeMetricFilters, &cwl.DescribeMetricFiltersInput{LogGroupName: aws.String("nope")}),
			Want: awstest.APIError{Code: "ResourceNotFoundException"}},
		{Name: "delete in a missing group", Call: awstest.Fails(c.DeleteMetricFilter, &cwl.DeleteMetricFilterInput{LogGroupName: aws.String("nope"), FilterName: aws.String("f")}),
			Want: awstest.APIError{Code: "ResourceNotFoundException", Message: "The specified log group does not exist."}},
	})

	// 100 filters a group, AWS's quota; replacing one is not adding one.
	for i := range 100 {
		putMetricFilter(t, c, "g", fmt.Sprintf("f%03d", i), "ERROR", metric("N", "M", "1"))
	}
	putMetricFilter(t, c, "g", "f000", "WARN", metric("N", "M", "1"))
	awstest.WantAPIError(t, put("g", "ERROR", metric("N", "M", "1"))(ctx), awstest.APIError{Code: "LimitExceededException", Message: "Resource limit exceeded."})
}

func TestTestMetricFilter(t *testing.T) {
	c, _ := start(t)
	tests := []struct {
		name     string
		pattern  string
		messages []string
		want     []types.MetricFilterMatchRecord
	}{
		{"terms, as in the aws CLI's example", "ERROR", []string{"[ERROR] 400 BAD REQUEST", "[ERROR] 400 BAD REQUEST", "[INFO] 200 OK"},
			[]types.MetricFilterMatchRecord{
				{EventNumber: 1, EventMessage: aws.String("[ERROR] 400 BAD REQUEST"), ExtractedValues: map[string]string{}},
				{EventNumber: 2, EventMessage: aws.String("[ERROR] 400 BAD REQUEST"), ExtractedValues: map[string]string{}},
			}},
		{"space-delimited", "[ip, user, ..., status = 404, size]", []string{`127.0.0.1 frank [10/Oct/2000] "GET /" 404 1534`, `127.0.0.1 frank x 200 5`},
			[]types.MetricFilterMatchRecord{
				{EventNumber: 1, EventMessage: aws.String(`127.0.0.1 frank [10/Oct/2000] "GET /" 404 1534`),
					ExtractedValues: map[string]string{"$ip": "127.0.0.1", "$user": "frank", "$status": "404", "$size": "1534"}},
			}},
		{"JSON", `{ $.level = "ERROR" && $.latency > 100 }`, []string{`{"level":"ERROR","latency":250}`, `{"level":"ERROR","latency":5}`, "not JSON"},
			[]types.MetricFilterMatchRecord{
				{EventNumber: 1, EventMessage: aws.String(`{"level":"ERROR","latency":250}`), ExtractedValues: map[string]string{"$.level": "ERROR", "$.latency": "250"}},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := awstest.Call(t, c.TestMetricFilter, &cwl.TestMetricFilterInput{FilterPattern: aws.String(tt.pattern), LogEventMessages: tt.messages})
			if diff := cmp.Diff(tt.want, out.Matches, cmp.AllowUnexported(types.MetricFilterMatchRecord{})); diff != "" {
				t.Errorf("matches (-want +got):\n%s", diff)
			}
		})
	}
	_, err := c.TestMetricFilter(context.Background(), &cwl.TestMetricFilterInput{FilterPattern: aws.String("[a, , b]"), LogEventMessages: []string{"x"}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Message: "Invalid filter pattern"})
}

const (
	lambdaARN  = "arn:aws:lambda:us-east-1:000000000000:function:ship-logs"
	kinesisARN = "arn:aws:kinesis:us-east-1:000000000000:stream/logs"
	roleARN    = "arn:aws:iam::000000000000:role/CWLtoKinesis"
)

func TestSubscriptionFilters(t *testing.T) {
	ctx := context.Background()
	c, _ := start(t)
	createGroup(t, c, "g")
	put := func(name, destination, role string) error {
		in := &cwl.PutSubscriptionFilterInput{LogGroupName: aws.String("g"), FilterName: aws.String(name),
			FilterPattern: aws.String("ERROR"), DestinationArn: aws.String(destination)}
		if role != "" {
			in.RoleArn = aws.String(role)
		}
		_, err := c.PutSubscriptionFilter(ctx, in)
		return err
	}
	if err := put("to-lambda", lambdaARN, ""); err != nil {
		t.Fatal(err)
	}
	if err := put("to-kinesis", kinesisARN, roleARN); err != nil {
		t.Fatal(err)
	}
	// Replacing one is not adding one; a third is over AWS's quota of two.
	if err := put("to-lambda", lambdaARN, ""); err != nil {
		t.Fatal(err)
	}
	awstest.WantAPIError(t, put("third", lambdaARN, ""), awstest.APIError{Code: "LimitExceededException", Message: "Resource limit exceeded."})

	got := awstest.Call(t, c.DescribeSubscriptionFilters, &cwl.DescribeSubscriptionFiltersInput{LogGroupName: aws.String("g")})
	want := []types.SubscriptionFilter{
		{FilterName: aws.String("to-kinesis"), LogGroupName: aws.String("g"), FilterPattern: aws.String("ERROR"),
			DestinationArn: aws.String(kinesisARN), RoleArn: aws.String(roleARN), Distribution: types.DistributionByLogStream},
		{FilterName: aws.String("to-lambda"), LogGroupName: aws.String("g"), FilterPattern: aws.String("ERROR"),
			DestinationArn: aws.String(lambdaARN), Distribution: types.DistributionByLogStream},
	}
	opts := cmp.Options{cmp.AllowUnexported(types.SubscriptionFilter{}),
		cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".CreationTime" }, cmp.Ignore())}
	if diff := cmp.Diff(want, got.SubscriptionFilters, opts); diff != "" {
		t.Errorf("DescribeSubscriptionFilters (-want +got):\n%s", diff)
	}
	prefixed := awstest.Call(t, c.DescribeSubscriptionFilters, &cwl.DescribeSubscriptionFiltersInput{LogGroupName: aws.String("g"), FilterNamePrefix: aws.String("to-l")})
	if len(prefixed.SubscriptionFilters) != 1 || aws.ToString(prefixed.SubscriptionFilters[0].FilterName) != "to-lambda" {
		t.Errorf("by prefix: %+v", prefixed.SubscriptionFilters)
	}

	if _, err := c.DeleteSubscriptionFilter(ctx, &cwl.DeleteSubscriptionFilterInput{LogGroupName: aws.String("g"), FilterName: aws.String("to-kinesis")}); err != nil {
		t.Fatal(err)
	}
	if err := put("third", "arn:aws:firehose:us-east-1:000000000000:deliverystream/logs", roleARN); err != nil {
		t.Errorf("a filter in the freed place: %v", err)
	}
	_, err := c.DeleteSubscriptionFilter(ctx, &cwl.DeleteSubscriptionFilterInput{LogGroupName: aws.String("g"), FilterName: aws.String("to-kinesis")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Message: "The specified subscription filter does not exist."})
}

func TestSubscriptionFilterErrors(t *testing.T) {
	ctx := context.Background()
	c, _ := start(t)
	createGroup(t, c, "g")
	put := func(group, destination, role, pattern string) func(context.Context) error {
		in := &cwl.PutSubscriptionFilterInput{LogGroupName: aws.String(group), FilterName: aws.String("f"),
			FilterPattern: aws.String(pattern), DestinationArn: aws.String(destination)}
		if role != "" {
			in.RoleArn = aws.String(role)
		}
		return awstest.Fails(c.PutSubscriptionFilter, in)
	}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "missing group", Call: put("nope", lambdaARN, "", ""), Want: awstest.APIError{Code: "ResourceNotFoundException", Message: "The specified log group does not exist."}},
		{Name: "not an ARN", Call: put("g", "ship-logs", "", ""), Want: awstest.APIError{Code: "InvalidParameterException", Message: "Invalid destinationArn ship-logs"}},
		{Name: "an SQS queue", Call: put("g", "arn:aws:sqs:us-east-1:000000000000:q", "", ""), Want: awstest.APIError{Code: "InvalidParameterException", Message: "Invalid destinationArn"}},
		{Name: "another account's stream", Call: put("g", "arn:aws:kinesis:us-east-1:111111111111:stream/logs", roleARN, ""),
			Want: awstest.APIError{Code: "InvalidParameterException", Message: "Invalid destinationArn"}},
		{Name: "another region's function", Call: put("g", "arn:aws:lambda:eu-west-1:000000000000:function:f", "", ""),
			Want: awstest.APIError{Code: "InvalidParameterException", Message: "Invalid destinationArn"}},
		{Name: "Kinesis without a role", Call: put("g", kinesisARN, "", ""), Want: awstest.APIError{Code: "InvalidParameterException", Message: "A roleArn is required"}},
		{Name: "bad role", Call: put("g", kinesisARN, "arn:aws:iam::000000000000:user/bob", ""), Want: awstest.APIError{Code: "InvalidParameterException", Message: "Invalid roleArn"}},
		{Name: "bad pattern", Call: put("g", lambdaARN, "", "{ $.level = }"), Want: awstest.APIError{Code: "InvalidParameterException", Message: "Invalid filter pattern"}},
		{Name: "describe a missing group", Call: awstest.Fails(c.DescribeSubscriptionFilters, &cwl.DescribeSubscriptionFiltersInput{LogGroupName: aws.String("nope")}), Want: awstest.APIError{Code: "ResourceNotFoundException"}},
	})
	// A logs destination may be another account's: cross-account delivery.
	if err := put("g", "arn:aws:logs:us-east-1:111111111111:destination:central", "", "")(ctx); err != nil {
		t.Errorf("another account's logs destination: %v", err)
	}
}
