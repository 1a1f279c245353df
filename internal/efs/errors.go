package efs

import (
	"reflect"

	api "overcast/internal/api/efs"
)

// EFS repeats each error's code in the body's ErrorCode member, which the
// model makes required; coded fills it in on any of the generated errors.
func coded[E interface {
	ErrorCode() string
	error
}](e E) E {
	reflect.ValueOf(e).Elem().FieldByName("ErrorCode_").Set(reflect.ValueOf(new(e.ErrorCode())))
	return e
}

func badRequest(format string, args ...any) error {
	return coded(api.NewBadRequest(format, args...))
}

func fileSystemAlreadyExists(fs *fileSystem) error {
	e := coded(api.NewFileSystemAlreadyExists("File system '%s' already exists with creation token '%s'", fs.ID, fs.CreationToken))
	e.FileSystemId = new(fs.ID)
	return e
}

func accessPointAlreadyExists(ap *accessPoint) error {
	e := coded(api.NewAccessPointAlreadyExists("Access point '%s' already exists with client token '%s'", ap.ID, ap.ClientToken))
	e.AccessPointId = new(ap.ID)
	return e
}

func incorrectFileSystemState(fs *fileSystem) error {
	return coded(api.NewIncorrectFileSystemLifeCycleState("File system '%s' is in the '%s' state, not 'available'.", fs.ID, fs.State))
}

func incorrectMountTargetState(mt *mountTarget) error {
	return coded(api.NewIncorrectMountTargetState("Mount target '%s' is in the '%s' state, not 'available'.", mt.ID, mt.State))
}

func fileSystemInUse(id string) error {
	return coded(api.NewFileSystemInUse("File system '%s' has mount targets and cannot be deleted.", id))
}

func mountTargetConflict() error {
	return coded(api.NewMountTargetConflict("mount target already exists in this AZ"))
}

func subnetNotFound(id string) error {
	return coded(api.NewSubnetNotFound("The subnet ID '%s' does not exist", id))
}

func ipAddressInUse(ip string) error {
	return coded(api.NewIpAddressInUse("IP address %s is already in use", ip))
}

func noFreeAddresses(subnetID string) error {
	return coded(api.NewNoFreeAddressesInSubnet("Subnet '%s' has no free IP addresses.", subnetID))
}

func securityGroupLimitExceeded() error {
	return coded(api.NewSecurityGroupLimitExceeded("Mount targets can have at most %d security groups.", maxSecurityGroups))
}

func accessPointLimitExceeded(fsID string) error {
	return coded(api.NewAccessPointLimitExceeded("You have reached the maximum number of access points (%d) for file system '%s'.",
		maxAccessPointsPerFileSystem, fsID))
}

func policyNotFound(fsID string) error {
	return coded(api.NewPolicyNotFound("File system '%s' does not have a file system policy.", fsID))
}

func availabilityZonesMismatch(fs *fileSystem, mt *mountTarget) error {
	return coded(api.NewAvailabilityZonesMismatch("One Zone file system '%s' is in %s; subnet '%s' is in %s.",
		fs.ID, fs.AvailabilityZone, mt.SubnetID, mt.AvailabilityZone))
}
