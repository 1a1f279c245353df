package secretsmanager

import (
	"testing"

	api "overcast/internal/api/secretsmanager"
	"overcast/internal/authz/authztest"
)

func TestAuthzTable(t *testing.T) {
	s, _, _ := newTestService(t)
	arn := *mustCreate(t, s, callerIn(authztest.Scope.AccountID, authztest.Scope.Region), "db/password", "hunter2").ARN
	const partial = "arn:aws:secretsmanager:us-east-1:123456789012:secret:"
	authztest.Run(t, s.authzTable(), []authztest.Case{
		{Name: "by name", Op: "GetSecretValue", In: &api.GetSecretValueRequest{SecretId: new("db/password")}, Resources: []string{arn}},
		{Name: "by partial ARN", Op: "GetSecretValue", In: &api.GetSecretValueRequest{SecretId: new(partial + "db/password")}, Resources: []string{arn}},
		{Name: "missing", Op: "GetSecretValue", In: &api.GetSecretValueRequest{SecretId: new("api/key")}, Resources: []string{partial + "api/key"}},
		{Op: "CreateSecret", In: &api.CreateSecretRequest{Name: new("api/key")}, Resources: []string{partial + "api/key"}},
		{Op: "ListSecrets", In: &api.ListSecretsRequest{}, Resources: []string{"*"}},
	})
	checks := s.authzTable().Checks(t.Context(), "BatchGetSecretValue", authztest.Scope,
		&api.BatchGetSecretValueRequest{SecretIdList: []string{"db/password"}})
	if len(checks) != 2 || checks[1].Action != "secretsmanager:GetSecretValue" || checks[1].Resources[0] != arn {
		t.Errorf("BatchGetSecretValue: got %+v, want BatchGetSecretValue on * and GetSecretValue on %s", checks, arn)
	}
}
