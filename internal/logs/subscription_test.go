package logs_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
)

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
