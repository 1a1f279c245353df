package iam

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"overcast"
	api "overcast/internal/api/iam"
	"overcast/internal/clock"
	"overcast/internal/service"
	"overcast/internal/service/servicetest"
	"overcast/internal/store"
)

func newTestService(t testing.TB) (*Service, *clock.Fake, *service.Env) {
	t.Helper()
	env := servicetest.Env(t)
	return New(env), servicetest.Fake(env), env
}

func asUser(acct, name, id string) context.Context {
	return overcast.WithCaller(context.Background(), overcast.Caller{AccountID: acct, Kind: overcast.PrincipalUser,
		ARN: users.arn(acct, "/", name), UserID: id})
}

// newUserKey creates a user and an access key for it.
func newUserKey(tb testing.TB, s *Service, name, path string) (*api.User, *api.AccessKey) {
	tb.Helper()
	ctx := context.Background()
	u, err := s.CreateUser(ctx, &api.CreateUserRequest{UserName: &name, Path: &path})
	if err != nil {
		tb.Fatal(err)
	}
	k, err := s.CreateAccessKey(ctx, &api.CreateAccessKeyRequest{UserName: &name})
	if err != nil {
		tb.Fatal(err)
	}
	return u.User, k.AccessKey
}

func TestLookupAccessKey(t *testing.T) {
	s, _, _ := newTestService(t)
	ctx := context.Background()
	u, k := newUserKey(t, s, "alice", "/eng/")
	id, secret := *k.AccessKeyId, *k.SecretAccessKey

	want := overcast.Credentials{SecretAccessKey: secret, Caller: overcast.Caller{AccountID: overcast.DefaultAccountID,
		Kind: overcast.PrincipalUser, ARN: "arn:aws:iam::000000000000:user/eng/alice", UserID: *u.UserId}}
	for i := range 2 { // the second answer comes from the cache
		got, err := s.LookupAccessKey(ctx, id)
		if err != nil {
			t.Fatalf("lookup %d: %v", i, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("lookup %d (-want +got):\n%s", i, diff)
		}
	}

	// Deactivating must show at once, cache or not.
	if err := s.UpdateAccessKey(ctx, &api.UpdateAccessKeyRequest{UserName: new("alice"), AccessKeyId: &id, Status: new("Inactive")}); err != nil {
		t.Fatal(err)
	}
	got, err := s.LookupAccessKey(ctx, id)
	if err != nil || !got.Inactive {
		t.Fatalf("after deactivation: got %+v, %v, want Inactive", got, err)
	}

	// A rename changes the ARN the key signs as.
	if err := s.UpdateUser(ctx, &api.UpdateUserRequest{UserName: new("alice"), NewUserName: new("alicia"), NewPath: new("/ops/")}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.LookupAccessKey(ctx, id)
	if want := "arn:aws:iam::000000000000:user/ops/alicia"; got.Caller.ARN != want {
		t.Errorf("after rename: got ARN %q, want %q", got.Caller.ARN, want)
	}

	if err := s.DeleteAccessKey(ctx, &api.DeleteAccessKeyRequest{UserName: new("alicia"), AccessKeyId: &id}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LookupAccessKey(ctx, id); !errors.Is(err, overcast.ErrUnknownAccessKey) {
		t.Errorf("after delete: got %v, want ErrUnknownAccessKey", err)
	}
	for _, other := range []string{"test", "000000000000", "ASIAEXAMPLEEXAMPLE12", "AKIAUNKNOWNUNKNOWN12"} {
		if _, err := s.LookupAccessKey(ctx, other); !errors.Is(err, overcast.ErrUnknownAccessKey) {
			t.Errorf("LookupAccessKey(%q): got %v, want ErrUnknownAccessKey", other, err)
		}
	}
}

// TestLookupAccessKeyOtherWriter shows the cache's expiry: a change made
// by another Service on the same store (another process, in production)
// shows once the entry expires.
func TestLookupAccessKeyOtherWriter(t *testing.T) {
	s, clock, env := newTestService(t)
	other := New(env)
	ctx := context.Background()
	_, k := newUserKey(t, s, "bob", "/")
	id := *k.AccessKeyId
	if c, _ := s.LookupAccessKey(ctx, id); c.Inactive {
		t.Fatal("new key is inactive")
	}
	if err := other.UpdateAccessKey(ctx, &api.UpdateAccessKeyRequest{UserName: new("bob"), AccessKeyId: &id, Status: new("Inactive")}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(keyCacheTTL)
	if c, _ := s.LookupAccessKey(ctx, id); !c.Inactive {
		t.Errorf("after %v: got an active key, want the other writer's deactivation", keyCacheTTL)
	}
}

func TestRootAccessKeys(t *testing.T) {
	s, _, _ := newTestService(t)
	ctx := overcast.WithCaller(context.Background(), overcast.RootCaller("111111111111", "us-east-1"))
	k, err := s.CreateAccessKey(ctx, &api.CreateAccessKeyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if k.AccessKey.UserName != nil {
		t.Errorf("root key: got UserName %q, want none", *k.AccessKey.UserName)
	}
	got, err := s.LookupAccessKey(ctx, *k.AccessKey.AccessKeyId)
	if err != nil {
		t.Fatal(err)
	}
	if want := overcast.RootCaller("111111111111", ""); !cmp.Equal(got.Caller, want) {
		t.Errorf("got caller %+v, want %+v", got.Caller, want)
	}
	list, err := s.ListAccessKeys(ctx, &api.ListAccessKeysRequest{})
	if err != nil || len(list.AccessKeyMetadata) != 1 {
		t.Fatalf("ListAccessKeys: got %+v, %v, want the root's key", list, err)
	}
	sum, _ := s.GetAccountSummary(ctx)
	if got := sum.SummaryMap["AccountAccessKeysPresent"]; got != 1 {
		t.Errorf("AccountAccessKeysPresent: got %d, want 1", got)
	}
	// Assumed-role sessions have no keys of their own.
	session := overcast.WithCaller(context.Background(), overcast.Caller{AccountID: "111111111111", Kind: overcast.PrincipalAssumedRole})
	if _, err := s.CreateAccessKey(session, &api.CreateAccessKeyRequest{}); err == nil {
		t.Error("CreateAccessKey as an assumed role without UserName: got nil, want ValidationError")
	}
}

func TestRecordAccessKeyUse(t *testing.T) {
	s, clock, env := newTestService(t)
	ctx := context.Background()
	_, k := newUserKey(t, s, "u", "/")
	id := *k.AccessKeyId
	last := func() *api.AccessKeyLastUsed {
		t.Helper()
		out, err := s.GetAccessKeyLastUsed(ctx, &api.GetAccessKeyLastUsedRequest{AccessKeyId: &id})
		if err != nil {
			t.Fatal(err)
		}
		if out.UserName == nil || *out.UserName != "u" {
			t.Errorf("got UserName %v, want u", out.UserName)
		}
		return out.AccessKeyLastUsed
	}
	opts := cmpopts.IgnoreUnexported(api.AccessKeyLastUsed{})
	if diff := cmp.Diff(&api.AccessKeyLastUsed{ServiceName: new("N/A"), Region: new("N/A")}, last(), opts); diff != "" {
		t.Errorf("unused key (-want +got):\n%s", diff)
	}

	writes := func() int64 {
		var v int64
		env.Store.View(ctx, func(tx store.Tx) error {
			it, err := tx.Get(keyUsageTable, id)
			v = it.Version
			return err
		})
		return v
	}
	first := clock.Now().Truncate(time.Second)
	if err := s.RecordAccessKeyUse(ctx, id, "iam", "us-east-1"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * time.Second)
	s.RecordAccessKeyUse(ctx, id, "iam", "us-east-1")
	if got := writes(); got != 1 {
		t.Errorf("two uses 10s apart: got %d writes, want 1", got)
	}
	if diff := cmp.Diff(&api.AccessKeyLastUsed{LastUsedDate: &first, ServiceName: new("iam"), Region: new("us-east-1")}, last(), opts); diff != "" {
		t.Errorf("used key (-want +got):\n%s", diff)
	}
	s.RecordAccessKeyUse(ctx, id, "s3", "us-east-1")
	clock.Advance(2 * time.Minute)
	s.RecordAccessKeyUse(ctx, id, "s3", "us-east-1")
	if got := writes(); got != 3 {
		t.Errorf("after a new service and two minutes: got %d writes, want 3", got)
	}
}

func TestRoleByARN(t *testing.T) {
	s, _, _ := newTestService(t)
	ctx := overcast.WithCaller(context.Background(), overcast.RootCaller("222222222222", "us-east-1"))
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"sts:AssumeRole"}]}`
	out, err := s.CreateRole(ctx, &api.CreateRoleRequest{RoleName: new("Deployer"), Path: new("/ci/"),
		AssumeRolePolicyDocument: &trust, MaxSessionDuration: new(int32(7200))})
	if err != nil {
		t.Fatal(err)
	}
	want := overcast.Role{ARN: "arn:aws:iam::222222222222:role/ci/Deployer", RoleID: *out.Role.RoleId, Name: "Deployer",
		Path: "/ci/", AccountID: "222222222222", AssumeRolePolicyDocument: trust, MaxSessionDuration: 7200}
	// STS calls in with the assuming caller's context, another account's.
	got, err := s.RoleByARN(context.Background(), "arn:aws:iam::222222222222:role/ci/deployer")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, arn := range []string{
		"arn:aws:iam::222222222222:role/Deployer",    // wrong path
		"arn:aws:iam::000000000000:role/ci/Deployer", // wrong account
		"arn:aws:iam::222222222222:user/ci/Deployer", // not a role
		"arn:aws:iam::222222222222:role/ci/",         // no name
		"Deployer",                                   // not an ARN
	} {
		var nse *api.NoSuchEntityException
		if _, err := s.RoleByARN(context.Background(), arn); !errors.As(err, &nse) {
			t.Errorf("RoleByARN(%q): got %v, want NoSuchEntity", arn, err)
		}
	}
}

func TestCallerScoping(t *testing.T) {
	s, _, _ := newTestService(t)
	a := overcast.WithCaller(context.Background(), overcast.RootCaller("111111111111", "us-east-1"))
	b := overcast.WithCaller(context.Background(), overcast.RootCaller("222222222222", "us-east-1"))
	if _, err := s.CreateUser(a, &api.CreateUserRequest{UserName: new("same")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(b, &api.CreateUserRequest{UserName: new("same")}); err != nil {
		t.Fatalf("same name in another account: %v", err)
	}
	list, err := s.ListUsers(a, &api.ListUsersRequest{})
	if err != nil || len(list.Users) != 1 || *list.Users[0].Arn != "arn:aws:iam::111111111111:user/same" {
		t.Errorf("ListUsers in account a: got %+v, %v", list, err)
	}
	// The caller's own user, from its credentials.
	u, err := s.GetUser(asUser("111111111111", "same", "AIDAX"), &api.GetUserRequest{})
	if err != nil || *u.User.Arn != "arn:aws:iam::111111111111:user/same" {
		t.Errorf("GetUser as the user: got %+v, %v", u, err)
	}
}

// BenchmarkLookupAccessKey measures the gateway's per-request cost: a
// cached answer, an uncached one (a store read), and a key IAM did not
// issue (the default "test" key of local tools).
func BenchmarkLookupAccessKey(b *testing.B) {
	s, _, _ := newTestService(b)
	ctx := context.Background()
	_, k := newUserKey(b, s, "bench", "/")
	id := *k.AccessKeyId
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.LookupAccessKey(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.LookupAccessKey(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("store", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.keys.invalidate(id)
			if _, err := s.LookupAccessKey(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("not-iam", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.LookupAccessKey(ctx, "test"); !errors.Is(err, overcast.ErrUnknownAccessKey) {
				b.Fatal(err)
			}
		}
	})
}

// TestConcurrentAccessKeys: the two-key quota holds when requests race.
func TestConcurrentAccessKeys(t *testing.T) {
	s, _, _ := newTestService(t)
	ctx := context.Background()
	if _, err := s.CreateUser(ctx, &api.CreateUserRequest{UserName: new("racer")}); err != nil {
		t.Fatal(err)
	}
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := s.CreateAccessKey(ctx, &api.CreateAccessKeyRequest{UserName: new("racer")})
			errs <- err
		}()
	}
	created, limited := 0, 0
	for range n {
		var le *api.LimitExceededException
		switch err := <-errs; {
		case err == nil:
			created++
		case errors.As(err, &le):
			limited++
		default:
			t.Errorf("got %v, want success or LimitExceeded", err)
		}
	}
	if created != maxAccessKeysPerUser || limited != n-maxAccessKeysPerUser {
		t.Errorf("got %d created and %d refused, want %d and %d", created, limited, maxAccessKeysPerUser, n-maxAccessKeysPerUser)
	}
}
