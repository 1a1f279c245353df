package docker

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"path/filepath"
	"slices"

	"github.com/moby/moby/client"
)

// Label names. Every container, network, volume and image overcast creates
// carries LabelManaged and LabelOwner; callers add their own keys, named
// here so that every overcast.* key lives in one place and no two services
// pick the same one for different things.
const (
	// LabelPrefix starts every label overcast sets.
	LabelPrefix = "overcast."
	// LabelManaged is "true" on everything overcast created.
	LabelManaged = "overcast.managed"
	// LabelOwner names the service that created the object (its botocore
	// id: "ecs", "codebuild", "elasticbeanstalk", "codedeploy"); a restarted
	// service lists its own objects by it.
	LabelOwner = "overcast.owner"

	// Keys callers set to find their objects again.
	LabelAccount     = "overcast.account"     // the AWS account the object belongs to
	LabelRegion      = "overcast.region"      // the AWS region the object belongs to
	LabelCluster     = "overcast.ecs.cluster" // ECS cluster ARN
	LabelTask        = "overcast.ecs.task"    // ECS task ARN
	LabelContainer   = "overcast.ecs.container"
	LabelECSAgent    = "overcast.ecs.agent"                    // what the ECS agent keeps of a container's definition, as JSON
	LabelBuild       = "overcast.codebuild.build"              // CodeBuild build ARN
	LabelEnvironment = "overcast.elasticbeanstalk.environment" // Beanstalk environment ID
	LabelDeployment  = "overcast.codedeploy.deployment"        // CodeDeploy deployment ID
	// LabelInstance names the overcast (by its data dir) that created the
	// object: two on one engine each adopt only their own.
	LabelInstance = "overcast.instance"
	// LabelTest marks what a test created, for its cleanup.
	LabelTest = "overcast.test"
)

const managedValue = "true"

// InstanceOf is the LabelInstance value of the overcast whose data dir is
// dataDir.
func InstanceOf(dataDir string) string {
	dir, _ := filepath.Abs(dataDir)
	sum := sha256.Sum256([]byte(dir))
	return hex.EncodeToString(sum[:8])
}

// ManagedLabels is labels plus the two every overcast object carries. The
// managed pair wins over a caller's attempt to set it.
func ManagedLabels(owner string, labels map[string]string) map[string]string {
	out := make(map[string]string, len(labels)+2)
	maps.Copy(out, labels)
	out[LabelManaged] = managedValue
	out[LabelOwner] = owner
	return out
}

// OwnerSelector selects everything owner created, for ListContainers,
// Inventory and Purge.
func OwnerSelector(owner string) map[string]string {
	return map[string]string{LabelManaged: managedValue, LabelOwner: owner}
}

// IsManaged reports whether labels are those of an object overcast created.
func IsManaged(labels map[string]string) bool { return labels[LabelManaged] == managedValue }

// labelFilters turns a selector into the engine's filter: key=value pairs,
// and a bare key where the value is empty ("has this label").
func labelFilters(selector map[string]string) client.Filters {
	f := client.Filters{}
	for _, k := range slices.Sorted(maps.Keys(selector)) {
		if v := selector[k]; v != "" {
			f.Add("label", k+"="+v)
		} else {
			f.Add("label", k)
		}
	}
	return f
}

// requireOwner rejects specs without an owner: an object nobody owns is
// one nobody re-adopts or cleans up.
func requireOwner(op, owner string) error {
	if owner == "" {
		return invalid(op, "an owner is required (the service creating the object)")
	}
	return nil
}
