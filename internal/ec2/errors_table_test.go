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
	inst := run(t, c, &ec2.RunInstancesInput{InstanceType: types.InstanceTypeT3Micro})[0]
	id := aws.ToString(inst.InstanceId)
	waitState(t, c, id, types.InstanceStateNameRunning)
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
	bad := func(code, message string) awstest.APIError { return awstest.APIError{Code: code, Status: 400, Message: message} }
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{"describe a missing instance", awstest.Fails(c.DescribeInstances, &ec2.DescribeInstancesInput{InstanceIds: []string{missingInstance}}),
			bad("InvalidInstanceID.NotFound", "The instance ID '"+missingInstance+"' does not exist")},
		{"describe two missing instances", awstest.Fails(c.DescribeInstances, &ec2.DescribeInstancesInput{InstanceIds: []string{missingInstance, "i-0123456789abcdef1"}}),
			bad("InvalidInstanceID.NotFound", "The instance IDs '"+missingInstance+", i-0123456789abcdef1' do not exist")},
		{"malformed instance ID", awstest.Fails(c.TerminateInstances, &ec2.TerminateInstancesInput{InstanceIds: []string{"web-1"}}),
			bad("InvalidInstanceID.Malformed", `Invalid id: "web-1"`)},
		{"an unknown filter", awstest.Fails(c.DescribeInstances, &ec2.DescribeInstancesInput{Filters: []types.Filter{filter("colour", "blue")}}),
			bad("InvalidParameterValue", "The filter 'colour' is invalid")},
		{"MaxResults out of range", awstest.Fails(c.DescribeInstances, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(2)}),
			bad("InvalidParameterValue", "maxResults")},
		{"MaxResults with instance IDs", awstest.Fails(c.DescribeInstances, &ec2.DescribeInstancesInput{InstanceIds: []string{id}, MaxResults: aws.Int32(5)}),
			bad("InvalidParameterCombination", "")},
		{"start a terminated instance", awstest.Fails(c.StartInstances, &ec2.StartInstancesInput{InstanceIds: []string{id}}),
			bad("IncorrectInstanceState", "The instance '"+id+"' is not in a state from which it can be started.")},
		{"stop a terminated instance", awstest.Fails(c.StopInstances, &ec2.StopInstancesInput{InstanceIds: []string{id}}),
			bad("IncorrectInstanceState", "The instance '"+id+"' is not in a state from which it can be stopped.")},
		{"run without an image", awstest.Fails(c.RunInstances, runWith(func(in *ec2.RunInstancesInput) { in.ImageId = nil })),
			bad("MissingParameter", "The request must contain the parameter ImageId")},
		{"run an unknown image", awstest.Fails(c.RunInstances, runWith(func(in *ec2.RunInstancesInput) { in.ImageId = aws.String("ami-0123456789abcdef0") })),
			bad("InvalidAMIID.NotFound", "The image id '[ami-0123456789abcdef0]' does not exist")},
		{"run a malformed image ID", awstest.Fails(c.RunInstances, runWith(func(in *ec2.RunInstancesInput) { in.ImageId = aws.String("ubuntu") })),
			bad("InvalidAMIID.Malformed", `Invalid id: "ubuntu" (expecting "ami-...")`)},
		{"run an unknown instance type", awstest.Fails(c.RunInstances, runWith(func(in *ec2.RunInstancesInput) { in.InstanceType = "t3.huge" })),
			bad("InvalidParameterValue", "Invalid value 't3.huge' for InstanceType.")},
		{"run an arm64 type with an x86_64 image", awstest.Fails(c.RunInstances, runWith(func(in *ec2.RunInstancesInput) { in.InstanceType = types.InstanceTypeT4gMicro })),
			bad("InvalidParameterValue", "The architecture 'arm64' of the specified instance type does not match the architecture 'x86_64' of the specified AMI.")},
		{"run in a missing subnet", awstest.Fails(c.RunInstances, runWith(func(in *ec2.RunInstancesInput) { in.SubnetId = aws.String("subnet-0123456789abcdef0") })),
			bad("InvalidSubnetID.NotFound", "The subnet ID 'subnet-0123456789abcdef0' does not exist")},
		{"run with a missing group", awstest.Fails(c.RunInstances, runWith(func(in *ec2.RunInstancesInput) { in.SecurityGroupIds = []string{"sg-0123456789abcdef0"} })),
			bad("InvalidGroup.NotFound", "The security group 'sg-0123456789abcdef0' does not exist")},
		{"run with MinCount 0", awstest.Fails(c.RunInstances, runWith(func(in *ec2.RunInstancesInput) { in.MinCount = aws.Int32(0) })),
			bad("InvalidParameterValue", "minCount")},
		{"run with user data that is not base64", awstest.Fails(c.RunInstances, runWith(func(in *ec2.RunInstancesInput) { in.UserData = aws.String("#!/bin/sh") })),
			bad("InvalidParameterValue", "Invalid BASE64 encoding of user data.")},
		{"run tagging a type RunInstances does not make", awstest.Fails(c.RunInstances, runWith(func(in *ec2.RunInstancesInput) {
			in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeVpc, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}}
		})), bad("InvalidParameterValue", "'vpc' is not a valid taggable resource type for this operation.")},
		{"a duplicate group", awstest.Fails(c.CreateSecurityGroup, &ec2.CreateSecurityGroupInput{GroupName: aws.String("app"), Description: aws.String("again")}),
			bad("InvalidGroup.Duplicate", "The security group 'app' already exists for VPC '"+vpcID+"'")},
		{"a group in a missing VPC", awstest.Fails(c.CreateSecurityGroup, &ec2.CreateSecurityGroupInput{GroupName: aws.String("x"), Description: aws.String("x"), VpcId: aws.String("vpc-0123456789abcdef0")}),
			bad("InvalidVpcID.NotFound", "The vpc ID 'vpc-0123456789abcdef0' does not exist")},
		{"delete the default group", awstest.Fails(c.DeleteSecurityGroup, &ec2.DeleteSecurityGroupInput{GroupId: defaultGroup.GroupId}),
			bad("CannotDelete", "cannot be deleted by a user")},
		{"delete a group by a missing name", awstest.Fails(c.DeleteSecurityGroup, &ec2.DeleteSecurityGroupInput{GroupName: aws.String("nope")}),
			bad("InvalidGroup.NotFound", "The security group 'nope' does not exist in default VPC '"+vpcID+"'")},
		{"delete a group naming none", awstest.Fails(c.DeleteSecurityGroup, &ec2.DeleteSecurityGroupInput{}),
			bad("MissingParameter", "")},
		{"describe a malformed group ID", awstest.Fails(c.DescribeSecurityGroups, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{"app"}}),
			bad("InvalidGroupId.Malformed", `Invalid id: "app" (expecting "sg-...")`)},
		{"authorize a rule twice", awstest.Fails(c.AuthorizeSecurityGroupIngress, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: group.GroupId, IpPermissions: ssh}),
			bad("InvalidPermission.Duplicate", `the specified rule "peer: 0.0.0.0/0, TCP, from port: 22, to port: 22, ALLOW" already exists`)},
		{"revoke a rule that is not there", awstest.Fails(c.RevokeSecurityGroupIngress, &ec2.RevokeSecurityGroupIngressInput{GroupId: defaultGroup.GroupId, IpPermissions: ssh}),
			bad("InvalidPermission.NotFound", "The specified rule does not exist in this security group.")},
		{"describe a missing subnet", awstest.Fails(c.DescribeSubnets, &ec2.DescribeSubnetsInput{SubnetIds: []string{"subnet-0123456789abcdef0"}}),
			bad("InvalidSubnetID.NotFound", "The subnet ID 'subnet-0123456789abcdef0' does not exist")},
		{"describe a missing VPC", awstest.Fails(c.DescribeVpcs, &ec2.DescribeVpcsInput{VpcIds: []string{"vpc-0123456789abcdef0"}}),
			bad("InvalidVpcID.NotFound", "The vpc ID 'vpc-0123456789abcdef0' does not exist")},
		{"describe an unknown instance type", awstest.Fails(c.DescribeInstanceTypes, &ec2.DescribeInstanceTypesInput{InstanceTypes: []types.InstanceType{"t3.huge"}}),
			bad("InvalidInstanceType", "The following supplied instance types do not exist: [t3.huge]")},
		{"tag a missing instance", awstest.Fails(c.CreateTags, &ec2.CreateTagsInput{Resources: []string{missingInstance}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}),
			bad("InvalidInstanceID.NotFound", "The instance ID '"+missingInstance+"' does not exist")},
		{"a reserved tag key", awstest.Fails(c.CreateTags, &ec2.CreateTagsInput{Resources: []string{vpcID}, Tags: []types.Tag{{Key: aws.String("aws:owner"), Value: aws.String("v")}}}),
			bad("InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use")},
		{"delete a missing interface", awstest.Fails(c.DeleteNetworkInterface, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String("eni-0123456789abcdef0")}),
			bad("InvalidNetworkInterfaceID.NotFound", "The networkInterface ID 'eni-0123456789abcdef0' does not exist")},
		{"an interface in a missing subnet", awstest.Fails(c.CreateNetworkInterface, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String("subnet-0123456789abcdef0")}),
			bad("InvalidSubnetID.NotFound", "")},
	})
}
