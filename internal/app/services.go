package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"overcast"
	"overcast/internal/acm"
	s3api "overcast/internal/api/s3"
	"overcast/internal/applicationautoscaling"
	"overcast/internal/authz"
	"overcast/internal/autoscaling"
	"overcast/internal/awsproto"
	"overcast/internal/cloudfront"
	"overcast/internal/cloudtrail"
	"overcast/internal/cloudwatch"
	"overcast/internal/codebuild"
	"overcast/internal/codebuild/runner"
	"overcast/internal/codecommit"
	"overcast/internal/docker"
	"overcast/internal/ec2"
	"overcast/internal/ecr"
	"overcast/internal/ecs"
	"overcast/internal/ecs/agent"
	"overcast/internal/efs"
	"overcast/internal/elbv2"
	"overcast/internal/events"
	"overcast/internal/geoip"
	"overcast/internal/iam"
	"overcast/internal/logs"
	"overcast/internal/s3"
	"overcast/internal/secretsmanager"
	"overcast/internal/service"
	"overcast/internal/sns"
	"overcast/internal/sqs"
	"overcast/internal/ssm"
	"overcast/internal/sts"
)

// buildServices builds every service, in dependency order: each may take
// the ones before it, through the small interfaces it defines. This list
// is the one place a new service is added (ADDING_A_SERVICE.md).
func buildServices(env *service.Env, gateway http.Handler, cfg Config, geo *geoip.Locator) ([]any, keyStores, error) {
	iamSvc := iam.New(env.Named("iam"))
	idps, err := idpClient(cfg.IdPCAFile)
	if err != nil {
		return nil, nil, err
	}
	stsSvc := sts.New(env.Named("sts"), stsDirectory{iamSvc}, sts.Options{Providers: stsDirectory{iamSvc}, IdPClient: idps})
	keys := keyStores{stsSvc, iamSvc}
	if env.Strict {
		keys = append(keys, rootKeys{})
	}
	ecrSvc, err := ecr.New(env.Named("ecr"))
	if err != nil {
		return nil, nil, err
	}
	// Every engine pulls overcast's ECR images at the registry's loopback
	// address: engines on this machine reach it; a remote engine would
	// need overcast listening where it can reach (README, --docker-host).
	for _, e := range env.Engines {
		e.SetRegistryAuth(ecrPulls{ecrSvc})
	}
	s3Svc := s3.New(env.Named("s3"), s3Keys(keys, env.Clock.Now))
	logsSvc := logs.New(env.Named("logs"), serviceBuckets{s3Svc})
	secretsSvc := secretsmanager.New(env.Named("secretsmanager"))
	ssmSvc := ssm.New(env.Named("ssm"))
	acmSvc := acm.New(env.Named("acm"))
	actions := &alarmActions{}
	cloudwatchSvc := cloudwatch.New(env.Named("cloudwatch"), actions)
	var endpoint ecs.TaskEndpoint
	protection := &taskProtection{} // its ecs is set below
	if cfg.TaskEndpoint {
		te, err := taskEndpoint(env, stsSvc, gateway, protection)
		if err != nil {
			return nil, nil, err
		}
		endpoint = te
	}
	ec2Svc := ec2.New(env.Named("ec2"), ec2.Options{FirstBlock: cfg.LoopbackBlock})
	ofEC2 := fromEC2{ec2Svc}
	efsSvc := efs.New(env.Named("efs"), ofEC2)
	elbSvc := elbv2.New(env.Named("elbv2"), elbv2.Options{Network: elbNetwork{ec2Svc}, Certificates: elbCertificates{acmSvc},
		LogBuckets: serviceBuckets{s3Svc}})
	autoscalingSvc := autoscaling.New(env.Named("autoscaling"), autoscalingEC2{ec2Svc})
	ecsSvc := ecs.New(env.Named("ecs"), ecs.Options{
		Instances:  ofEC2,
		Interfaces: ofEC2,
		Subnets:    ofEC2,
		Agent: agent.Config{Logs: taskLogs{logsSvc}, Secrets: taskSecrets{secretsSvc, ssmSvc},
			EnvironmentFiles: taskEnvFiles{s3Svc}, FileSystems: efsSvc},
		Endpoint:       endpoint,
		ExecutionRoles: taskRoles{stsSvc},
		LoadBalancers:  ecsTargets{elbSvc},
		Metrics:        ecsMetrics{cloudwatchSvc},
		AutoScaling:    ecsGroups{autoscalingSvc},
		HostLostAfter:  cfg.DockerHostLostAfter,
	})
	protection.ecs = ecsSvc
	scalingSvc := applicationautoscaling.New(env.Named("applicationautoscaling"), scalingAlarms{cloudwatchSvc}, scalingServices{ecsSvc})
	actions.scaling = scalingSvc
	publishELBMetrics(env.Controllers, elbSvc, cloudwatchSvc)
	cdn, err := cloudfrontEdge(env, cfg, geo, s3Svc, acmSvc)
	if err != nil {
		return nil, nil, err
	}
	cloudfrontSvc := cloudfront.New(env.Named("cloudfront"), cloudfront.Options{Edge: cdn, Functions: cloudfrontFunctions{}})
	sqsSvc := sqs.New(env.Named("sqs"), sqs.Options{Metrics: sqsMetrics{cloudwatchSvc}})
	snsSvc := sns.New(env.Named("sns"), snsQueues{sqsSvc})
	actions.topics = snsSvc
	eventsSvc := events.New(env.Named("events"), events.Targets{Queues: eventQueues{sqsSvc}, Topics: eventTopics{snsSvc},
		Logs: eventLogs{logsSvc}, Tasks: eventTasks{ecsSvc}})
	codecommitSvc, gitSvc, err := codecommitGit(env, cfg, keys, iamSvc, codecommit.Options{Topics: codecommitTopics{snsSvc}})
	if err != nil {
		return nil, nil, err
	}
	buildEnv := codebuildEnvironment(env, ec2Svc)
	buildOpts := codebuild.Options{Runner: runner.New(env.Docker, "codebuild"), Objects: buildObjects{s3Svc},
		Parameters: buildParameters{ssmSvc}, Secrets: buildSecrets{secretsSvc}, Repositories: codecommitSvc,
		Logs: buildLogs{logsSvc}, Metrics: buildMetrics{cloudwatchSvc}, Images: buildEnv, Environment: buildEnv}
	if te, ok := endpoint.(servingEndpoint); ok {
		buildOpts.Credentials = buildCredentials{te}
	}
	codebuildSvc := codebuild.New(env.Named("codebuild"), buildOpts)
	services := []any{
		iamSvc,
		stsSvc,
		s3Svc,
		logsSvc,
		secretsSvc,
		ssmSvc,
		acmSvc,
		cloudwatchSvc,
		ecrSvc,
		ec2Svc,
		ecsSvc,
		efsSvc,
		elbSvc,
		scalingSvc,
		autoscalingSvc,
		cloudfrontSvc,
		sqsSvc,
		snsSvc,
		eventsSvc,
		codecommitSvc,
		gitSvc,
		codebuildSvc,
	}
	// CloudTrail comes last: it records every other service's calls, and
	// closes first, writing what it still holds while the store is open.
	tables := authzTables(services)
	trailSvc := cloudtrail.New(env.Named("cloudtrail"), cloudtrail.Options{Objects: serviceBuckets{s3Svc}, Logs: trailLogs{logsSvc},
		Record: !cfg.DisableCloudTrail, DeliveryInterval: cfg.CloudTrailDelivery, Tables: tables})
	tables["cloudtrail"] = trailSvc.API().Authz
	return append(services, trailSvc), keys, nil
}

