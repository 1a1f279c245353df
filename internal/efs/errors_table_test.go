package efs_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/efs/types"

	"overcast/internal/awstest"
)

// TestErrorsTable holds EFS's common failures to the codes and statuses of
// the operations' Errors sections in the EFS API Reference, with the
// messages AWS words them with where users quote them.
func TestErrorsTable(t *testing.T) {
	srv, c := start(t)
	subnetA, subnetB := defaultSubnets(t, srv)
	id := createAvailable(t, c, "errors")
	awstest.Call(t, c.CreateMountTarget, &efs.CreateMountTargetInput{FileSystemId: aws.String(id), SubnetId: subnetA.SubnetId})
	const (
		noFS = "fs-00000000000000000"
		noMT = "fsmt-00000000000000000"
		noAP = "fsap-00000000000000000"
	)
	fsNotFound := awstest.APIError{Code: "FileSystemNotFound", Status: 404, Message: "File system '" + noFS + "' does not exist."}
	mtNotFound := awstest.APIError{Code: "MountTargetNotFound", Status: 404, Message: "Mount target '" + noMT + "' does not exist."}
	apNotFound := awstest.APIError{Code: "AccessPointNotFound", Status: 404, Message: "Access point '" + noAP + "' does not exist."}
	badRequest := awstest.APIError{Code: "BadRequest", Status: 400}

	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "DescribeFileSystems: no such file system", Want: fsNotFound,
			Call: awstest.Fails(c.DescribeFileSystems, &efs.DescribeFileSystemsInput{FileSystemId: aws.String(noFS)})},
		{Name: "DescribeFileSystems: an ID and a token", Want: badRequest,
			Call: awstest.Fails(c.DescribeFileSystems, &efs.DescribeFileSystemsInput{FileSystemId: aws.String(id), CreationToken: aws.String("errors")})},
		{Name: "CreateFileSystem: a used creation token", Want: awstest.APIError{Code: "FileSystemAlreadyExists", Status: 409, Message: id},
			Call: awstest.Fails(c.CreateFileSystem, &efs.CreateFileSystemInput{CreationToken: aws.String("errors")})},
		{Name: "CreateFileSystem: provisioned without a throughput", Want: badRequest,
			Call: awstest.Fails(c.CreateFileSystem, &efs.CreateFileSystemInput{CreationToken: aws.String("p"), ThroughputMode: types.ThroughputModeProvisioned})},
		{Name: "UpdateFileSystem: no such file system", Want: fsNotFound,
			Call: awstest.Fails(c.UpdateFileSystem, &efs.UpdateFileSystemInput{FileSystemId: aws.String(noFS), ThroughputMode: types.ThroughputModeElastic})},
		{Name: "DeleteFileSystem: no such file system", Want: fsNotFound,
			Call: awstest.Fails(c.DeleteFileSystem, &efs.DeleteFileSystemInput{FileSystemId: aws.String(noFS)})},
		{Name: "DeleteFileSystem: it has mount targets", Want: awstest.APIError{Code: "FileSystemInUse", Status: 409},
			Call: awstest.Fails(c.DeleteFileSystem, &efs.DeleteFileSystemInput{FileSystemId: aws.String(id)})},
		{Name: "CreateMountTarget: no such file system", Want: fsNotFound,
			Call: awstest.Fails(c.CreateMountTarget, &efs.CreateMountTargetInput{FileSystemId: aws.String(noFS), SubnetId: subnetA.SubnetId})},
		{Name: "CreateMountTarget: a second one in the zone", Want: awstest.APIError{Code: "MountTargetConflict", Status: 409, Message: "mount target already exists in this AZ"},
			Call: awstest.Fails(c.CreateMountTarget, &efs.CreateMountTargetInput{FileSystemId: aws.String(id), SubnetId: subnetA.SubnetId})},
		{Name: "CreateMountTarget: six security groups", Want: awstest.APIError{Code: "SecurityGroupLimitExceeded", Status: 400},
			Call: awstest.Fails(c.CreateMountTarget, &efs.CreateMountTargetInput{FileSystemId: aws.String(id), SubnetId: subnetB.SubnetId,
				SecurityGroups: []string{"sg-00000001", "sg-00000002", "sg-00000003", "sg-00000004", "sg-00000005", "sg-00000006"}})},
		{Name: "CreateMountTarget: an address outside the subnet", Want: badRequest,
			Call: awstest.Fails(c.CreateMountTarget, &efs.CreateMountTargetInput{FileSystemId: aws.String(id), SubnetId: subnetB.SubnetId, IpAddress: aws.String("10.0.0.5")})},
		{Name: "DescribeMountTargets: no such mount target", Want: mtNotFound,
			Call: awstest.Fails(c.DescribeMountTargets, &efs.DescribeMountTargetsInput{MountTargetId: aws.String(noMT)})},
		{Name: "DescribeMountTargets: no file system, mount target or access point", Want: badRequest,
			Call: awstest.Fails(c.DescribeMountTargets, &efs.DescribeMountTargetsInput{})},
		{Name: "DescribeMountTargets: no such file system", Want: fsNotFound,
			Call: awstest.Fails(c.DescribeMountTargets, &efs.DescribeMountTargetsInput{FileSystemId: aws.String(noFS)})},
		{Name: "DeleteMountTarget: no such mount target", Want: mtNotFound,
			Call: awstest.Fails(c.DeleteMountTarget, &efs.DeleteMountTargetInput{MountTargetId: aws.String(noMT)})},
		{Name: "DescribeMountTargetSecurityGroups: no such mount target", Want: mtNotFound,
			Call: awstest.Fails(c.DescribeMountTargetSecurityGroups, &efs.DescribeMountTargetSecurityGroupsInput{MountTargetId: aws.String(noMT)})},
		{Name: "CreateAccessPoint: no such file system", Want: fsNotFound,
			Call: awstest.Fails(c.CreateAccessPoint, &efs.CreateAccessPointInput{ClientToken: aws.String("a"), FileSystemId: aws.String(noFS)})},
		{Name: "CreateAccessPoint: a root directory with ..", Want: badRequest,
			Call: awstest.Fails(c.CreateAccessPoint, &efs.CreateAccessPointInput{ClientToken: aws.String("b"), FileSystemId: aws.String(id),
				RootDirectory: &types.RootDirectory{Path: aws.String("/a/../b")}})},
		{Name: "DescribeAccessPoints: no such access point", Want: apNotFound,
			Call: awstest.Fails(c.DescribeAccessPoints, &efs.DescribeAccessPointsInput{AccessPointId: aws.String(noAP)})},
		{Name: "DeleteAccessPoint: no such access point", Want: apNotFound,
			Call: awstest.Fails(c.DeleteAccessPoint, &efs.DeleteAccessPointInput{AccessPointId: aws.String(noAP)})},
		{Name: "ListTagsForResource: no such file system", Want: fsNotFound,
			Call: awstest.Fails(c.ListTagsForResource, &efs.ListTagsForResourceInput{ResourceId: aws.String(noFS)})},
		{Name: "TagResource: no such access point", Want: apNotFound,
			Call: awstest.Fails(c.TagResource, &efs.TagResourceInput{ResourceId: aws.String(noAP),
				Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})},
		{Name: "DescribeFileSystemPolicy: none", Want: awstest.APIError{Code: "PolicyNotFound", Status: 404},
			Call: awstest.Fails(c.DescribeFileSystemPolicy, &efs.DescribeFileSystemPolicyInput{FileSystemId: aws.String(id)})},
		{Name: "DescribeLifecycleConfiguration: no such file system", Want: fsNotFound,
			Call: awstest.Fails(c.DescribeLifecycleConfiguration, &efs.DescribeLifecycleConfigurationInput{FileSystemId: aws.String(noFS)})},
	})
}
