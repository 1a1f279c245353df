package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"overcast"
	s3api "overcast/internal/api/s3"
	"overcast/internal/awsproto"
	"overcast/internal/docker"
	"overcast/internal/ec2"
	"overcast/internal/ecr"
	"overcast/internal/ecs"
	"overcast/internal/ecs/agent"
	"overcast/internal/efs"
	"overcast/internal/elbv2"
	"overcast/internal/iam"
	"overcast/internal/logs"
	"overcast/internal/s3"
	"overcast/internal/secretsmanager"
	"overcast/internal/service"
	"overcast/internal/ssm"
	"overcast/internal/sts"
)

// buildServices builds every service, in dependency order: each may take
// the ones before it, through the small interfaces it defines. This list
// is the one place a new service is added (ADDING_A_SERVICE.md).
func buildServices(env *service.Env, gateway http.Handler, withTaskEndpoint bool) ([]any, keyStores, error) {
	iamSvc := iam.New(env.Named("iam"))
	stsSvc := sts.New(env.Named("sts"), stsDirectory{iamSvc})
	keys := keyStores{stsSvc, iamSvc}
	if env.Strict {
		keys = append(keys, rootKeys{})
	}
	ecrSvc, err := ecr.New(env.Named("ecr"))
	if err != nil {
		return nil, nil, err
	}
	env.Docker.SetRegistryAuth(ecrPulls{ecrSvc})
	s3Svc := s3.New(env.Named("s3"), s3Keys(keys, env.Clock.Now))
	logsSvc := logs.New(env.Named("logs"), logsBuckets{s3Svc})
	secretsSvc := secretsmanager.New(env.Named("secretsmanager"))
	ssmSvc := ssm.New(env.Named("ssm"))
	var endpoint ecs.TaskEndpoint
	if withTaskEndpoint {
		te, err := taskEndpoint(env, stsSvc, gateway)
		if err != nil {
			return nil, nil, err
		}
		endpoint = te
	}
	ec2Svc := ec2.New(env.Named("ec2"), nil)
	efsSvc := efs.New(env.Named("efs"), efsSubnets{ec2Svc})
	ecsSvc := ecs.New(env.Named("ecs"), ecs.Options{
		Instances:  ecsInstances{ec2Svc},
		Interfaces: ecsInterfaces{ec2Svc},
		Subnets:    ecsInterfaces{ec2Svc},
		Agent: agent.Config{Logs: taskLogs{logsSvc}, Secrets: taskSecrets{secretsSvc, ssmSvc},
			EnvironmentFiles: taskEnvFiles{s3Svc}, FileSystems: efsSvc},
		Endpoint: endpoint,
	})
	elbSvc := elbv2.New(env.Named("elbv2"), elbv2.Options{Network: elbNetwork{ec2Svc}})
	return []any{
		iamSvc,
		stsSvc,
		s3Svc,
		logsSvc,
		secretsSvc,
		ssmSvc,
		ecrSvc,
		ec2Svc,
		ecsSvc,
		efsSvc,
		elbSvc,
	}, keys, nil
}

// logsBuckets lets CloudWatch Logs' export tasks call S3 as AWS's logs
// service principal, whom the bucket policy must allow.
type logsBuckets struct{ s3 *s3.Service }

var _ logs.ObjectWriter = logsBuckets{}

func (b logsBuckets) GetBucketAcl(ctx context.Context, principal, sourceARN, bucket string) error {
	_, err := b.s3.GetBucketAcl(s3.AsService(ctx, principal, sourceARN), &s3api.GetBucketAclRequest{Bucket: &bucket})
	return err
}

func (b logsBuckets) PutObject(ctx context.Context, principal, sourceARN, bucket, key string, body io.Reader, size int64) error {
	_, err := b.s3.PutObject(s3.AsService(ctx, principal, sourceARN), &s3api.PutObjectRequest{Bucket: &bucket, Key: &key,
		Body: io.NopCloser(body), ContentLength: &size, ACL: new("bucket-owner-full-control")})
	return err
}

// ecrPulls lets the Docker engine pull overcast's own ECR images (an ECS
// task's or a build's image URI): they resolve to the local registry, with
// a token of the owning account.
type ecrPulls struct{ *ecr.Service }

func (e ecrPulls) Resolve(ctx context.Context, image string) (string, *docker.Credentials, bool, error) {
	scope := overcast.ScopeOf(ctx)
	ref, ok := ecr.ParseImageURI(image, scope.Account, scope.Region)
	if !ok {
		return "", nil, false, nil
	}
	user, password, _ := e.RegistryCredentials(ref.Account, ref.Region)
	host := e.RegistryHost()
	return ref.PullReference(host), &docker.Credentials{Username: user, Password: password, ServerAddress: host}, true, nil
}

// stsDirectory lets STS read IAM's roles in its own terms: no service
// imports another.
type stsDirectory struct{ *iam.Service }

func (d stsDirectory) RoleByARN(ctx context.Context, arn string) (sts.Role, error) {
	r, err := d.Service.RoleByARN(ctx, arn)
	return sts.Role(r), err
}

// ecsInterfaces lets ECS attach its awsvpc tasks' network interfaces in
// EC2's subnets.
type ecsInterfaces struct{ *ec2.Service }

