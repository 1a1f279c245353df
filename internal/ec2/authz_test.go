package ec2

import (
	"testing"

	api "overcast/internal/api/ec2"
	"overcast/internal/authz/authztest"
)

func TestAuthzTable(t *testing.T) {
	const arn = "arn:aws:ec2:us-east-1:123456789012:"
	authztest.Run(t, authzTable, []authztest.Case{
		{Op: "RunInstances", In: &api.RunInstancesRequest{ImageId: new("ami-0abc"), SubnetId: new("subnet-1"), SecurityGroupIds: api.SecurityGroupIdStringList{"sg-1"}},
			Resources: []string{arn + "instance/*", "arn:aws:ec2:us-east-1::image/ami-0abc", arn + "subnet/subnet-1", arn + "security-group/sg-1"}},
		{Op: "TerminateInstances", In: &api.TerminateInstancesRequest{InstanceIds: api.InstanceIdStringList{"i-1", "i-2"}},
			Resources: []string{arn + "instance/i-1", arn + "instance/i-2"}},
		{Op: "CreateTags", In: &api.CreateTagsRequest{Resources: api.ResourceIdList{"i-1", "sg-2", "ami-3"}},
			Resources: []string{arn + "instance/i-1", arn + "security-group/sg-2", "arn:aws:ec2:us-east-1::image/ami-3"}},
		{Op: "AuthorizeSecurityGroupIngress", In: &api.AuthorizeSecurityGroupIngressRequest{GroupId: new("sg-2")}, Resources: []string{arn + "security-group/sg-2"}},
		{Op: "DescribeInstances", In: &api.DescribeInstancesRequest{}, Resources: []string{"*"}},
	})
}