// authzTables are the services' authorization tables, by service ID.
func authzTables(services []any) map[string]*authz.Table {
	tables := map[string]*authz.Table{}
	for _, s := range services {
		if p, ok := s.(service.APIProvider); ok {
			if a := p.API(); a.Authz != nil {
				tables[a.Binding.Service().ID] = a.Authz
			}
		}
	}
	return tables
}

// trailLogs lets CloudTrail's trails write to their CloudWatch Logs group.
type trailLogs struct{ logs *logs.Service }

func (l trailLogs) Append(ctx context.Context, account, region, group, stream string, events []cloudtrail.LogEvent) error {
	out := make([]logs.Event, len(events))
	for i, e := range events {
		out[i] = logs.Event{Timestamp: e.Time, Message: e.Message}
	}
	return l.logs.Append(ctx, account, region, group, stream, out)
}

// serviceBuckets lets services write to S3 as AWS's service principals
// do (CloudWatch Logs' export tasks, load balancers' access logs), whom
// the bucket policy must allow.
type serviceBuckets struct{ s3 *s3.Service }

var (
	_ logs.ObjectWriter = serviceBuckets{}
	_ elbv2.LogBuckets  = serviceBuckets{}
)

func (b serviceBuckets) GetBucketAcl(ctx context.Context, principal, sourceARN, bucket string) error {
	_, err := b.s3.GetBucketAcl(s3.AsService(ctx, principal, sourceARN), &s3api.GetBucketAclRequest{Bucket: &bucket})
	return err
}

