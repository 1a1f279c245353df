package codebuild_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	"github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"overcast/internal/awstest"
)

// TestProjectVPCConfig: a vpcConfig naming the default VPC, one of its
// subnets and its default group is kept; one naming what EC2 does not have,
// or leaving a part out, is refused as CodeBuild refuses it.
func TestProjectVPCConfig(t *testing.T) {
	srv, c, _ := start(t)
	ec2c := ec2.NewFromConfig(srv.Config())
	vpcID := aws.ToString(awstest.Call(t, ec2c.DescribeVpcs, &ec2.DescribeVpcsInput{}).Vpcs[0].VpcId)
	subnetID := aws.ToString(awstest.Call(t, ec2c.DescribeSubnets, &ec2.DescribeSubnetsInput{}).Subnets[0].SubnetId)
	groupID := aws.ToString(awstest.Call(t, ec2c.DescribeSecurityGroups, &ec2.DescribeSecurityGroupsInput{}).SecurityGroups[0].GroupId)
	inVPC := func(name string, cfg types.VpcConfig) *codebuild.CreateProjectInput {
		in := noSourceProject(name, "version: 0.2")
		in.VpcConfig = &cfg
		return in
	}

	valid := types.VpcConfig{VpcId: &vpcID, Subnets: []string{subnetID}, SecurityGroupIds: []string{groupID}}
	got := awstest.Call(t, c.CreateProject, inVPC("in-vpc", valid)).Project.VpcConfig
	if got == nil || aws.ToString(got.VpcId) != vpcID || len(got.Subnets) != 1 || len(got.SecurityGroupIds) != 1 {
		t.Errorf("vpcConfig: got %+v, want %+v", got, valid)
	}

	invalid := func(msg string) awstest.APIError { return awstest.BadRequest("InvalidInputException", msg) }
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "CreateProject: subnets without a VPC", Want: invalid("Invalid vpc config: vpcId must be specified"),
			Call: awstest.Fails(c.CreateProject, inVPC("p1", types.VpcConfig{Subnets: []string{subnetID}, SecurityGroupIds: []string{groupID}}))},
		{Name: "CreateProject: no security groups", Want: invalid("Invalid vpc config: securityGroupIds must be specified"),
			Call: awstest.Fails(c.CreateProject, inVPC("p1", types.VpcConfig{VpcId: &vpcID, Subnets: []string{subnetID}}))},
		{Name: "CreateProject: an unknown VPC", Want: invalid("Invalid vpc config: The vpc ID 'vpc-0123456789abcdef0' does not exist"),
			Call: awstest.Fails(c.CreateProject, inVPC("p1", types.VpcConfig{VpcId: aws.String("vpc-0123456789abcdef0"),
				Subnets: []string{subnetID}, SecurityGroupIds: []string{groupID}}))},
		{Name: "CreateProject: an unknown subnet", Want: invalid("Invalid vpc config: The subnet ID 'subnet-0123456789abcdef0' does not exist"),
			Call: awstest.Fails(c.CreateProject, inVPC("p1", types.VpcConfig{VpcId: &vpcID,
				Subnets: []string{"subnet-0123456789abcdef0"}, SecurityGroupIds: []string{groupID}}))},
		{Name: "UpdateProject: an unknown security group", Want: invalid("Invalid vpc config: The security group ID 'sg-0123456789abcdef0' does not exist"),
			Call: awstest.Fails(c.UpdateProject, &codebuild.UpdateProjectInput{Name: aws.String("in-vpc"), VpcConfig: &types.VpcConfig{
				VpcId: &vpcID, Subnets: []string{subnetID}, SecurityGroupIds: []string{"sg-0123456789abcdef0"}}})},
	})
}
