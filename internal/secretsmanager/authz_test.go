package secretsmanager

import (
	"strings"
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
		{Name: "existing", Op: "CreateSecret", In: &api.CreateSecretRequest{Name: new("db/password")}, Resources: []string{arn}},
		{Op: "ListSecrets", In: &api.ListSecretsRequest{}, Resources: []string{"*"}},
	})
	// A secret being created is authorized on the ARN it then gets.
	in := &api.CreateSecretRequest{Name: new("api/key"), SecretString: new("k")}
	authorized := s.authzTable().Checks(t.Context(), "CreateSecret", authztest.Scope, in)[0].Resources
	created, err := s.CreateSecret(callerIn(authztest.Scope.AccountID, authztest.Scope.Region), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(authorized) != 1 || authorized[0] != *created.ARN || !strings.HasPrefix(*created.ARN, partial+"api/key-") {
		t.Errorf("CreateSecret: authorized on %v, created %s", authorized, *created.ARN)
	}

	checks := s.authzTable().Checks(t.Context(), "BatchGetSecretValue", authztest.Scope,
		&api.BatchGetSecretValueRequest{SecretIdList: []string{"db/password"}})
	if len(checks) != 2 || checks[1].Action != "secretsmanager:GetSecretValue" || checks[1].Resources[0] != arn {
		t.Errorf("BatchGetSecretValue: got %+v, want BatchGetSecretValue on * and GetSecretValue on %s", checks, arn)
	}
}
