package secretsmanager

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"overcast"
	api "overcast/internal/api/secretsmanager"
	"overcast/internal/awsproto"
	"overcast/internal/clock"
	"overcast/internal/service/servicetest"
	"overcast/internal/store"
	"overcast/internal/tabletest"
)

func newTestService(t *testing.T) (*Service, store.Store, *clock.Fake) {
	t.Helper()
	env := servicetest.Env(t, servicetest.WithClock(clock.NewFake(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))))
	return New(env), env.Store, servicetest.Fake(env)
}

func callerIn(account, region string) context.Context {
	return overcast.WithCaller(context.Background(), overcast.RootCaller(account, region))
}

func mustCreate(t *testing.T, s *Service, ctx context.Context, name, value string) *api.CreateSecretResponse {
	t.Helper()
	out, err := s.CreateSecret(ctx, &api.CreateSecretRequest{Name: &name, SecretString: &value})
	if err != nil {
		t.Fatalf("CreateSecret %s: %v", name, err)
	}
	return out
}

func codeOf(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	e, ok := awsproto.AsAPIError(err)
	if !ok {
		t.Fatalf("got %v, want an API error", err)
	}
	return e.ErrorCode()
}

func TestParseValueFrom(t *testing.T) {
	const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/db-AbCdEf"
	parse := func(in string) (ValueFrom, error) { return ParseValueFrom("000000000000", "us-east-1", in) }
	tabletest.RunCommaOK(t, "ParseValueFrom", tabletest.NoError(parse), map[string]ValueFrom{
		"app/db":                       {Account: "000000000000", Region: "us-east-1", SecretID: "app/db"},
		arn:                            {Account: "123456789012", Region: "eu-west-1", SecretID: arn},
		arn + ":username::":            {Account: "123456789012", Region: "eu-west-1", SecretID: arn, JSONKey: "username"},
		arn + "::AWSCURRENT":           {Account: "123456789012", Region: "eu-west-1", SecretID: arn, VersionStage: "AWSCURRENT"},
		arn + ":username:AWSPREVIOUS:": {Account: "123456789012", Region: "eu-west-1", SecretID: arn, JSONKey: "username", VersionStage: "AWSPREVIOUS"},
		arn + ":::11111111-1111-4111-8111-111111111111": {Account: "123456789012", Region: "eu-west-1", SecretID: arn,
			VersionID: "11111111-1111-4111-8111-111111111111"},
	}, arn+":a:b:c:d", "arn:aws:ssm:us-east-1:123456789012:parameter/x", "arn:aws:secretsmanager:us-east-1:123456789012:secret:", "name:key", "")
}

func TestResolveSecret(t *testing.T) {
	s, _, _ := newTestService(t)
	ctx := callerIn("111111111111", "us-east-1")
	first := mustCreate(t, s, ctx, "app/db", `{"username":"admin","password":"pw1","port":5432,"opts":{"ssl":true}}`)
	if _, err := s.PutSecretValue(ctx, &api.PutSecretValueRequest{SecretId: new("app/db"), SecretString: new(`{"username":"admin","password":"pw2"}`)}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, ctx, "plain", "just text")
	if _, err := s.CreateSecret(ctx, &api.CreateSecretRequest{Name: new("bin"), SecretBinary: []byte("raw-bytes")}); err != nil {
		t.Fatal(err)
	}
	west := mustCreate(t, s, callerIn("111111111111", "us-west-2"), "app/db", `{"password":"west"}`)
	if _, err := s.DeleteSecret(ctx, &api.DeleteSecretRequest{SecretId: new("plain")}); err != nil {
		t.Fatal(err)
	}
	arn := *first.ARN
	partial := arn[:len(arn)-7]
	resolve := func(valueFrom string) string {
		return tabletest.Outcome(s.ResolveSecret(context.Background(), "111111111111", "us-east-1", valueFrom))
	}
	tabletest.Run(t, "ResolveSecret", resolve, map[string]string{
		"app/db":                               `{"username":"admin","password":"pw2"}`,
		arn:                                    `{"username":"admin","password":"pw2"}`,
		arn + ":password::":                    "pw2",
		arn + ":password:AWSPREVIOUS:":         "pw1",
		arn + ":password::" + *first.VersionId: "pw1",
		arn + ":password:AWSCURRENT:" + *first.VersionId: "error InvalidRequestException",
		partial + ":username":                            "admin",
		arn + ":port:AWSPREVIOUS":                        "5432",
		arn + ":opts:AWSPREVIOUS":                        `{"ssl":true}`,
		arn + ":missing":                                 "error ResourceNotFoundException",
		*west.ARN + ":password":                          "west",
		"bin":                                            "raw-bytes",
		"bin:key":                                        `error secretsmanager: "bin:key" is neither a secret name nor a secret ARN`,
		"plain":                                          "error InvalidRequestException",
		"nope":                                           "error ResourceNotFoundException",
		"arn:aws:secretsmanager:us-east-1:222222222222:secret:app/db": "error ResourceNotFoundException",
	})
}

