package efs

import (
	"context"
	"strings"

	"overcast/internal/authz"
	"overcast/internal/store"
)

// authzTable is how IAM authorizes EFS's operations (the Service
// Authorization Reference's "Amazon Elastic File System"): on the file
// system a call names, or whose mount target it names, or on the access
// point. It is the Service's own because only the store knows a mount
// target's file system.
func (s *Service) authzTable() *authz.Table {
	fileSystem := authz.Rule{Resources: authz.Ref("FileSystemId", fileSystemNamed)}
	mountTarget := authz.Rule{Resources: s.mountTargetFileSystem}
	resource := authz.Rule{Resources: authz.Ref("ResourceId", resourceNamed)}
	return &authz.Table{Prefix: "elasticfilesystem", Rules: map[string]authz.Rule{
		"CreateFileSystem":                  {Resources: authz.Made(func(s authz.Scope) string { return fileSystemNamed(s, "*") })},
		"DescribeFileSystems":               fileSystem,
		"UpdateFileSystem":                  fileSystem,
		"DeleteFileSystem":                  fileSystem,
		"DescribeFileSystemPolicy":          fileSystem,
		"PutFileSystemPolicy":               fileSystem,
		"DeleteFileSystemPolicy":            fileSystem,
		"DescribeBackupPolicy":              fileSystem,
		"PutBackupPolicy":                   fileSystem,
		"DescribeLifecycleConfiguration":    fileSystem,
		"PutLifecycleConfiguration":         fileSystem,
		"CreateAccessPoint":                 fileSystem,
		"DescribeAccessPoints":              fileSystem,
		"CreateMountTarget":                 fileSystem,
		"DescribeMountTargets":              {Resources: authz.Union(fileSystem.Resources, mountTarget.Resources)},
		"DeleteMountTarget":                 mountTarget,
		"DescribeMountTargetSecurityGroups": mountTarget,
		"ModifyMountTargetSecurityGroups":   mountTarget,
		"CreateTags":                        fileSystem,
		"DeleteTags":                        fileSystem,
		"DescribeTags":                      fileSystem,
		"DeleteAccessPoint":                 {Resources: authz.Ref("AccessPointId", resourceNamed)},
		"TagResource":                       resource,
		"UntagResource":                     resource,
		"ListTagsForResource":               resource,
	}}
}

func fileSystemNamed(s authz.Scope, id string) string { return fileSystemARN(s.Local(), id) }

// resourceNamed is the ARN of the file system or access point an ID
// names (fs-… or fsap-…).
func resourceNamed(s authz.Scope, id string) string {
	if strings.HasPrefix(id, "fsap-") {
		return accessPointARN(s.Local(), id)
	}
	return fileSystemARN(s.Local(), id)
}

// mountTargetFileSystem is the file system of the mount target an input's
// MountTargetId names.
func (s *Service) mountTargetFileSystem(ctx context.Context, as authz.Scope, in any) []string {
	id := authz.Field(in, "MountTargetId")
	if id == "" {
		return nil
	}
	var mt *mountTarget
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		mt, _, err = getMountTarget(tx, as.Local(), id)
		return err
	})
	if err != nil {
		return nil
	}
	return []string{fileSystemARN(as.Local(), mt.FileSystemID)}
}
