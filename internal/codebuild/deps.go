package codebuild

import (
	"context"
	"io"
	"time"

	"overcast/internal/codebuild/runner"
)

// What CodeBuild needs from overcast's other services, in its own terms;
// internal/app adapts the services. Every call acts as the project's
// account (account, region), as the build's service role would.

// Objects is S3.
type Objects interface {
	// GetObject reads an object and its version ID ("" when unversioned).
	GetObject(ctx context.Context, account, region, bucket, key string) (body io.ReadCloser, versionID string, err error)
	// ListObjects lists the keys under prefix.
	ListObjects(ctx context.Context, account, region, bucket, prefix string) ([]string, error)
	PutObject(ctx context.Context, account, region, bucket, key string, body io.Reader, size int64) error
	// CopyObject copies an object within S3, as a batch combines its
	// builds' artifacts.
	CopyObject(ctx context.Context, account, region, srcBucket, srcKey, bucket, key string) error
}

// Parameters is SSM Parameter Store: a parameter's value, decrypted.
type Parameters interface {
	Parameter(ctx context.Context, account, region, name string) (string, error)
}

// Secrets is Secrets Manager: a secret's value, or one key of its JSON.
type Secrets interface {
	Secret(ctx context.Context, account, region string, ref runner.SecretRef) (string, error)
}

// Repositories is CodeCommit: the bare git directory of a repository, to
// clone builds' sources from.
type Repositories interface {
	RepositoryDir(ctx context.Context, account, region, name string) (string, error)
}

// Logs is CloudWatch Logs: lines appended to a stream, the group and
// stream made when missing.
type Logs interface {
	Append(ctx context.Context, account, region, group, stream string, at time.Time, lines []string) error
}

// Metrics is CloudWatch: AWS/CodeBuild data points.
type Metrics interface {
	Put(ctx context.Context, account, region string, data []Metric) error
}

// Metric is one data point: a name, its dimensions (none for the account's
// series) and a value in unit (Count, Seconds).
type Metric struct {
	Name       string
	Dimensions map[string]string
	Value      float64
	Unit       string
}

// Credentials gives a build's container its service role's credentials:
// the ECS task endpoint, with the build registered as a task.
type Credentials interface {
	// Register returns the container's environment (the credentials
	// URI, AWS_ENDPOINT_URL) and the network it must join to reach them.
	Register(ctx context.Context, account, region, buildARN, roleARN string) (env map[string]string, network string, err error)
	Deregister(buildARN string)
}

// Images resolves a project's image (AWS's curated names among them) to
// one the engine has, with a note for the build log when it mapped one.
type Images interface {
	Resolve(ctx context.Context, image string) (resolved, note string, err error)
}
