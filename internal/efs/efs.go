// Package efs implements a minimal Amazon Elastic File System: file
// systems, mount targets and access points, per account and region. A
// file system is one directory under the data dir, shared by everything
// that mounts it: the ECS agent bind-mounts the host path MountSource
// returns into every task that names the file system, on any instance,
// Fargate included. Lifecycle states (creating, available, deleting) move
// in a controller, which also creates and removes the directories.
package efs

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"time"

	"overcast"
	api "overcast/internal/api/efs"
	"overcast/internal/controller"
	"overcast/internal/service"
)

// Service is the EFS API, and the mount source the ECS agent resolves
// volumes with.
type Service struct {
	api.UnimplementedServer
	service.Base
	dataDir string
	subnets Subnets

	// lifecycle moves file systems, mount targets and access points from
	// creating to available and from deleting to gone, doing the disk work
	// on the way.
	lifecycle *controller.Controller
}

var _ api.Server = (*Service)(nil)

// Subnets is what EFS needs from EC2: where a mount target's subnet is.
// internal/app adapts EC2's subnets to it.
type Subnets interface {
	Subnet(ctx context.Context, account, region, subnetID string) (Subnet, error)
}

// Subnet is an EC2 subnet in EFS's terms.
type Subnet struct {
	ID, VPCID, AvailabilityZone, CIDR string
}

// ErrSubnetNotFound is what a Subnets returns for a subnet it does not
// know; EFS answers SubnetNotFound.
var ErrSubnetNotFound = errors.New("efs: subnet not found")

// New returns the service. subnets resolves mount targets' subnets; nil
// stands in a single default subnet layout (see defaultSubnets) until EC2
// is wired.
func New(env *service.Env, subnets Subnets) *Service {
	if subnets == nil {
		subnets = defaultSubnets{}
	}
	s := &Service{Base: env.Base(), dataDir: filepath.Join(env.DataDir, "efs"), subnets: subnets}
	s.lifecycle = env.Controllers.AddFunc("efs-lifecycle", s.reconcile, s.pending)
	return s
}

// API is EFS's API for the gateway.
func (s *Service) API() service.API { return service.API{Binding: api.Bind(s), Authz: s.authzTable()} }

const (
	updateAttempts = 10

	maxAccessPointsPerFileSystem = 1000
	maxSecurityGroups            = 5
	maxTags                      = 50

	stateCreating  = api.LifeCycleStateCreating
	stateAvailable = api.LifeCycleStateAvailable
	stateDeleting  = api.LifeCycleStateDeleting
)

type scope = overcast.Scope

type tag = service.Tag

// fileSystemsTable holds one record per file system, keyed by scope and ID.
const fileSystemsTable = "efs.filesystems"

// fileSystem is the record of a file system.
type fileSystem struct {
	ID               string            `json:"id"`
	ARN              string            `json:"arn"`
	CreationToken    string            `json:"creationToken"`
	Created          time.Time         `json:"created"`
	State            string            `json:"state"`
	PerformanceMode  string            `json:"performanceMode"`
	ThroughputMode   string            `json:"throughputMode"`
	Provisioned      *float64          `json:"provisioned,omitempty"`
	Encrypted        bool              `json:"encrypted,omitempty"`
	KmsKeyID         string            `json:"kmsKeyId,omitempty"`
	AvailabilityZone string            `json:"availabilityZone,omitempty"`
	Tags             []tag             `json:"tags,omitempty"`
	Lifecycle        []lifecyclePolicy `json:"lifecycle,omitempty"`
	Policy           string            `json:"policy,omitempty"`
	// Backup is the status of the automatic backup policy: stored and
	// reported, no backups are made.
	Backup string `json:"backup,omitempty"`
}

type lifecyclePolicy struct {
	TransitionToIA                  string `json:"toIA,omitempty"`
	TransitionToPrimaryStorageClass string `json:"toPrimary,omitempty"`
	TransitionToArchive             string `json:"toArchive,omitempty"`
}

// mountTargetsTable holds one record per mount target, keyed by scope and ID.
const mountTargetsTable = "efs.mounttargets"

// mountTarget is the record of a mount target.
type mountTarget struct {
	ID               string   `json:"id"`
	FileSystemID     string   `json:"fileSystemId"`
	SubnetID         string   `json:"subnetId"`
	VPCID            string   `json:"vpcId"`
	AvailabilityZone string   `json:"availabilityZone"`
	IPAddress        string   `json:"ipAddress"`
	NetworkInterface string   `json:"networkInterface"`
	SecurityGroups   []string `json:"securityGroups,omitempty"`
	State            string   `json:"state"`
}

// accessPointsTable holds one record per access point, keyed by scope and ID.
const accessPointsTable = "efs.accesspoints"

// accessPoint is the record of an access point.
type accessPoint struct {
	ID           string        `json:"id"`
	ARN          string        `json:"arn"`
	ClientToken  string        `json:"clientToken"`
	FileSystemID string        `json:"fileSystemId"`
	Tags         []tag         `json:"tags,omitempty"`
	PosixUser    *posixUser    `json:"posixUser,omitempty"`
	Path         string        `json:"path"`
	Creation     *creationInfo `json:"creation,omitempty"`
	State        string        `json:"state"`
}

type posixUser struct {
	UID           int64   `json:"uid"`
	GID           int64   `json:"gid"`
	SecondaryGIDs []int64 `json:"secondaryGids,omitempty"`
}

type creationInfo struct {
	OwnerUID    int64  `json:"ownerUid"`
	OwnerGID    int64  `json:"ownerGid"`
	Permissions string `json:"permissions"`
}

func apiTags(tags []tag) api.Tags {
	return service.Map(tags, func(t tag) api.Tag { return api.Tag{Key: new(t.Key), Value: new(t.Value)} })
}

// name is the value of the Name tag, which EFS reports as the name.
func name(tags []tag) *string {
	for _, t := range tags {
		if t.Key == "Name" {
			return new(t.Value)
		}
	}
	return nil
}

// mergeTags sets each of add on tags, replacing a key's old value.
func mergeTags(tags []tag, add api.Tags) []tag {
	for _, a := range add {
		tags = service.SetTag(tags, *a.Key, *a.Value)
	}
	return tags
}

func removeTags(tags []tag, keys []string) []tag {
	return slices.DeleteFunc(tags, func(t tag) bool { return slices.Contains(keys, t.Key) })
}
