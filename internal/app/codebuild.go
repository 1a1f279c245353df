package app

import (
	"context"
	"io"
	"maps"
	"net/url"
	"strings"
	"time"

	s3api "overcast/internal/api/s3"
	smapi "overcast/internal/api/secretsmanager"
	ssmapi "overcast/internal/api/ssm"
	"overcast/internal/cloudwatch"
	"overcast/internal/codebuild"
	"overcast/internal/codebuild/runner"
	"overcast/internal/ecs"
	"overcast/internal/ecs/taskendpoint"
	"overcast/internal/logs"
	"overcast/internal/s3"
	"overcast/internal/secretsmanager"
	"overcast/internal/ssm"
)

// buildObjects is S3 as a build's service role reads and writes it: as
// the project's account.
type buildObjects struct{ s3 *s3.Service }

var _ codebuild.Objects = buildObjects{}

func (o buildObjects) GetObject(ctx context.Context, account, region, bucket, key string) (io.ReadCloser, string, error) {
	out, err := o.s3.GetObject(asCaller(ctx, account, region), &s3api.GetObjectRequest{Bucket: &bucket, Key: &key})
	if err != nil {
		return nil, "", err
	}
	return out.Body, deref(out.VersionId), nil
}

func (o buildObjects) ListObjects(ctx context.Context, account, region, bucket, prefix string) ([]string, error) {
	in := &s3api.ListObjectsV2Request{Bucket: &bucket, Prefix: &prefix}
	var keys []string
	for {
		out, err := o.s3.ListObjectsV2(asCaller(ctx, account, region), in)
		if err != nil {
			return nil, err
		}
		for _, obj := range out.Contents {
			keys = append(keys, deref(obj.Key))
		}
		if !deref(out.IsTruncated) {
			return keys, nil
		}
		in.ContinuationToken = out.NextContinuationToken
	}
}

func (o buildObjects) PutObject(ctx context.Context, account, region, bucket, key string, body io.Reader, size int64) error {
	_, err := o.s3.PutObject(asCaller(ctx, account, region), &s3api.PutObjectRequest{Bucket: &bucket, Key: &key,
		Body: io.NopCloser(body), ContentLength: &size})
	return err
}

func (o buildObjects) CopyObject(ctx context.Context, account, region, srcBucket, srcKey, bucket, key string) error {
	source := srcBucket + "/" + (&url.URL{Path: srcKey}).EscapedPath()
	_, err := o.s3.CopyObject(asCaller(ctx, account, region), &s3api.CopyObjectRequest{Bucket: &bucket, Key: &key, CopySource: &source})
	return err
}

// buildParameters is Parameter Store for a buildspec's parameter-store
// variables: decrypted, as the project's account.
type buildParameters struct{ ssm *ssm.Service }

func (p buildParameters) Parameter(ctx context.Context, account, region, name string) (string, error) {
	out, err := p.ssm.GetParameter(asCaller(ctx, account, region), &ssmapi.GetParameterRequest{Name: &name, WithDecryption: new(true)})
	if err != nil {
		return "", err
	}
	return deref(out.Parameter.Value), nil
}

// buildSecrets is Secrets Manager for a buildspec's secrets-manager
// variables, as the project's account.
type buildSecrets struct{ secrets *secretsmanager.Service }

func (s buildSecrets) Secret(ctx context.Context, account, region string, ref runner.SecretRef) (string, error) {
	in := &smapi.GetSecretValueRequest{SecretId: &ref.SecretID}
	if ref.VersionStage != "" {
		in.VersionStage = &ref.VersionStage
	}
	if ref.VersionID != "" {
		in.VersionId = &ref.VersionID
	}
	return secretValue(asCaller(ctx, account, region), s.secrets, in, ref.JSONKey)
}

// buildLogs writes build logs to CloudWatch Logs as CodeBuild does,
// making the group and stream.
type buildLogs struct{ logs *logs.Service }

func (l buildLogs) Append(ctx context.Context, account, region, group, stream string, at time.Time, lines []string) error {
	events := make([]logs.Event, len(lines))
	for i, line := range lines {
		events[i] = logs.Event{Timestamp: at, Message: line}
	}
	return l.logs.Append(ctx, account, region, group, stream, events)
}

// buildMetrics publishes CodeBuild's AWS/CodeBuild metrics.
type buildMetrics struct{ cw *cloudwatch.Service }

func (m buildMetrics) Put(ctx context.Context, account, region string, data []codebuild.Metric) error {
	datums := make([]cloudwatch.Datum, len(data))
	for i, d := range data {
		datums[i] = cloudwatch.Datum{MetricName: d.Name, Values: []float64{d.Value}, Unit: d.Unit}
		for name, value := range d.Dimensions {
			datums[i].Dimensions = append(datums[i].Dimensions, cloudwatch.Dimension{Name: name, Value: value})
		}
	}
	return m.cw.Put(ctx, account, region, "AWS/CodeBuild", datums)
}

// buildCredentials gives builds their service role's credentials through
// the ECS task endpoint: a build is registered as a task of one container.
type buildCredentials struct{ endpoint servingEndpoint }

// servingEndpoint is the task endpoint, which can say whether it started:
// ECS starts it, and runs tasks without it when another overcast holds
// its address; builds then run without credentials too.
type servingEndpoint interface {
	ecs.TaskEndpoint
	Serving() bool
}

func (c buildCredentials) Register(ctx context.Context, account, region, buildARN, roleARN string) (map[string]string, string, error) {
	if !c.endpoint.Serving() {
		return nil, "", nil
	}
	envs, err := c.endpoint.Register(ctx, taskendpoint.TaskInfo{ARN: buildARN, Cluster: buildARN, Family: "codebuild",
		TaskRoleArn: roleARN, Principal: "codebuild.amazonaws.com", Account: account, Region: region, DesiredStatus: "RUNNING", KnownStatus: "RUNNING",
		Containers: []taskendpoint.ContainerInfo{{Name: "build", DesiredStatus: "RUNNING", KnownStatus: "RUNNING"}}})
	if err != nil {
		return nil, "", err
	}
	// Only the credentials and the endpoint: a build has no task metadata.
	env := maps.Clone(envs["build"])
	maps.DeleteFunc(env, func(k, _ string) bool { return !strings.HasPrefix(k, "AWS_") })
	return env, c.endpoint.Network(), nil
}

func (c buildCredentials) Deregister(buildARN string) { c.endpoint.Deregister(buildARN) }
