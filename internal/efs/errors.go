package efs

import (
	api "overcast/internal/api/efs"
)

// EFS repeats each error's code in the body's ErrorCode, which the model
// makes required; coded fills it in.
func coded[E interface {
	ErrorCode() string
	error
}](e E, field **string) error {
	*field = new(e.ErrorCode())
	return e
}

func fileSystemNotFound(id string) error {
	e := api.NewFileSystemNotFound("File system '%s' does not exist.", id)
	return coded(e, &e.ErrorCode_)
}

func mountTargetNotFound(id string) error {
	e := api.NewMountTargetNotFound("Mount target '%s' does not exist.", id)
	return coded(e, &e.ErrorCode_)
}

func accessPointNotFound(id string) error {
	e := api.NewAccessPointNotFound("Access point '%s' does not exist.", id)
	return coded(e, &e.ErrorCode_)
}

func badRequest(format string, args ...any) error {
	e := api.NewBadRequest(format, args...)
	return coded(e, &e.ErrorCode_)
}

func fileSystemAlreadyExists(fs *fileSystem) error {
	e := api.NewFileSystemAlreadyExists("File system '%s' already exists with creation token '%s'", fs.ID, fs.CreationToken)
	e.FileSystemId = new(fs.ID)
	return coded(e, &e.ErrorCode_)
}

func accessPointAlreadyExists(ap *accessPoint) error {
	e := api.NewAccessPointAlreadyExists("Access point '%s' already exists with client token '%s'", ap.ID, ap.ClientToken)
	e.AccessPointId = new(ap.ID)
	return coded(e, &e.ErrorCode_)
}

func incorrectFileSystemState(fs *fileSystem) error {
	e := api.NewIncorrectFileSystemLifeCycleState("File system '%s' is in the '%s' state, not 'available'.", fs.ID, fs.State)
	return coded(e, &e.ErrorCode_)
}

func incorrectMountTargetState(mt *mountTarget) error {
	e := api.NewIncorrectMountTargetState("Mount target '%s' is in the '%s' state, not 'available'.", mt.ID, mt.State)
	return coded(e, &e.ErrorCode_)
}

func fileSystemInUse(id string) error {
	e := api.NewFileSystemInUse("File system '%s' has mount targets and cannot be deleted.", id)
	return coded(e, &e.ErrorCode_)
}

func mountTargetConflict() error {
	e := api.NewMountTargetConflict("mount target already exists in this AZ")
	return coded(e, &e.ErrorCode_)
}

func subnetNotFound(id string) error {
	e := api.NewSubnetNotFound("The subnet ID '%s' does not exist", id)
	return coded(e, &e.ErrorCode_)
}

func ipAddressInUse(ip string) error {
	e := api.NewIpAddressInUse("IP address %s is already in use", ip)
	return coded(e, &e.ErrorCode_)
}

func noFreeAddresses(subnetID string) error {
	e := api.NewNoFreeAddressesInSubnet("Subnet '%s' has no free IP addresses.", subnetID)
	return coded(e, &e.ErrorCode_)
}

func securityGroupLimitExceeded() error {
	e := api.NewSecurityGroupLimitExceeded("Mount targets can have at most %d security groups.", maxSecurityGroups)
	return coded(e, &e.ErrorCode_)
}

func accessPointLimitExceeded(fsID string) error {
	e := api.NewAccessPointLimitExceeded("You have reached the maximum number of access points (%d) for file system '%s'.",
		maxAccessPointsPerFileSystem, fsID)
	return coded(e, &e.ErrorCode_)
}

func policyNotFound(fsID string) error {
	e := api.NewPolicyNotFound("File system '%s' does not have a file system policy.", fsID)
	return coded(e, &e.ErrorCode_)
}
