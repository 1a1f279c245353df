package efs

import (
	"testing"

	api "overcast/internal/api/efs"
	"overcast/internal/authz/authztest"
	"overcast/internal/service/servicetest"
)

func TestAuthzTable(t *testing.T) {
	s := New(servicetest.Env(t), nil)
	const arn = "arn:aws:elasticfilesystem:us-east-1:123456789012:"
	authztest.Run(t, s.authzTable(), []authztest.Case{
		{Op: "PutFileSystemPolicy", In: &api.PutFileSystemPolicyRequest{FileSystemId: new("fs-0123")}, Resources: []string{arn + "file-system/fs-0123"}},
		{Name: "access point", Op: "TagResource", In: &api.TagResourceRequest{ResourceId: new("fsap-0456")}, Resources: []string{arn + "access-point/fsap-0456"}},
		{Name: "file system", Op: "TagResource", In: &api.TagResourceRequest{ResourceId: new("fs-0123")}, Resources: []string{arn + "file-system/fs-0123"}},
		{Op: "DeleteAccessPoint", In: &api.DeleteAccessPointRequest{AccessPointId: new("fsap-0456")}, Resources: []string{arn + "access-point/fsap-0456"}},
		{Name: "unknown mount target", Op: "DeleteMountTarget", In: &api.DeleteMountTargetRequest{MountTargetId: new("fsmt-0789")}, Resources: []string{"*"}},
	})
}
