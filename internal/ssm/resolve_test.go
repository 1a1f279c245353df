package ssm

import (
	"bytes"
	"context"
	"testing"

	"overcast"
	api "overcast/internal/api/ssm"
	"overcast/internal/service/servicetest"
	"overcast/internal/store"
	"overcast/internal/tabletest"
)

func newTestService(t *testing.T) (*Service, store.Store) {
	t.Helper()
	env := servicetest.Env(t)
	return New(env), env.Store
}

func callerIn(account, region string) context.Context {
	return overcast.WithCaller(context.Background(), overcast.RootCaller(account, region))
}

func mustPut(t *testing.T, s *Service, ctx context.Context, name, value, typ string, overwrite bool) {
	t.Helper()
	if _, err := s.PutParameter(ctx, &api.PutParameterRequest{Name: &name, Value: &value, Type: &typ, Overwrite: &overwrite}); err != nil {
		t.Fatalf("PutParameter %s: %v", name, err)
	}
}

func TestResolveParameter(t *testing.T) {
	s, _ := newTestService(t)
	east := callerIn("111111111111", "us-east-1")
	west := callerIn("111111111111", "us-west-2")
	mustPut(t, s, east, "/app/db/password", "v1", "SecureString", false)
	mustPut(t, s, east, "/app/db/password", "v2", "SecureString", true)
	mustPut(t, s, east, "plain", "text", "String", false)
	mustPut(t, s, west, "/app/db/password", "west", "SecureString", false)
	if _, err := s.LabelParameterVersion(east, &api.LabelParameterVersionRequest{Name: new("/app/db/password"), ParameterVersion: new(int64(1)), Labels: []string{"old"}}); err != nil {
		t.Fatal(err)
	}

	resolve := func(ref string) string {
		return tabletest.Outcome(s.ResolveParameter(context.Background(), "111111111111", "us-east-1", ref))
	}
	tabletest.Run(t, "ResolveParameter", resolve, map[string]string{
		"/app/db/password":     "v2",
		"/app/db/password:1":   "v1",
		"/app/db/password:old": "v1",
		"plain":                "text",
		"arn:aws:ssm:us-east-1:111111111111:parameter/app/db/password": "v2",
		"arn:aws:ssm:us-east-1:111111111111:parameter/plain":           "text",
		// A full ARN reaches another region of the account, as in ECS.
		"arn:aws:ssm:us-west-2:111111111111:parameter/app/db/password": "west",
		"/app/db/password:9": "error ParameterVersionNotFound",
		"/missing":           "error ParameterNotFound",
		"arn:aws:ssm:us-east-1:222222222222:parameter/app/db/password": "error ParameterNotFound",
		"a:b:c": "error ParameterNotFound",
	})
}

// TestStoreHoldsNoPlaintext looks at every item the service wrote.
func TestStoreHoldsNoPlaintext(t *testing.T) {
	s, db := newTestService(t)
	ctx := callerIn("111111111111", "us-east-1")
	mustPut(t, s, ctx, "/canary", "SECRET-canary-value", "SecureString", false)
	mustPut(t, s, ctx, "/canary", "SECRET-canary-value-2", "SecureString", true)
	items := 0
	err := db.View(ctx, func(tx store.Tx) error {
		for _, table := range []string{parametersTable, historyTable} {
			err := tx.Scan(table, store.ScanOptions{}, func(it store.Item) error {
				items++
				if bytes.Contains(it.Value, []byte("SECRET-canary")) {
					t.Errorf("%s/%s holds the plaintext: %s", table, it.Key, it.Value)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if items != 3 {
		t.Errorf("got %d items, want 3 (the parameter and two versions)", items)
	}
}
