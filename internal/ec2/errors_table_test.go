package ec2_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"overcast/internal/awstest"
)

func TestErrors(t *testing.T) {
	_, c, _ := start(t)
	id := aws.ToString(runRunning(t, c).InstanceId)
	awstest.Call(t, c.TerminateInstances, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	waitState(t, c, id, types.InstanceStateNameTerminated)
	group := awstest.Call(t, c.CreateSecurityGroup, &ec2.CreateSecurityGroupInput{GroupName: aws.String("app"), Description: aws.String("app")})
	defaultGroup := awstest.Call(t, c.DescribeSecurityGroups, &ec2.DescribeSecurityGroupsInput{GroupNames: []string{"default"}}).SecurityGroups[0]
	vpcID := aws.ToString(defaultGroup.VpcId)
	ssh := []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
		IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}
	awstest.Call(t, c.AuthorizeSecurityGroupIngress, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: group.GroupId, IpPermissions: ssh})

	const missingInstance = "i-0123456789abcdef0"
	runWith := func(mutate func(*ec2.RunInstancesInput)) *ec2.RunInstancesInput {
		in := &ec2.RunInstancesInput{ImageId: aws.String(ecsImageX86), InstanceType: types.InstanceTypeT3Micro,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}
		mutate(in)
		return in
	}
	bad := func(code, message string) awstest.APIError {
		return awstest.APIError{Code: code, Status: 400, Message: message}
	}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "describe a missing instance", Call: awstest.Fails(c.DescribeInstances, &ec2.DescribeInstancesInput{InstanceIds: []string{missingInstance}}),
			Want: bad("InvalidInstanceID.NotFound", "The instance ID '"+missingInstance+"' does not exist")},
		{Name: "describe two missing instances", Call: awstest.Fails(c.DescribeInstances, &ec2.DescribeInstancesInput{InstanceIds: []string{missingInstance, "i-0123456789abcdef1"}}),
			Want: bad("InvalidInstanceID.NotFound", "The instance IDs '"+missingInstance+", i-0123456789abcdef1' do not exist")},
		{Name: "malformed instance ID", Call: awstest.Fails(c.TerminateInstances, &ec2.TerminateInstancesInput{InstanceIds: []string{"web-1"}}),
			Want: bad("InvalidInstanceID.Malformed", `Invalid id: "web-1"`)},
		{Name: "an unknown filter", Call: awstest.Fails(c.DescribeInstances, &ec2.DescribeInstancesInput{Filters: []types.Filter{filter("colour", "blue")}}),
			Want: bad("InvalidParameterValue", "The filter 'colour' is invalid")},
		{Name: "MaxResults out of range", Call: awstest.Fails(c.DescribeInstances, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(2)}),
			Want: bad("InvalidParameterValue", "maxResults")},
		{Name: "MaxResults with instance IDs", Call: awstest.Fails(c.DescribeInstances, &ec2.DescribeInstancesInput{InstanceIds: []string{id}, MaxResults: aws.Int32(5)}),
			Want: bad("InvalidParameterCombination", "")},
		{Name: "start a terminated instance", Call: awstest.Fails(c.StartInstances, &ec2.StartInstancesInput{InstanceIds: []string{id}}),
			Want: bad("IncorrectInstanceState", "The instance '"+id+"' is not in a state from which it can be started.")},
		{Name: "stop a terminated instance", Call: awstest.Fails(c.StopInstances, &ec2.StopInstancesInput{InstanceIds: []string{id}}),
			Want: bad("IncorrectInstanceState", "The instance '"+id+"' is not in a state from which it can be stopped.")},
		{Name: "run without an image", Call: awstest.Fails(c.RunInstances, runWith(func(in *ec2.RunInstancesInput) { in.ImageId = nil })),
			Want: bad("MissingParameter", "The request must contain the parameter ImageId")},
		{Name: "run an unknown image", Call: awstest.Fails(c.RunInstances, runWith(func(in *ec2.RunInstancesInput) { in.ImageId = aws.String("ami-0123456789abcdef0") })),
			Want: bad("InvalidAMIID.NotFound", "The image id '[ami-0123456789abcdef0]' does not exist")},
		{Name: "run a malformed image ID", Call: awstest.Fails(c.RunInstances, runWith(func(in *ec2.RunInstancesInput) { in.ImageId = aws.String("ubuntu") })),
			Want: bad("InvalidAMIID.Malformed", `Invalid id: "ubuntu" (expecting "ami-...")`)},
		{Name: "run an unknown instance type", Call: awstest.Fails(c.RunInstances, runWith(func(in *ec2.RunInstancesInput) { in.InstanceType = "t3.huge" })),
			Want: bad("InvalidParameterValue", "Invalid value 't3.huge' for InstanceType.")},
		{Name: "run an arm64 type with an x86_64 image", Call: awstest.Fails(c.RunInstances, runWith(func(in *ec2.RunInstancesInput) { in.InstanceType = types.InstanceTypeT4gMicro })),
			Want: bad("InvalidParameterValue", "The architecture 'arm64' of the specified instance type does not match the architecture 'x86_64' of the specified AMI.")},
		{Name: "run in a missing subnet", Call: awstest.Fails(c.RunInstances, runWith(func(in *ec2.RunInstancesInput) { in.SubnetId = aws.String("subnet-0123456789abcdef0") })),
			Want: bad("InvalidSubnetID.NotFound", "The subnet ID 'subnet-0123456789abcdef0' does not exist")},
		{Name: "run with a missing group", Call: awstest.Fails(c.RunInstances, runWith(func(in *ec2.RunInstancesInput) { in.SecurityGroupIds = []string{"sg-0123456789abcdef0"} })),
			Want: bad("InvalidGroup.NotFound", "The security group 'sg-0123456789abcdef0' does not exist")},
		{Name: "run with MinCount 0", Call: awstest.Fails(c.RunInstances, runWith(func(in *ec2.RunInstancesInput) { in.MinCount = aws.Int32(0) })),
			Want: bad("InvalidParameterValue", "minCount")},
		{Name: "run with user data that is not base64", Call: awstest.Fails(c.RunInstances, runWith(func(in *ec2.RunInstancesInput) { in.UserData = aws.String("#!/bin/sh") })),
			Want: bad("InvalidParameterValue", "Invalid BASE64 encoding of user data.")},
		{Name: "run tagging a type RunInstances does not make", Call: awstest.Fails(c.RunInstances, runWith(func(in *ec2.RunInstancesInput) {
			in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeVpc, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}}
		})), Want: bad("InvalidParameterValue", "'vpc' is not a valid taggable resource type for this operation.")},
		{Name: "a duplicate group", Call: awstest.Fails(c.CreateSecurityGroup, &ec2.CreateSecurityGroupInput{GroupName: aws.String("app"), Description: aws.String("again")}),
			Want: bad("InvalidGroup.Duplicate", "The security group 'app' already exists for VPC '"+vpcID+"'")},
		{Name: "a group in a missing VPC", Call: awstest.Fails(c.CreateSecurityGroup, &ec2.CreateSecurityGroupInput{GroupName: aws.String("x"), Description: aws.String("x"), VpcId: aws.String("vpc-0123456789abcdef0")}),
			Want: bad("InvalidVpcID.NotFound", "The vpc ID 'vpc-0123456789abcdef0' does not exist")},
		{Name: "delete the default group", Call: awstest.Fails(c.DeleteSecurityGroup, &ec2.DeleteSecurityGroupInput{GroupId: defaultGroup.GroupId}),
			Want: bad("CannotDelete", "cannot be deleted by a user")},
		{Name: "delete a group by a missing name", Call: awstest.Fails(c.DeleteSecurityGroup, &ec2.DeleteSecurityGroupInput{GroupName: aws.String("nope")}),
			Want: bad("InvalidGroup.NotFound", "The security group 'nope' does not exist in default VPC '"+vpcID+"'")},
		{Name: "delete a group naming none", Call: awstest.Fails(c.DeleteSecurityGroup, &ec2.DeleteSecurityGroupInput{}),
			Want: bad("MissingParameter", "")},
		{Name: "describe a malformed group ID", Call: awstest.Fails(c.DescribeSecurityGroups, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{"app"}}),
			Want: bad("InvalidGroupId.Malformed", `Invalid id: "app" (expecting "sg-...")`)},
		{Name: "authorize a rule twice", Call: awstest.Fails(c.AuthorizeSecurityGroupIngress, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: group.GroupId, IpPermissions: ssh}),
			Want: bad("InvalidPermission.Duplicate", `the specified rule "peer: 0.0.0.0/0, TCP, from port: 22, to port: 22, ALLOW" already exists`)},
		{Name: "revoke a rule that is not there", Call: awstest.Fails(c.RevokeSecurityGroupIngress, &ec2.RevokeSecurityGroupIngressInput{GroupId: defaultGroup.GroupId, IpPermissions: ssh}),
			Want: bad("InvalidPermission.NotFound", "The specified rule does not exist in this security group.")},
		{Name: "describe a missing subnet", Call: awstest.Fails(c.DescribeSubnets, &ec2.DescribeSubnetsInput{SubnetIds: []string{"subnet-0123456789abcdef0"}}),
			Want: bad("InvalidSubnetID.NotFound", "The subnet ID 'subnet-0123456789abcdef0' does not exist")},
		{Name: "describe a missing VPC", Call: awstest.Fails(c.DescribeVpcs, &ec2.DescribeVpcsInput{VpcIds: []string{"vpc-0123456789abcdef0"}}),
			Want: bad("InvalidVpcID.NotFound", "The vpc ID 'vpc-0123456789abcdef0' does not exist")},
		{Name: "describe an unknown instance type", Call: awstest.Fails(c.DescribeInstanceTypes, &ec2.DescribeInstanceTypesInput{InstanceTypes: []types.InstanceType{"t3.huge"}}),
			Want: bad("InvalidInstanceType", "The following supplied instance types do not exist: [t3.huge]")},
		{Name: "tag a missing instance", Call: awstest.Fails(c.CreateTags, &ec2.CreateTagsInput{Resources: []string{missingInstance}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}),
			Want: bad("InvalidInstanceID.NotFound", "The instance ID '"+missingInstance+"' does not exist")},
		{Name: "a reserved tag key", Call: awstest.Fails(c.CreateTags, &ec2.CreateTagsInput{Resources: []string{vpcID}, Tags: []types.Tag{{Key: aws.String("aws:owner"), Value: aws.String("v")}}}),
			Want: bad("InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use")},
		{Name: "delete a missing interface", Call: awstest.Fails(c.DeleteNetworkInterface, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String("eni-0123456789abcdef0")}),
			Want: bad("InvalidNetworkInterfaceID.NotFound", "The networkInterface ID 'eni-0123456789abcdef0' does not exist")},
		{Name: "an interface in a missing subnet", Call: awstest.Fails(c.CreateNetworkInterface, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String("subnet-0123456789abcdef0")}),
			Want: bad("InvalidSubnetID.NotFound", "")},
		{Name: "describe a missing launch template", Call: awstest.Fails(c.DescribeLaunchTemplates, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{"nope"}}),
			Want: bad("InvalidLaunchTemplateName.NotFoundException", "At least one of the launch templates specified in the request does not exist.")},
		{Name: "delete a missing launch template", Call: awstest.Fails(c.DeleteLaunchTemplate, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String("lt-0123456789abcdef0")}),
			Want: bad("InvalidLaunchTemplateId.NotFound", "The specified launch template, with template ID lt-0123456789abcdef0, does not exist.")},
		{Name: "malformed launch template ID", Call: awstest.Fails(c.DeleteLaunchTemplate, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String("template")}),
			Want: bad("InvalidLaunchTemplateId.Malformed", "")},
	})
}