// countItems counts the items of a table whose key contains substr.
func countItems(t *testing.T, db store.Store, table, substr string) int {
	t.Helper()
	n := 0
	err := db.View(context.Background(), func(tx store.Tx) error {
		return tx.Scan(table, store.ScanOptions{}, func(it store.Item) error {
			if bytes.Contains([]byte(it.Key), []byte(substr)) {
				n++
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSweepPurgesAfterTheWindow(t *testing.T) {
	s, db, clk := newTestService(t)
	ctx := callerIn("111111111111", "us-east-1")
	mustCreate(t, s, ctx, "doomed", "v1")
	if _, err := s.PutSecretValue(ctx, &api.PutSecretValueRequest{SecretId: new("doomed"), SecretString: new("v2")}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, ctx, "restored", "v")
	mustCreate(t, s, ctx, "kept", "v")
	for _, name := range []string{"doomed", "restored"} {
		if _, err := s.DeleteSecret(ctx, &api.DeleteSecretRequest{SecretId: new(name), RecoveryWindowInDays: new(int64(7))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.RestoreSecret(ctx, &api.RestoreSecretRequest{SecretId: new("restored")}); err != nil {
		t.Fatal(err)
	}

	clk.Advance(7*24*time.Hour - time.Second)
	if n, err := s.Sweep(context.Background()); err != nil || n != 0 {
		t.Fatalf("sweep before the window ends: purged %d, %v; want 0", n, err)
	}
	if got := countItems(t, db, secretsTable, "doomed"); got != 1 {
		t.Errorf("before the window ends: got %d records, want the secret still stored", got)
	}

	clk.Advance(time.Second)
	if n, err := s.Sweep(context.Background()); err != nil || n != 1 {
		t.Fatalf("sweep after the window: purged %d, %v; want 1", n, err)
	}
	tests := []struct {
		table, key string
		want       int
	}{
		{secretsTable, "doomed", 0},
		{valuesTable, "doomed", 0},
		{deletionsTable, "", 0},
		{secretsTable, "restored", 1},
		{secretsTable, "kept", 1},
		{valuesTable, "kept", 1},
	}
	for _, tt := range tests {
		if got := countItems(t, db, tt.table, tt.key); got != tt.want {
			t.Errorf("%s items with %q: got %d, want %d", tt.table, tt.key, got, tt.want)
		}
	}
	if _, err := s.DescribeSecret(ctx, &api.DescribeSecretRequest{SecretId: new("restored")}); err != nil {
		t.Errorf("the restored secret: %v", err)
	}
}

// TestDeletionController checks the controller purges a secret when its
// recovery window ends by the clock, not before, and picks up a deletion
// scheduled before it started (a restart).
func TestDeletionController(t *testing.T) {
	env := servicetest.Env(t)
	fake := servicetest.Fake(env)
	s := New(env)
	ctx := callerIn("111111111111", "us-east-1")
	for _, name := range []string{"before-start", "after-start"} {
		mustCreate(t, s, ctx, name, "v")
	}
	if _, err := s.DeleteSecret(ctx, &api.DeleteSecretRequest{SecretId: new("before-start"), RecoveryWindowInDays: new(int64(7))}); err != nil {
		t.Fatal(err)
	}
	env.Controllers.Start()
	if _, err := s.DeleteSecret(ctx, &api.DeleteSecretRequest{SecretId: new("after-start"), RecoveryWindowInDays: new(int64(8))}); err != nil {
		t.Fatal(err)
	}
	servicetest.WaitFor(t, "the controller to wait for both windows", func() bool { return fake.Waiters() > 0 })
	fake.Advance(7*24*time.Hour - time.Second)
	if n := countItems(t, env.Store, secretsTable, ""); n != 2 {
		t.Fatalf("before the window ends: %d secrets, want 2", n)
	}
	fake.Advance(time.Second)
	servicetest.WaitFor(t, "the first purge", func() bool { return countItems(t, env.Store, secretsTable, "before-start") == 0 })
	if n := countItems(t, env.Store, secretsTable, "after-start"); n != 1 {
		t.Fatalf("a secret with a day left was purged")
	}
	fake.Advance(24 * time.Hour)
	servicetest.WaitFor(t, "the second purge", func() bool { return countItems(t, env.Store, secretsTable, "") == 0 })
}

func TestAttachStages(t *testing.T) {
	tests := []struct {
		name   string
		start  map[string][]string
		id     string
		stages []string
		want   map[string][]string
	}{
		{"first version", map[string][]string{"a": nil}, "a", []string{"AWSCURRENT"}, map[string][]string{"a": {"AWSCURRENT"}}},
		{"current moves, previous follows",
			map[string][]string{"a": {"AWSPREVIOUS"}, "b": {"AWSCURRENT"}, "c": nil}, "c", []string{"AWSCURRENT"},
			map[string][]string{"a": {}, "b": {"AWSPREVIOUS"}, "c": {"AWSCURRENT"}}},
		{"custom stage moves alone",
			map[string][]string{"a": {"AWSCURRENT", "blue"}, "b": nil}, "b", []string{"blue"},
			map[string][]string{"a": {"AWSCURRENT"}, "b": {"blue"}}},
		{"back to the previous version",
			map[string][]string{"a": {"AWSPREVIOUS"}, "b": {"AWSCURRENT"}}, "a", []string{"AWSCURRENT"},
			map[string][]string{"a": {"AWSCURRENT"}, "b": {"AWSPREVIOUS"}}},
		{"already there", map[string][]string{"a": {"AWSCURRENT"}}, "a", []string{"AWSCURRENT"}, map[string][]string{"a": {"AWSCURRENT"}}},
	}
	for _, tt := range tests {
		sec := secret{}
		for _, id := range []string{"a", "b", "c"} {
			if stages, ok := tt.start[id]; ok {
				sec.Versions = append(sec.Versions, secretVersion{ID: id, Stages: append([]string(nil), stages...)})
			}
		}
		attachStages(&sec, tt.id, tt.stages)
		got := map[string][]string{}
		for _, v := range sec.Versions {
			got[v.ID] = append([]string{}, v.Stages...)
		}
		want := map[string][]string{}
		for k, v := range tt.want {
			want[k] = append([]string{}, v...)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestPruneKeepsLabelledVersions(t *testing.T) {
	sec := secret{}
	for i := range maxVersions + 3 {
		v := secretVersion{ID: string(rune('A'+i%26)) + string(rune('0'+i/26))}
		if i == 0 {
			v.Stages = []string{"pinned"}
		}
		sec.Versions = append(sec.Versions, v)
	}
	dropped := prune(&sec)
	if len(sec.Versions) != maxVersions || len(dropped) != 3 || sec.Versions[0].ID != "A0" {
		t.Errorf("got %d versions (first %s), dropped %v; want %d kept with the labelled oldest", len(sec.Versions), sec.Versions[0].ID, dropped, maxVersions)
	}
}

func TestStoreHoldsNoPlaintext(t *testing.T) {
	s, db, _ := newTestService(t)
	ctx := callerIn("111111111111", "us-east-1")
	mustCreate(t, s, ctx, "canary", "SECRET-canary-1")
	if _, err := s.PutSecretValue(ctx, &api.PutSecretValueRequest{SecretId: new("canary"), SecretBinary: []byte("SECRET-canary-2")}); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := db.View(ctx, func(tx store.Tx) error {
		for _, table := range []string{secretsTable, valuesTable, deletionsTable} {
			err := tx.Scan(table, store.ScanOptions{}, func(it store.Item) error {
				n++
				if bytes.Contains(it.Value, []byte("SECRET-canary")) {
					t.Errorf("%s/%s holds a value in plaintext", table, it.Key)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Errorf("scanned %d items (%v), want 3", n, err)
	}
}

func TestValidName(t *testing.T) {
	tests := map[string]bool{
		"a": true, "app/db-1_x+y=z.w@v": true, "MySecret-AbCdEf": true,
		"has space": false, "colon:x": false, "ümlaut": false,
	}
	for name, want := range tests {
		if got := validName(name); got != want {
			t.Errorf("validName(%q): got %v, want %v", name, got, want)
		}
	}
	if codeOf(t, nil) != "" {
		t.Fatal("codeOf(nil)")
	}
}
