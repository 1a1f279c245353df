package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"overcast"
	s3api "overcast/internal/api/s3"
	smapi "overcast/internal/api/secretsmanager"
	ssmapi "overcast/internal/api/ssm"
	"overcast/internal/ecs/agent"
	"overcast/internal/s3"
	"overcast/internal/secretsmanager"
	"overcast/internal/ssm"
)

// taskSecrets resolves ECS secrets' valueFrom: a Secrets Manager secret
// ARN (with an optional json-key:version-stage:version-id tail) or an SSM
// parameter's name or ARN, in the task's account (the caller in ctx) or
// the one the ARN names.
type taskSecrets struct {
	secrets *secretsmanager.Service
	ssm     *ssm.Service
}

var _ agent.Secrets = taskSecrets{}

func (r taskSecrets) Resolve(ctx context.Context, valueFrom string) (string, error) {
	a, isARN := overcast.ParseARN(valueFrom)
	if isARN {
		// The secret's account and region, read by the caller (the task's
		// execution role, when it has one).
		c := overcast.CallerFrom(ctx)
		c.AccountID, c.Region = a.AccountID, a.Region
		ctx = overcast.WithCaller(ctx, c)
	}
	if isARN && a.Service == "secretsmanager" {
		return r.secret(ctx, valueFrom)
	}
	name := valueFrom
	if isARN {
		if a.Service != "ssm" || !strings.HasPrefix(a.Resource, "parameter/") {
			return "", fmt.Errorf("%s is neither a Secrets Manager secret nor an SSM parameter", valueFrom)
		}
		// parameter/name for "name", parameter/a/b for "/a/b".
		name = strings.TrimPrefix(a.Resource, "parameter")
		if strings.Count(name, "/") == 1 {
			name = name[1:]
		}
	}
	out, err := r.ssm.GetParameter(ctx, &ssmapi.GetParameterRequest{Name: &name, WithDecryption: new(true)})
	if err != nil {
		return "", err
	}
	return *out.Parameter.Value, nil
}

// secret reads arn:aws:secretsmanager:region:account:secret:name[:json-key[:stage[:version-id]]].
func (r taskSecrets) secret(ctx context.Context, valueFrom string) (string, error) {
	parts := strings.Split(valueFrom, ":")
	if len(parts) < 7 {
		return "", fmt.Errorf("%s is not a secret ARN", valueFrom)
	}
	field := func(i int) string {
		if i < len(parts) {
			return parts[i]
		}
		return ""
	}
	in := &smapi.GetSecretValueRequest{SecretId: new(strings.Join(parts[:7], ":"))}
	if stage := field(8); stage != "" {
		in.VersionStage = &stage
	}
	if id := field(9); id != "" {
		in.VersionId = &id
	}
	return secretValue(ctx, r.secrets, in, field(7))
}

// secretValue is the secret's string, or the value of its JSON's key when
// key is set (ECS's and CodeBuild's json-key).
func secretValue(ctx context.Context, secrets *secretsmanager.Service, in *smapi.GetSecretValueRequest, key string) (string, error) {
	out, err := secrets.GetSecretValue(ctx, in)
	if err != nil {
		return "", err
	}
	value := deref(out.SecretString)
	if key == "" {
		return value, nil
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(value), &doc); err != nil {
		return "", fmt.Errorf("secret %s is not a JSON object, it has no key %s", *in.SecretId, key)
	}
	raw, ok := doc[key]
	if !ok {
		return "", fmt.Errorf("secret %s has no key %s", *in.SecretId, key)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	return string(raw), nil
}

// taskEnvFiles reads ECS environment files from S3 (arn:aws:s3:::bucket/key),
// as the task's account.
type taskEnvFiles struct{ s3 *s3.Service }

var _ agent.EnvironmentFiles = taskEnvFiles{}

func (f taskEnvFiles) Read(ctx context.Context, objectARN string) (map[string]string, error) {
	a, ok := overcast.ParseARN(objectARN)
	bucket, key, hasKey := strings.Cut(a.Resource, "/")
	if !ok || a.Service != "s3" || !hasKey {
		return nil, fmt.Errorf("%s is not an S3 object ARN", objectARN)
	}
	out, err := f.s3.GetObject(ctx, &s3api.GetObjectRequest{Bucket: &bucket, Key: &key})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	vars := map[string]string{}
	lines := bufio.NewScanner(out.Body)
	for lines.Scan() {
		line := strings.TrimSpace(lines.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if name, value, ok := strings.Cut(line, "="); ok && name != "" {
			vars[name] = value
		}
	}
	return vars, lines.Err()
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