func (b serviceBuckets) PutObject(ctx context.Context, principal, sourceARN, bucket, key string, body io.Reader, size int64) error {
	_, err := b.s3.PutObject(s3.AsService(ctx, principal, sourceARN), &s3api.PutObjectRequest{Bucket: &bucket, Key: &key,
		Body: io.NopCloser(body), ContentLength: &size, ACL: new("bucket-owner-full-control")})
	return err
}

// ecrPulls lets the Docker engine pull overcast's own ECR images (an ECS
// task's or a build's image URI): they resolve to the local registry, with
// a token of the owning account, or of the principal in ctx.
type ecrPulls struct{ *ecr.Service }

func (e ecrPulls) Resolve(ctx context.Context, image string) (string, *docker.Credentials, bool, error) {
	scope := overcast.ScopeOf(ctx)
	ref, ok := ecr.ParseImageURI(image, scope.Account, scope.Region)
	if !ok {
		return "", nil, false, nil
	}
	// Work done as a principal (a task pulling with its execution role)
	// pulls as it; the rest as the owning account.
	user, password, _ := e.RegistryCredentials(ref.Account, ref.Region)
	if c := overcast.CallerFrom(ctx); c.Kind != overcast.PrincipalRoot && c.ARN != "" {
		user, password, _ = e.RegistryCredentialsAs(c, ref.Account, ref.Region)
	}
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

func (d stsDirectory) OIDCProviderFor(ctx context.Context, account, issuer string) (sts.OIDCProvider, error) {
	p, err := d.Service.OIDCProviderFor(ctx, account, issuer)
	return sts.OIDCProvider{ARN: p.ARN, Name: p.Name, ClientIDs: p.ClientIDs, Tags: p.Tags}, err
}

func (d stsDirectory) SAMLProvider(ctx context.Context, arn string) (sts.SAMLProvider, error) {
	p, err := d.Service.SAMLProviderByARN(ctx, arn)
	return sts.SAMLProvider{ARN: p.ARN, Name: p.Name, Metadata: p.Metadata, ValidUntil: p.ValidUntil}, err
}

// fromEC2 is what ECS and EFS use of EC2 (instances that join clusters,
// subnets, awsvpc tasks' network interfaces) in their own types and
// errors, so that neither imports it.
type fromEC2 struct{ ec2 *ec2.Service }

var (
	_ ecs.Instances         = fromEC2{}
	_ ecs.NetworkInterfaces = fromEC2{}
	_ ecs.Subnets           = fromEC2{}
	_ efs.Subnets           = fromEC2{}
)

func (a fromEC2) AttachTaskInterface(ctx context.Context, account, region, subnetID string, securityGroups []string, description string) (ecs.NetworkInterfaceInfo, error) {
	n, err := a.ec2.AttachTaskInterface(ctx, account, region, subnetID, securityGroups, description)
	return ecs.NetworkInterfaceInfo(n), err
}

func (a fromEC2) ReleaseInterface(ctx context.Context, account, region, eniID string) error {
	return a.ec2.ReleaseInterface(ctx, account, region, eniID)
}

func (a fromEC2) CheckSubnet(ctx context.Context, account, region, id string) error {
	_, err := a.ec2.Subnet(ctx, account, region, id)
	return notFoundAs(err, ec2.ErrSubnetNotFound, ecs.ErrSubnetNotFound, id)
}

// notFoundAs is err, but with the consumer's sentinel mine, naming id, in
// the place of EC2's sentinel theirs.
func notFoundAs(err, theirs, mine error, id string) error {
	if errors.Is(err, theirs) {
		return fmt.Errorf("%w: %s", mine, id)
	}
	return err
}

func (a fromEC2) Instance(ctx context.Context, account, region, id string) (ecs.Instance, error) {
	i, err := a.ec2.Instance(ctx, account, region, id)
	if err != nil {
		return ecs.Instance{}, notFoundAs(err, ec2.ErrInstanceNotFound, ecs.ErrInstanceNotFound, id)
	}
	return ecs.Instance{ID: i.ID, Type: i.Type, ImageID: i.ImageID, State: i.State, AvailabilityZone: i.AvailabilityZone,
		SubnetID: i.SubnetID, VPCID: i.VPCID, PrivateIP: i.PrivateIP, Architecture: i.Architecture, VCPUs: i.VCPUs,
		MemoryMiB: i.MemoryMiB, UserData: i.UserData, IamInstanceProfileArn: i.IamInstanceProfileArn, LaunchTime: i.LaunchTime,
		AutoScalingGroup: i.Tags[autoscaling.GroupNameTag]}, nil
}

// Subnet is EFS's view of a subnet, for its mount targets.
func (a fromEC2) Subnet(ctx context.Context, account, region, id string) (efs.Subnet, error) {
	sn, err := a.ec2.Subnet(ctx, account, region, id)
	if err != nil {
		return efs.Subnet{}, notFoundAs(err, ec2.ErrSubnetNotFound, efs.ErrSubnetNotFound, id)
	}
	return efs.Subnet{ID: sn.ID, VPCID: sn.VPCID, AvailabilityZone: sn.AvailabilityZone, CIDR: sn.CIDR}, nil
}

// elbNetwork gives ELBv2 EC2's subnets, VPCs and instances, and an
// interface in each of a load balancer's subnets for its addresses.
type elbNetwork struct{ ec2 *ec2.Service }

var _ elbv2.Network = elbNetwork{}

func (a elbNetwork) Subnet(ctx context.Context, account, region, id string) (elbv2.Subnet, error) {
	sn, err := a.ec2.Subnet(ctx, account, region, id)
	if err != nil {
		return elbv2.Subnet{}, notFoundAs(err, ec2.ErrSubnetNotFound, elbv2.ErrSubnetNotFound, id)
	}
	return elbv2.Subnet(sn), nil
}

func (a elbNetwork) VPC(ctx context.Context, account, region, id string) (elbv2.VPC, error) {
	v, err := a.ec2.VPC(ctx, account, region, id)
	if err != nil {
		return elbv2.VPC{}, notFoundAs(err, ec2.ErrVPCNotFound, elbv2.ErrVPCNotFound, id)
	}
	return elbv2.VPC(v), nil
}

func (a elbNetwork) Instance(ctx context.Context, account, region, id string) (elbv2.Instance, error) {
	i, err := a.ec2.Instance(ctx, account, region, id)
	if err != nil {
		return elbv2.Instance{}, notFoundAs(err, ec2.ErrInstanceNotFound, elbv2.ErrInstanceNotFound, id)
	}
	return elbv2.Instance{ID: i.ID, State: i.State, VPCID: i.VPCID, PrivateIP: i.PrivateIP, AvailabilityZone: i.AvailabilityZone}, nil
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

// elbCertificates serves HTTPS listeners the certificates ACM issued or
// imported, with ELBv2's errors for those it cannot serve.
type elbCertificates struct{ acm *acm.Service }

var _ elbv2.Certificates = elbCertificates{}

func (c elbCertificates) InUse(ctx context.Context, users map[string][]string) error {
	return c.acm.SetUsers(ctx, "arn:aws:elasticloadbalancing:", users)
}

func (c elbCertificates) Certificate(ctx context.Context, arn string) (*tls.Certificate, error) {
	a, _ := overcast.ParseARN(arn)
	cert, err := c.acm.TLSCertificate(ctx, a.AccountID, a.Region, arn)
	switch {
	case errors.Is(err, acm.ErrCertificateNotFound):
		return nil, &awsproto.Error{Code: "CertificateNotFound", Status: http.StatusBadRequest, Message: fmt.Sprintf("Certificate '%s' not found", arn)}
	case errors.Is(err, acm.ErrCertificateNotIssued):
		return nil, &awsproto.Error{Code: "UnsupportedCertificate", Status: http.StatusBadRequest,
			Message: fmt.Sprintf("The certificate '%s' must have a fully-qualified domain name, a supported signature, and a supported key size.", arn)}
	}
	return cert, err
}

// ecsTargets registers ECS services' tasks in ELBv2's target groups.
type ecsTargets struct{ elb *elbv2.Service }

var _ ecs.LoadBalancers = ecsTargets{}

func (e ecsTargets) LoadBalancerOf(ctx context.Context, tg string) (string, error) {
	return e.elb.LoadBalancerOf(ctx, tg)
}

func (e ecsTargets) TargetType(ctx context.Context, tg string) (string, error) {
	return e.elb.TargetType(ctx, tg)
}

func (e ecsTargets) Register(ctx context.Context, tg string, t ecs.Target) error {
	return e.elb.Register(ctx, tg, elbv2.Target(t))
}

func (e ecsTargets) Deregister(ctx context.Context, tg string, t ecs.Target) error {
	return e.elb.Deregister(ctx, tg, elbv2.Target(t))
}

func (e ecsTargets) TargetStates(ctx context.Context, tg string) (map[ecs.Target]string, error) {
	health, err := e.elb.TargetHealth(ctx, tg)
	states := make(map[ecs.Target]string, len(health))
	for _, h := range health {
		states[ecs.Target(h.Target)] = h.State
	}
	return states, err
}

// ecsMetrics publishes ECS's CPU and memory utilization in CloudWatch.
type ecsMetrics struct{ cw *cloudwatch.Service }

var _ ecs.Metrics = ecsMetrics{}

func (m ecsMetrics) PutECSMetrics(ctx context.Context, account, region string, points []ecs.MetricPoint) error {
	data := make([]cloudwatch.Datum, 0, len(points))
	for _, p := range points {
		dims := []cloudwatch.Dimension{{Name: "ClusterName", Value: p.ClusterName}}
		if p.ServiceName != "" {
			dims = append(dims, cloudwatch.Dimension{Name: "ServiceName", Value: p.ServiceName})
		}
		data = append(data, cloudwatch.Datum{MetricName: p.Name, Dimensions: dims, Unit: "Percent",
			Stats: &cloudwatch.Stats{SampleCount: float64(p.Tasks), Sum: p.Average * float64(p.Tasks), Minimum: p.Minimum, Maximum: p.Maximum}})
	}
	return m.cw.Put(ctx, account, region, "AWS/ECS", data)
}
