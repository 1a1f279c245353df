package elbv2_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"overcast/internal/awstest"
)

func TestAccessLogs(t *testing.T) {
	f := start(t)
	s := f.service(t, "logged")
	s3c := s3.NewFromConfig(f.srv.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	awstest.Call(t, s3c.CreateBucket, &s3.CreateBucketInput{Bucket: aws.String("alb-logs")})
	enable := &elb.ModifyLoadBalancerAttributesInput{LoadBalancerArn: s.lb.LoadBalancerArn, Attributes: []types.LoadBalancerAttribute{
		{Key: aws.String("access_logs.s3.enabled"), Value: aws.String("true")},
		{Key: aws.String("access_logs.s3.bucket"), Value: aws.String("alb-logs")},
		{Key: aws.String("access_logs.s3.prefix"), Value: aws.String("web")}}}

	// Without a bucket policy letting ELB's log delivery in, ELB cannot
	// write its test file.
	_, err := f.elb.ModifyLoadBalancerAttributes(t.Context(), enable)
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidConfigurationRequest", Status: 400,
		Message: "Access Denied for bucket: alb-logs. Please check S3bucket permission"})
	awstest.Call(t, s3c.PutBucketPolicy, &s3.PutBucketPolicyInput{Bucket: aws.String("alb-logs"), Policy: aws.String(`{"Version":"2012-10-17",
		"Statement":[{"Effect":"Allow","Principal":{"Service":"logdelivery.elasticloadbalancing.amazonaws.com"},"Action":"s3:PutObject",
		"Resource":"arn:aws:s3:::alb-logs/web/AWSLogs/000000000000/*"}]}`)})
	awstest.Call(t, f.elb.ModifyLoadBalancerAttributes, enable)
	awstest.Call(t, s3c.HeadObject, &s3.HeadObjectInput{Bucket: aws.String("alb-logs"), Key: aws.String("web/AWSLogs/000000000000/ELBAccessLogTestFile")})

	f.rule(t, s.listener, 5, []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{
		StatusCode: aws.String("418"), MessageBody: aws.String("short and stout")}}},
		types.RuleCondition{Field: aws.String("path-pattern"), Values: []string{"/teapot"}})
	if code, _, _ := s.get(t, "/index.html?x=1", nil); code != 200 {
		t.Fatalf("GET through the load balancer: %d", code)
	}
	if code, _, _ := s.get(t, "/teapot", nil); code != 418 {
		t.Fatalf("GET of the fixed response: %d", code)
	}

	f.clock.Advance(5 * time.Minute)
	var key string
	awstest.WaitFor(t, "the access log delivered", func() bool {
		out := awstest.Call(t, s3c.ListObjectsV2, &s3.ListObjectsV2Input{Bucket: aws.String("alb-logs"),
			Prefix: aws.String("web/AWSLogs/000000000000/elasticloadbalancing/us-east-1/2025/06/01/000000000000_elasticloadbalancing_us-east-1_app.logged.")})
		if len(out.Contents) == 1 {
			key = aws.ToString(out.Contents[0].Key)
		}
		return key != ""
	})
	if !strings.HasSuffix(key, ".log.gz") {
		t.Errorf("log file %s: want a .log.gz", key)
	}
	obj := awstest.Call(t, s3c.GetObject, &s3.GetObjectInput{Bucket: aws.String("alb-logs"), Key: aws.String(key)})
	raw, _ := io.ReadAll(obj.Body)
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("log file: %v", err)
	}
	text, _ := io.ReadAll(zr)
	lines := strings.Split(strings.TrimSuffix(string(text), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d entries, want 2:\n%s", len(lines), text)
	}
	dns := aws.ToString(s.lb.DNSName)
	for i, want := range []struct{ fields map[int]string }{
		{map[int]string{0: "http", 4: strings.TrimPrefix(s.backend.URL, "http://"), 8: "200", 9: "200", 12: `"GET`, 13: "http://" + dns + ":" + strconv.Itoa(int(s.port)) + "/index.html?x=1",
			14: `HTTP/1.1"`, 18: s.tg, 22: "0", 24: `"forward"`}},
		{map[int]string{0: "http", 4: "-", 5: "-1", 6: "-1", 8: "418", 9: "-", 18: "-", 22: "5", 24: `"fixed-response"`}},
	} {
		fields := strings.Split(lines[i], " ")
		for n, w := range want.fields {
			if n >= len(fields) || fields[n] != w {
				t.Errorf("entry %d field %d: got %q, want %q\n%s", i, n, at(fields, n), w, lines[i])
			}
		}
		if !strings.HasPrefix(fields[3], "127.0.0.1:") || !strings.HasPrefix(fields[2], "app/logged/") {
			t.Errorf("entry %d: client %q and load balancer %q, want 127.0.0.1:port and app/logged/id", i, fields[3], fields[2])
		}
	}
}

func at(fields []string, n int) string {
	if n < len(fields) {
		return fields[n]
	}
	return ""
}
