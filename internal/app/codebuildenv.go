package app

import (
	"context"

	"overcast/internal/codebuild/buildenv"
	"overcast/internal/codebuild/vpc"
	"overcast/internal/ec2"
	"overcast/internal/ecs/taskendpoint"
	"overcast/internal/service"
)

// codebuildEnvironment is where CodeBuild's builds run beyond their
// image: the curated images' local stand-in, privileged mode's engine,
// vpcConfig's VPCs (from EC2) and the host's proxy settings, with the task
// endpoint (the builds' API and credentials) left out of the proxy.
func codebuildEnvironment(env *service.Env, ec2Svc *ec2.Service) *buildenv.Environment {
	return buildenv.New(buildenv.Options{Engine: env.Docker, Network: buildNetwork{ec2Svc},
		NoProxy: []string{taskendpoint.Address}, Logger: env.Logger})
}

// buildNetwork is EC2 as a build project's vpcConfig sees it.
type buildNetwork struct{ ec2 *ec2.Service }

var _ vpc.Network = buildNetwork{}

func (n buildNetwork) VPCCIDR(ctx context.Context, account, region, id string) (string, error) {
	v, err := n.ec2.VPC(ctx, account, region, id)
	return v.CIDR, notFoundAs(err, ec2.ErrVPCNotFound, vpc.ErrNotFound, id)
}

func (n buildNetwork) SubnetVPC(ctx context.Context, account, region, id string) (string, error) {
	sn, err := n.ec2.Subnet(ctx, account, region, id)
	return sn.VPCID, notFoundAs(err, ec2.ErrSubnetNotFound, vpc.ErrNotFound, id)
}

func (n buildNetwork) SecurityGroupVPC(ctx context.Context, account, region, id string) (string, error) {
	vpcID, err := n.ec2.SecurityGroupVPC(ctx, account, region, id)
	return vpcID, notFoundAs(err, ec2.ErrSecurityGroupNotFound, vpc.ErrNotFound, id)
}
