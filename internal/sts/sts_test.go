package sts_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/clock"
)

const trustAccount = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"sts:AssumeRole"}]}`

func identity(t *testing.T, cfg aws.Config) (account, arn, userID string) {
	t.Helper()
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	return aws.ToString(out.Account), aws.ToString(out.Arn), aws.ToString(out.UserId)
}

func TestGetCallerIdentityAccounts(t *testing.T) {
	srv := awstest.Start(t)
	tests := []struct {
		key, wantAccount string
	}{
		{"test", "000000000000"},
		{"AKIAIOSFODNN7EXAMPLE", "000000000000"},
		{"123456789012", "123456789012"},
	}
	for _, tt := range tests {
		account, arn, userID := identity(t, srv.ConfigWith(tt.key, "secret", ""))
		if account != tt.wantAccount || arn != "arn:aws:iam::"+tt.wantAccount+":root" || userID != tt.wantAccount {
			t.Errorf("key %s: got %s %s %s, want the root of %s", tt.key, account, arn, userID, tt.wantAccount)
		}
	}
}

// TestUserKeyAndAssumedRole walks the path a CI job takes: an IAM user's
// key, then a role assumed with it, each seeing its own identity.
func TestUserKeyAndAssumedRole(t *testing.T) {
	ctx := context.Background()
	srv := awstest.Start(t)
	admin := iam.NewFromConfig(srv.ConfigWith("123456789012", "x", ""))
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ci")}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("ci")})
	if err != nil {
		t.Fatal(err)
	}
	userCfg := srv.ConfigWith(*key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey, "")
	account, arn, _ := identity(t, userCfg)
	if diff := cmp.Diff([]string{"123456789012", "arn:aws:iam::123456789012:user/ci"}, []string{account, arn}); diff != "" {
		t.Errorf("user identity (-want +got):\n%s", diff)
	}

	// The gateway records the key's use for IAM's GetAccessKeyLastUsed.
	used, err := admin.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: key.AccessKey.AccessKeyId})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(used.AccessKeyLastUsed.ServiceName); got != "sts" || used.AccessKeyLastUsed.LastUsedDate == nil {
		t.Errorf("last used: service %q at %v, want sts with a date", got, used.AccessKeyLastUsed.LastUsedDate)
	}

	// A wrong secret for a known key is refused.
	_, err = sts.NewFromConfig(srv.ConfigWith(*key.AccessKey.AccessKeyId, "wrong", "")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "SignatureDoesNotMatch", Status: http.StatusForbidden})

	role, err := admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deployer"),
		AssumeRolePolicyDocument: aws.String(strings.ReplaceAll(trustAccount, "000000000000", "123456789012"))})
	if err != nil {
		t.Fatal(err)
	}
	assumed, err := sts.NewFromConfig(userCfg).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: role.Role.Arn, RoleSessionName: aws.String("build-42"), DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(assumed.AssumedRoleUser.Arn), "arn:aws:sts::123456789012:assumed-role/deployer/build-42"; got != want {
		t.Errorf("assumed role ARN = %s, want %s", got, want)
	}
	c := assumed.Credentials
	if !strings.HasPrefix(*c.AccessKeyId, "ASIA") || time.Until(*c.Expiration) > 901*time.Second {
		t.Errorf("credentials %s expiring %v, want ASIA... within 900 s", *c.AccessKeyId, c.Expiration)
	}
	roleCfg := srv.ConfigWith(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
	account, arn, userID := identity(t, roleCfg)
	if account != "123456789012" || arn != *assumed.AssumedRoleUser.Arn || userID != *assumed.AssumedRoleUser.AssumedRoleId {
		t.Errorf("role identity = %s %s %s", account, arn, userID)
	}

	// Temporary credentials without their token are refused.
	_, err = sts.NewFromConfig(srv.ConfigWith(*c.AccessKeyId, *c.SecretAccessKey, "")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidClientTokenId", Status: http.StatusForbidden})

	// They survive a restart: nothing acknowledged is lost.
	srv.Restart(t)
	if _, arn2, _ := identity(t, srv.ConfigWith(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)); arn2 != arn {
		t.Errorf("after restart the session is %s, want %s", arn2, arn)
	}
}

func TestAssumeRoleErrors(t *testing.T) {
	ctx := context.Background()
	srv := awstest.Start(t)
	client := sts.NewFromConfig(srv.Config())
	// An unknown role, a bad session name, a session too short.
	_, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/none"), RoleSessionName: aws.String("s1")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "AccessDenied", Status: 403})
	_, err = client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/none"), RoleSessionName: aws.String("bad name!")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ValidationError", Status: 400})
	_, err = client.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(60)})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ValidationError"})

	// The model's constraints, as the codec words them.
	long := strings.Repeat("s", 65)
	_, err = client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/none"), RoleSessionName: &long})
	wantMessage(t, err, "1 validation error detected: Value '"+long+"' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64")
	_, err = client.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(60)})
	wantMessage(t, err, "1 validation error detected: Value '60' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900")
	_, err = client.GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("a b")})
	wantMessage(t, err, `1 validation error detected: Value 'a b' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*`)
}

// wantMessage fails unless err is a ValidationError with the message.
func wantMessage(t *testing.T, err error, want string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" {
		t.Fatalf("got %v, want ValidationError", err)
	}
	if diff := cmp.Diff(want, ae.ErrorMessage()); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
}

// TestRootSessionsLastAnHour: a root user's session is cut to an hour
// rather than refused, as GetSessionToken's API reference says.
func TestRootSessionsLastAnHour(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	srv := awstest.Start(t, awstest.Clock(clock.NewFake(now)))
	out, err := sts.NewFromConfig(srv.Config()).GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(7200)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := out.Credentials.Expiration.UTC(), now.Add(time.Hour); !got.Equal(want) {
		t.Errorf("Expiration: got %v, want %v", got, want)
	}
}

func TestStrictTrustPolicy(t *testing.T) {
	ctx := context.Background()
	srv := awstest.Start(t)
	admin := iam.NewFromConfig(srv.Config())
	role, err := admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("svc"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	// Outside --strict a trust mismatch is logged, not enforced.
	if _, err := sts.NewFromConfig(srv.Config()).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("me")}); err != nil {
		t.Errorf("non-strict AssumeRole: %v", err)
	}
	// Under --strict it is enforced: only the ECS tasks service may assume it.
	strict := awstest.Start(t, awstest.Strict())
	root := strict.ConfigWith("test", "test", "")
	// IAM returns policy documents URL-encoded, as AWS does.
	doc, err := url.QueryUnescape(aws.ToString(role.Role.AssumeRolePolicyDocument))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iam.NewFromConfig(root).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("svc"),
		AssumeRolePolicyDocument: &doc}); err != nil {
		t.Fatal(err)
	}
	_, err = sts.NewFromConfig(root).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("me")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "AccessDenied", Status: 403})
	// A trust policy naming the account lets its principals in.
	if _, err := iam.NewFromConfig(root).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("acct"),
		AssumeRolePolicyDocument: aws.String(trustAccount)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sts.NewFromConfig(root).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::000000000000:role/acct"), RoleSessionName: aws.String("me")}); err != nil {
		t.Errorf("strict AssumeRole with an account trust: %v", err)
	}
}

func TestGetSessionTokenActsAsCaller(t *testing.T) {
	ctx := context.Background()
	srv := awstest.Start(t)
	out, err := sts.NewFromConfig(srv.ConfigWith("210987654321", "x", "")).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	cfg := srv.ConfigWith(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
	if account, arn, _ := identity(t, cfg); account != "210987654321" || arn != "arn:aws:iam::210987654321:root" {
		t.Errorf("session identity = %s %s", account, arn)
	}
	// A session cannot make another session.
	_, err = sts.NewFromConfig(cfg).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "AccessDenied"})
	info, err := sts.NewFromConfig(srv.Config()).GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: c.AccessKeyId})
	if err != nil || aws.ToString(info.Account) != "210987654321" {
		t.Errorf("GetAccessKeyInfo = %v, %v; want 210987654321", aws.ToString(info.Account), err)
	}
}

func TestExpiredSession(t *testing.T) {
	ctx := context.Background()
	fake := clock.NewFake(time.Now())
	srv := awstest.Start(t, awstest.Clock(fake))
	out, err := sts.NewFromConfig(srv.Config()).GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	fake.Advance(901 * time.Second)
	cfg := srv.ConfigWith(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
	// The SDK signs with the real clock; the server's clock has moved on
	// 15 minutes, inside the skew window, past the session's expiry.
	_, err = sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ExpiredToken", Status: 403})
}

func TestStrictMode(t *testing.T) {
	ctx := context.Background()
	srv := awstest.Start(t, awstest.Strict())
	tests := []struct {
		name, key, secret string
		wantCode          string
		wantStatus        int
	}{
		{"root key", "test", "test", "", 200},
		{"account root key", "123456789012", "test", "", 200},
		{"unknown key", "AKIAUNKNOWNKEY000000", "x", "InvalidClientTokenId", 403},
		{"root key, wrong secret", "test", "nope", "SignatureDoesNotMatch", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sts.NewFromConfig(srv.ConfigWith(tt.key, tt.secret, "")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				return
			}
			awstest.WantAPIError(t, err, awstest.APIError{Code: tt.wantCode, Status: tt.wantStatus})
		})
	}
	resp, err := http.Post(srv.URL, "application/x-www-form-urlencoded", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("unsigned request under --strict: status %d, want 403", resp.StatusCode)
	}
}
