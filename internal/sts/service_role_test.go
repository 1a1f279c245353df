package sts_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"overcast"
	"overcast/internal/awsproto"
	"overcast/internal/service/servicetest"
	"overcast/internal/sts"
)

// roles is a Directory of fixed roles and no long-term keys.
type roles map[string]sts.Role

func (r roles) RoleByARN(ctx context.Context, arn string) (sts.Role, error) {
	if role, ok := r[arn]; ok {
		return role, nil
	}
	return sts.Role{}, &awsproto.Error{Code: "NoSuchEntity", Status: 404, Message: "no role " + arn}
}

func (roles) LookupAccessKey(ctx context.Context, id string) (overcast.Credentials, error) {
	return overcast.Credentials{}, overcast.ErrUnknownAccessKey
}

func TestAssumeRoleAsService(t *testing.T) {
	ctx := context.Background()
	const taskRole = "arn:aws:iam::123456789012:role/app"
	const otherRole = "arn:aws:iam::123456789012:role/other"
	dir := roles{
		taskRole: {ARN: taskRole, RoleID: "AROAAPP", Name: "app", AccountID: "123456789012",
			AssumeRolePolicyDocument: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`},
		otherRole: {ARN: otherRole, RoleID: "AROAOTHER", Name: "other", AccountID: "123456789012",
			AssumeRolePolicyDocument: trustAccount},
	}
	env := servicetest.Env(t)
	svc := sts.New(env, dir, sts.Options{})
	creds, err := svc.AssumeRoleAsService(ctx, "ecs-tasks.amazonaws.com", taskRole, "task-1", 6*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := creds.Caller.ARN, "arn:aws:sts::123456789012:assumed-role/app/task-1"; got != want {
		t.Errorf("ARN: got %s, want %s", got, want)
	}
	if got, want := creds.Expires, env.Clock.Now().UTC().Truncate(time.Second).Add(6*time.Hour); !got.Equal(want) {
		t.Errorf("Expires: got %v, want %v", got, want)
	}
	// The gateway accepts the key like any other temporary key.
	looked, err := svc.LookupAccessKey(ctx, creds.Caller.AccessKeyID)
	if err != nil || looked.SecretAccessKey != creds.SecretAccessKey || looked.SessionToken != creds.SessionToken {
		t.Errorf("LookupAccessKey(%s): got %+v, %v; want the issued credentials", creds.Caller.AccessKeyID, looked, err)
	}
	if _, err := svc.AssumeRoleAsService(ctx, "ecs-tasks.amazonaws.com", "arn:aws:iam::123456789012:role/none", "t", time.Hour); err == nil {
		t.Error("an unknown role: got credentials, want an error")
	}
	// Outside --strict a trust policy that does not name the service is
	// only logged; under it the role is refused.
	if _, err := svc.AssumeRoleAsService(ctx, "ecs-tasks.amazonaws.com", otherRole, "t", time.Hour); err != nil {
		t.Errorf("non-strict, untrusted service: %v", err)
	}
	strictEnv := servicetest.Env(t)
	strictEnv.Strict = true
	_, err = sts.New(strictEnv, dir, sts.Options{}).AssumeRoleAsService(ctx, "ecs-tasks.amazonaws.com", otherRole, "t", time.Hour)
	var apiErr *awsproto.Error
	if !errors.As(err, &apiErr) || apiErr.Code != "AccessDenied" {
		t.Errorf("strict, untrusted service: got %v, want AccessDenied", err)
	}
}
