// Package vpc gives a CodeBuild build with a vpcConfig what a build inside a
// VPC has on AWS: the VPC's addresses. In overcast a VPC is a block of
// loopback (the default VPC is 127.<n>.0.0/16): its tasks publish their
// ports on their interfaces' addresses there and its load balancers listen
// on their zone addresses there, all on the host's loopback, which a
// container on a bridge network cannot see. A build with a vpcConfig gets,
// inside its own network namespace, a listener for every address and port
// that is listening in the VPC's range on the host, each forwarding to the
// host's; a build without one gets nothing of the kind and reaches no VPC.
//
// Validate checks a project's vpcConfig against EC2 the way CreateProject
// does; Attach links a running build container to the VPC.
package vpc

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
)

// Config is a project's vpcConfig.
type Config struct {
	VPCID            string
	Subnets          []string
	SecurityGroupIDs []string
}

// Empty reports whether c asks for no VPC: AWS accepts an empty vpcConfig
// and runs the build outside any VPC.
func (c Config) Empty() bool {
	return c.VPCID == "" && len(c.Subnets) == 0 && len(c.SecurityGroupIDs) == 0
}

// ErrNotFound is what Network returns for an ID that names nothing.
var ErrNotFound = errors.New("vpc: not found")

// Network is what validating a vpcConfig needs from EC2, in the caller's
// account and region.
type Network interface {
	// VPCCIDR is the VPC's IPv4 range.
	VPCCIDR(ctx context.Context, account, region, vpcID string) (string, error)
	// SubnetVPC and SecurityGroupVPC are the VPC a subnet or security
	// group belongs to.
	SubnetVPC(ctx context.Context, account, region, subnetID string) (string, error)
	SecurityGroupVPC(ctx context.Context, account, region, groupID string) (string, error)
}

// InvalidInputError is a vpcConfig CodeBuild refuses: the service answers
// it as InvalidInputException with Message.
type InvalidInputError struct{ Message string }

func (e *InvalidInputError) Error() string { return e.Message }

func invalidInput(format string, args ...any) error {
	return &InvalidInputError{Message: fmt.Sprintf(format, args...)}
}

// Validate checks c as CreateProject and UpdateProject do, and returns the
// VPC's range for Attach. An empty Config is valid and has no range.
func Validate(ctx context.Context, n Network, account, region string, c Config) (netip.Prefix, error) {
	if c.Empty() {
		return netip.Prefix{}, nil
	}
	switch {
	case c.VPCID == "":
		return netip.Prefix{}, invalidInput("Invalid vpc config: vpcId must be specified")
	case len(c.Subnets) == 0:
		return netip.Prefix{}, invalidInput("Invalid vpc config: subnets must be specified")
	case len(c.SecurityGroupIDs) == 0:
		return netip.Prefix{}, invalidInput("Invalid vpc config: securityGroupIds must be specified")
	}
	cidr, err := n.VPCCIDR(ctx, account, region, c.VPCID)
	if errors.Is(err, ErrNotFound) {
		return netip.Prefix{}, invalidInput("Invalid vpc config: The vpc ID '%s' does not exist", c.VPCID)
	}
	if err != nil {
		return netip.Prefix{}, err
	}
	prefix, err := netip.ParsePrefix(cidr)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("vpc: VPC %s has range %q: %w", c.VPCID, cidr, err)
	}
	for _, id := range c.Subnets {
		if err := sameVPC(ctx, n.SubnetVPC, account, region, c.VPCID, "subnet", id); err != nil {
			return netip.Prefix{}, err
		}
	}
	for _, id := range c.SecurityGroupIDs {
		if err := sameVPC(ctx, n.SecurityGroupVPC, account, region, c.VPCID, "security group", id); err != nil {
			return netip.Prefix{}, err
		}
	}
	return prefix.Masked(), nil
}

// sameVPC checks that the subnet or group id exists and is in vpcID.
func sameVPC(ctx context.Context, vpcOf func(ctx context.Context, account, region, id string) (string, error), account, region, vpcID, kind, id string) error {
	got, err := vpcOf(ctx, account, region, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return invalidInput("Invalid vpc config: The %s ID '%s' does not exist", kind, id)
	case err != nil:
		return err
	case got != vpcID:
		return invalidInput("Invalid vpc config: %s %s does not belong to vpc %s", kind, id, vpcID)
	}
	return nil
}
