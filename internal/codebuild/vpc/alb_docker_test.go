package vpc_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"overcast/internal/awstest"
	"overcast/internal/codebuild/buildtest"
	"overcast/internal/codebuild/images"
	"overcast/internal/codebuild/runner"
	"overcast/internal/codebuild/vpc"
	"overcast/internal/docker/dockertest"
)

// TestVPCBuildReachesInternalALB is the seed's integration test against an
// internal load balancer: a build whose project is in the default VPC
// curls the ALB's listener at its address in the VPC (found, as on AWS,
// from the ALB's network interfaces) and gets its answer; the same build
// without the VPC cannot connect.
func TestVPCBuildReachesInternalALB(t *testing.T) {
	e := dockertest.Engine(t)
	srv := awstest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	labels := dockertest.Labels(t, e, randomHex(4))

	ec2c, elbc := ec2.NewFromConfig(srv.Config()), elb.NewFromConfig(srv.Config())
	vpcs := awstest.Call(t, ec2c.DescribeVpcs, &ec2.DescribeVpcsInput{})
	defaultVPC := vpcs.Vpcs[0]
	subnets := awstest.Call(t, ec2c.DescribeSubnets, &ec2.DescribeSubnetsInput{})
	var subnetIDs []string
	for _, sn := range subnets.Subnets {
		subnetIDs = append(subnetIDs, aws.ToString(sn.SubnetId))
	}
	lb := awstest.Call(t, elbc.CreateLoadBalancer, &elb.CreateLoadBalancerInput{Name: aws.String("private-api"),
		Scheme: elbtypes.LoadBalancerSchemeEnumInternal, Subnets: subnetIDs}).LoadBalancers[0]
	awstest.Call(t, elbc.CreateListener, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn,
		Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8080),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse, FixedResponseConfig: &elbtypes.FixedResponseActionConfig{
			StatusCode: aws.String("200"), ContentType: aws.String("text/plain"), MessageBody: aws.String("hello from inside the vpc")}}}})
	arnParts := strings.SplitN(aws.ToString(lb.LoadBalancerArn), ":loadbalancer/", 2)
	enis := awstest.Call(t, ec2c.DescribeNetworkInterfaces, &ec2.DescribeNetworkInterfacesInput{Filters: []ec2types.Filter{
		{Name: aws.String("description"), Values: []string{"ELB " + arnParts[1]}}}})
	if len(enis.NetworkInterfaces) == 0 {
		t.Fatalf("the load balancer %s has no network interfaces", arnParts[1])
	}
	albIP := aws.ToString(enis.NetworkInterfaces[0].PrivateIpAddress)

	image, note, err := images.New(e, images.Options{}).Resolve(ctx, "aws/codebuild/standard:7.0")
	if err != nil {
		t.Fatal(err)
	}
	buildspec := "version: 0.2\nphases:\n  build:\n    commands:\n      - curl -sS --max-time 10 http://" + albIP + ":8080/\n"
	build := func(attach func(context.Context, string) (func(), error)) (runner.Result, string) {
		t.Helper()
		return buildtest.Run(t, ctx, e, runner.Build{ID: "vpc:" + randomHex(4), Project: "vpc", Image: image, ImageNote: note,
			Buildspec: buildspec, Labels: labels, Timeout: 5 * time.Minute, AttachNetwork: attach}, nil)
	}

	cidr := netip.MustParsePrefix(aws.ToString(defaultVPC.CidrBlock))
	res, log := build(vpc.Attacher(e, cidr, vpc.LinkOptions{}))
	if res.Status != runner.StatusSucceeded || !strings.Contains(log, "hello from inside the vpc") {
		t.Errorf("build in the VPC: got %s, want SUCCEEDED with the ALB's answer; log:\n%s", res.Status, log)
	}
	res, log = build(nil)
	if res.Status != runner.StatusFailed || !strings.Contains(log, "Failed to connect to "+albIP) {
		t.Errorf("build outside the VPC: got %s, want FAILED, unable to connect; log:\n%s", res.Status, log)
	}
}
