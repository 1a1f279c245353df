package codebuild

import (
	"context"
	"errors"

	api "overcast/internal/api/codebuild"
	"overcast/internal/codebuild/runner"
	"overcast/internal/codebuild/vpc"
)

// Environment shapes where a build runs beyond its image: privileged
// mode's Docker engine, a vpcConfig's network, the host's proxy settings
// (internal/codebuild/buildenv).
type Environment interface {
	// ValidateVPC checks a project's vpcConfig; a *vpc.InvalidInputError
	// is the caller's mistake.
	ValidateVPC(ctx context.Context, account, region string, c vpc.Config) error
	// Apply gives the build what its project's environment asks for.
	Apply(ctx context.Context, account, region string, b *runner.Build, c vpc.Config) error
}

func vpcConfigOf(c *api.VpcConfig) vpc.Config {
	if c == nil {
		return vpc.Config{}
	}
	var id string
	if c.VpcId != nil {
		id = *c.VpcId
	}
	return vpc.Config{VPCID: id, Subnets: c.Subnets, SecurityGroupIDs: c.SecurityGroupIds}
}

// checkVPC validates a vpcConfig a CreateProject or UpdateProject names,
// before the project is stored (EC2 is asked outside the transaction).
func (s *Service) checkVPC(ctx context.Context, sc scope, c *api.VpcConfig) error {
	if c == nil || s.opts.Environment == nil {
		return nil
	}
	err := s.opts.Environment.ValidateVPC(ctx, sc.Account, sc.Region, vpcConfigOf(c))
	if bad := (*vpc.InvalidInputError)(nil); errors.As(err, &bad) {
		return invalidInput("%s", bad.Message)
	}
	return err
}

// applyEnvironment completes a build's runner.Build with its environment.
func (s *Service) applyEnvironment(ctx context.Context, sc scope, rb *runner.Build, c *api.VpcConfig) error {
	if s.opts.Environment == nil {
		return nil
	}
	return s.opts.Environment.Apply(ctx, sc.Account, sc.Region, rb, vpcConfigOf(c))
}