var _ ecs.NetworkInterfaces = ecsInterfaces{}

func (a ecsInterfaces) AttachTaskInterface(ctx context.Context, account, region, subnetID string, securityGroups []string, description string) (ecs.NetworkInterfaceInfo, error) {
	n, err := a.Service.AttachTaskInterface(ctx, account, region, subnetID, securityGroups, description)
	return ecs.NetworkInterfaceInfo(n), err
}

func (a ecsInterfaces) CheckSubnet(ctx context.Context, account, region, id string) error {
	_, err := a.Service.Subnet(ctx, account, region, id)
	if errors.Is(err, ec2.ErrSubnetNotFound) {
		return fmt.Errorf("%w: %s", ecs.ErrSubnetNotFound, id)
	}
	return err
}

// ecsInstances lets ECS read the EC2 instances that join its clusters.
type ecsInstances struct{ ec2 *ec2.Service }

var _ ecs.Instances = ecsInstances{}

func (a ecsInstances) Instance(ctx context.Context, account, region, id string) (ecs.Instance, error) {
	i, err := a.ec2.Instance(ctx, account, region, id)
	if errors.Is(err, ec2.ErrInstanceNotFound) {
		return ecs.Instance{}, fmt.Errorf("%w: %s", ecs.ErrInstanceNotFound, id)
	}
	if err != nil {
		return ecs.Instance{}, err
	}
	return ecs.Instance{ID: i.ID, Type: i.Type, ImageID: i.ImageID, State: i.State, AvailabilityZone: i.AvailabilityZone,
		SubnetID: i.SubnetID, VPCID: i.VPCID, PrivateIP: i.PrivateIP, Architecture: i.Architecture, VCPUs: i.VCPUs,
		MemoryMiB: i.MemoryMiB, UserData: i.UserData, IamInstanceProfileArn: i.IamInstanceProfileArn, LaunchTime: i.LaunchTime}, nil
}

// efsSubnets gives EFS's mount targets EC2's subnets and their addresses.
type efsSubnets struct{ ec2 *ec2.Service }

var _ efs.Subnets = efsSubnets{}

func (a efsSubnets) Subnet(ctx context.Context, account, region, id string) (efs.Subnet, error) {
	sn, err := ec2Subnet(ctx, a.ec2, account, region, id, efs.ErrSubnetNotFound)
	return efs.Subnet(sn), err
}

// ec2Subnet reads an EC2 subnet, with notFound (the caller's error) for one
// that does not exist.
func ec2Subnet(ctx context.Context, e *ec2.Service, account, region, id string, notFound error) (ec2.SubnetInfo, error) {
	sn, err := e.Subnet(ctx, account, region, id)
	if errors.Is(err, ec2.ErrSubnetNotFound) {
		return sn, fmt.Errorf("%w: %s", notFound, id)
	}
	return sn, err
}

// elbNetwork gives ELBv2 EC2's subnets, VPCs and instances, and an
// interface in each of a load balancer's subnets for its addresses.
type elbNetwork struct{ ec2 *ec2.Service }

var _ elbv2.Network = elbNetwork{}

func (a elbNetwork) Subnet(ctx context.Context, account, region, id string) (elbv2.Subnet, error) {
	sn, err := ec2Subnet(ctx, a.ec2, account, region, id, elbv2.ErrSubnetNotFound)
	return elbv2.Subnet(sn), err
}

func (a elbNetwork) VPC(ctx context.Context, account, region, id string) (elbv2.VPC, error) {
	v, err := a.ec2.VPC(ctx, account, region, id)
	if errors.Is(err, ec2.ErrVPCNotFound) {
		return elbv2.VPC{}, fmt.Errorf("%w: %s", elbv2.ErrVPCNotFound, id)
	}
	return elbv2.VPC(v), err
}

func (a elbNetwork) Instance(ctx context.Context, account, region, id string) (elbv2.Instance, error) {
	i, err := a.ec2.Instance(ctx, account, region, id)
	if errors.Is(err, ec2.ErrInstanceNotFound) {
		return elbv2.Instance{}, fmt.Errorf("%w: %s", elbv2.ErrInstanceNotFound, id)
	}
	return elbv2.Instance{ID: i.ID, State: i.State, VPCID: i.VPCID, PrivateIP: i.PrivateIP, AvailabilityZone: i.AvailabilityZone}, err
}

func (a elbNetwork) AttachInterface(ctx context.Context, account, region, subnetID string, groups []string, description string) (elbv2.Interface, error) {
	n, err := a.ec2.AttachTaskInterface(ctx, account, region, subnetID, groups, description)
	var ae *awsproto.Error
	if errors.As(err, &ae) && strings.HasPrefix(ae.Code, "InvalidGroup") {
		return elbv2.Interface{}, fmt.Errorf("%w: %s", elbv2.ErrSecurityGroupNotFound, ae.Message)
	}
	return elbv2.Interface{ID: n.ID, PrivateIP: n.PrivateIP}, err
}

func (a elbNetwork) ReleaseInterface(ctx context.Context, account, region, id string) error {
	return a.ec2.ReleaseInterface(ctx, account, region, id)
}
