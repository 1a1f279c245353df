package app_test

import (
	"context"
	"encoding/base64"
	"net/netip"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/efs"

	"overcast/internal/awstest"
)

// TestEC2InstanceJoinsECSCluster: an instance started with the usual ECS
// user data script becomes a container instance of the cluster it names,
// with the instance's zone and type, and leaves it when terminated.
func TestEC2InstanceJoinsECSCluster(t *testing.T) {
	srv := awstest.Start(t)
	ec2c := ec2.NewFromConfig(awstest.KeepRequestBodies(srv.Config()))
	ecsc := ecs.NewFromConfig(srv.Config())
	awstest.Call(t, ecsc.CreateCluster, &ecs.CreateClusterInput{ClusterName: aws.String("web")})
	images := awstest.Call(t, ec2c.DescribeImages, &ec2.DescribeImagesInput{Filters: []ec2types.Filter{
		{Name: aws.String("name"), Values: []string{"al2023-ami-ecs-hvm-*"}}, {Name: aws.String("architecture"), Values: []string{"x86_64"}}}})
	if len(images.Images) == 0 {
		t.Fatal("no ECS-optimized x86_64 image")
	}
	userData := "#!/bin/bash\necho ECS_CLUSTER=web >> /etc/ecs/ecs.config\n"
	run := awstest.Call(t, ec2c.RunInstances, &ec2.RunInstancesInput{ImageId: images.Images[0].ImageId, InstanceType: ec2types.InstanceTypeT3Medium,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(userData)))})
	inst := run.Instances[0]
	if ip, err := netip.ParseAddr(aws.ToString(inst.PrivateIpAddress)); err != nil || !ip.IsLoopback() {
		t.Errorf("private IP %q: want a loopback address the host reaches", aws.ToString(inst.PrivateIpAddress))
	}

	var arns []string
	awstest.WaitFor(t, "the instance to join cluster web", func() bool {
		arns = awstest.Call(t, ecsc.ListContainerInstances, &ecs.ListContainerInstancesInput{Cluster: aws.String("web")}).ContainerInstanceArns
		return len(arns) == 1
	})
	ci := awstest.Call(t, ecsc.DescribeContainerInstances, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("web"), ContainerInstances: arns}).ContainerInstances[0]
	if aws.ToString(ci.Ec2InstanceId) != aws.ToString(inst.InstanceId) {
		t.Errorf("container instance's EC2 instance: got %s, want %s", aws.ToString(ci.Ec2InstanceId), aws.ToString(inst.InstanceId))
	}
	filtered := awstest.Call(t, ecsc.ListContainerInstances, &ecs.ListContainerInstancesInput{Cluster: aws.String("web"),
		Filter: aws.String("attribute:ecs.instance-type == t3.medium and attribute:ecs.availability-zone == " + aws.ToString(inst.Placement.AvailabilityZone))})
	if len(filtered.ContainerInstanceArns) != 1 {
		t.Errorf("filter by the instance's type and zone: got %v", filtered.ContainerInstanceArns)
	}

	awstest.Call(t, ec2c.TerminateInstances, &ec2.TerminateInstancesInput{InstanceIds: []string{aws.ToString(inst.InstanceId)}})
	awstest.WaitFor(t, "the terminated instance to leave cluster web", func() bool {
		return len(awstest.Call(t, ecsc.ListContainerInstances, &ecs.ListContainerInstancesInput{Cluster: aws.String("web")}).ContainerInstanceArns) == 0
	})
}

// TestEFSMountTargetsInEC2Subnets: a mount target takes its zone, VPC and
// address from EC2's subnet; an unknown subnet is EFS's SubnetNotFound.
func TestEFSMountTargetsInEC2Subnets(t *testing.T) {
	srv := awstest.Start(t)
	ctx := context.Background()
	ec2c := ec2.NewFromConfig(awstest.KeepRequestBodies(srv.Config()))
	efsc := efs.NewFromConfig(srv.Config())
	subnets := awstest.Call(t, ec2c.DescribeSubnets, &ec2.DescribeSubnetsInput{}).Subnets
	if len(subnets) != 3 {
		t.Fatalf("default subnets: got %d, want 3", len(subnets))
	}
	fs := awstest.Call(t, efsc.CreateFileSystem, &efs.CreateFileSystemInput{CreationToken: aws.String("wiring")})
	awstest.WaitFor(t, "the file system to be available", func() bool {
		d := awstest.Call(t, efsc.DescribeFileSystems, &efs.DescribeFileSystemsInput{FileSystemId: fs.FileSystemId})
		return d.FileSystems[0].LifeCycleState == "available"
	})
	sn := subnets[1]
	mt := awstest.Call(t, efsc.CreateMountTarget, &efs.CreateMountTargetInput{FileSystemId: fs.FileSystemId, SubnetId: sn.SubnetId})
	prefix := netip.MustParsePrefix(aws.ToString(sn.CidrBlock))
	ip, err := netip.ParseAddr(aws.ToString(mt.IpAddress))
	if err != nil || !prefix.Contains(ip) || !ip.IsLoopback() {
		t.Errorf("mount target address %q: want one of subnet %s, on loopback", aws.ToString(mt.IpAddress), prefix)
	}
	if aws.ToString(mt.AvailabilityZoneName) != aws.ToString(sn.AvailabilityZone) || aws.ToString(mt.VpcId) != aws.ToString(sn.VpcId) {
		t.Errorf("mount target zone/VPC: got %s/%s, want %s/%s", aws.ToString(mt.AvailabilityZoneName), aws.ToString(mt.VpcId),
			aws.ToString(sn.AvailabilityZone), aws.ToString(sn.VpcId))
	}
	_, err = efsc.CreateMountTarget(ctx, &efs.CreateMountTargetInput{FileSystemId: fs.FileSystemId, SubnetId: aws.String("subnet-0123456789abcdef0")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "SubnetNotFound"})
}
