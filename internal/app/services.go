package app

import (
	"context"
	"io"
	"net/http"

	"overcast"
	s3api "overcast/internal/api/s3"
	"overcast/internal/docker"
	"overcast/internal/ecr"
	"overcast/internal/ecs"
	"overcast/internal/ecs/agent"
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
func buildServices(env *service.Env, gateway http.Handler) ([]any, keyStores, error) {
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
	endpoint, err := taskEndpoint(env, stsSvc, gateway)
	if err != nil {
		return nil, nil, err
	}
	ecsSvc := ecs.New(env.Named("ecs"), ecs.Options{
		// Instances and Interfaces: once internal/ec2 adapts to them.
		Agent: agent.Config{Logs: taskLogs{logsSvc}, Secrets: taskSecrets{secretsSvc, ssmSvc},
			EnvironmentFiles: taskEnvFiles{s3Svc}},
		Endpoint: endpoint,
	})
	return []any{
		iamSvc,
		stsSvc,
		s3Svc,
		logsSvc,
		secretsSvc,
		ssmSvc,
		ecrSvc,
		ecsSvc,
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
