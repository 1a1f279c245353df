package sts_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"overcast/internal/awstest"
	"overcast/internal/oidc/oidctest"
)

// federation is an overcast trusting a test issuer, with an IAM OIDC
// provider for it and a role its tokens may assume from one repository.
type federation struct {
	srv      *awstest.Server
	iss      *oidctest.Issuer
	key      *oidctest.Key
	provider string // the provider's ARN
	name     string // its URL without https://, the prefix of its condition keys
	role     string // the role's ARN
	anon     *sts.Client
}

const ciAudience = "sts.amazonaws.com"

func newFederation(t *testing.T, opts ...awstest.Option) *federation {
	t.Helper()
	f := &federation{key: oidctest.MustKey(t, "key-1", "RS256")}
	f.iss = oidctest.NewIssuer(t, f.key)
	f.srv = awstest.Start(t, append(opts, awstest.IdPCAFile(f.iss.CAFile))...)
	admin := iam.NewFromConfig(f.srv.ConfigWith("123456789012", "test", ""))
	p := awstest.Call(t, admin.CreateOpenIDConnectProvider, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String(f.iss.URL), ClientIDList: []string{ciAudience}})
	f.provider = aws.ToString(p.OpenIDConnectProviderArn)
	f.name = strings.TrimPrefix(f.iss.URL, "https://")
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
		"Principal":{"Federated":%q},"Action":"sts:AssumeRoleWithWebIdentity",
		"Condition":{"StringEquals":{%q:%q},"StringLike":{%q:"repo:org/app:*"}}}]}`,
		f.provider, f.name+":aud", ciAudience, f.name+":sub")
	r := awstest.Call(t, admin.CreateRole, &iam.CreateRoleInput{RoleName: aws.String("deploy"),
		AssumeRolePolicyDocument: aws.String(trust)})
	f.role = aws.ToString(r.Role.Arn)
	cfg := f.srv.Config()
	cfg.Credentials = aws.AnonymousCredentials{}
	f.anon = sts.NewFromConfig(cfg)
	return f
}

// token is a token of the issuer for claims over these defaults: the
// main branch of org/app, for STS, valid for the next ten minutes.
func (f *federation) token(t *testing.T, k *oidctest.Key, claims map[string]any) string {
	t.Helper()
	now := time.Now()
	all := map[string]any{"iss": f.iss.URL, "sub": "repo:org/app:ref:refs/heads/main", "aud": ciAudience,
		"iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(10 * time.Minute).Unix()}
	for name, v := range claims {
		if v == nil {
			delete(all, name)
		} else {
			all[name] = v
		}
	}
	return k.MustSign(t, all)
}

func (f *federation) assume(token string) func(context.Context) error {
	return awstest.Fails(f.anon.AssumeRoleWithWebIdentity, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(f.role), RoleSessionName: aws.String("ci"), WebIdentityToken: aws.String(token)})
}

func TestAssumeRoleWithWebIdentity(t *testing.T) {
	t.Run("default", func(t *testing.T) { testAssumeRoleWithWebIdentity(t) })
	// --strict refuses unsigned requests, but not this one: it is unsigned
	// on AWS too.
	t.Run("strict", func(t *testing.T) { testAssumeRoleWithWebIdentity(t, awstest.Strict()) })
}

func testAssumeRoleWithWebIdentity(t *testing.T, opts ...awstest.Option) {
	ctx := context.Background()
	f := newFederation(t, opts...)
	out, err := f.anon.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(f.role), RoleSessionName: aws.String("run-42"), WebIdentityToken: aws.String(f.token(t, f.key, nil)),
		DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatalf("AssumeRoleWithWebIdentity: %v", err)
	}
	wantARN := "arn:aws:sts::123456789012:assumed-role/deploy/run-42"
	got := []string{aws.ToString(out.AssumedRoleUser.Arn), aws.ToString(out.SubjectFromWebIdentityToken),
		aws.ToString(out.Provider), aws.ToString(out.Audience)}
	want := []string{wantARN, "repo:org/app:ref:refs/heads/main", f.iss.URL, ciAudience}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("response: got %q, want %q", got, want)
	}
	if d := time.Until(aws.ToTime(out.Credentials.Expiration)); d > 15*time.Minute || d < 10*time.Minute {
		t.Errorf("credentials expire in %v, want 15 minutes", d)
	}
	c := out.Credentials
	_, arn, _ := identity(t, f.srv.ConfigWith(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)))
	if arn != wantARN {
		t.Errorf("GetCallerIdentity with the session: got %s, want %s", arn, wantARN)
	}
}

func TestAssumeRoleWithWebIdentityRefusals(t *testing.T) {
	f := newFederation(t)
	stranger := oidctest.MustKey(t, "key-1", "RS256") // the issuer's key ID, not its key
	now := time.Now()
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "another repository", Call: f.assume(f.token(t, f.key, map[string]any{"sub": "repo:org/other:ref:refs/heads/main"})),
			Want: awstest.Forbidden("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")},
		{Name: "another audience", Call: f.assume(f.token(t, f.key, map[string]any{"aud": "sigstore"})),
			Want: awstest.BadRequest("InvalidIdentityToken", "Incorrect token audience")},
		{Name: "expired", Call: f.assume(f.token(t, f.key, map[string]any{"exp": now.Add(-time.Minute).Unix()})),
			Want: awstest.BadRequest("ExpiredTokenException", "Token expired: current date/time")},
		{Name: "not yet valid", Call: f.assume(f.token(t, f.key, map[string]any{"nbf": now.Add(time.Hour).Unix()})),
			Want: awstest.BadRequest("InvalidIdentityToken", "not yet valid")},
		{Name: "no expiry", Call: f.assume(f.token(t, f.key, map[string]any{"exp": nil})),
			Want: awstest.BadRequest("InvalidIdentityToken", "exp")},
		{Name: "bad signature", Call: f.assume(f.token(t, stranger, nil)),
			Want: awstest.BadRequest("InvalidIdentityToken", "Invalid JWT signature")},
		{Name: "unknown key", Call: f.assume(f.token(t, f.key.WithID("key-9"), nil)),
			Want: awstest.BadRequest("InvalidIdentityToken", "Couldn't retrieve verification key from your identity provider")},
		{Name: "no provider for the issuer", Call: f.assume(f.token(t, f.key, map[string]any{"iss": "https://token.example.com"})),
			Want: awstest.BadRequest("InvalidIdentityToken", "No OpenIDConnect provider found in your account for https://token.example.com")},
		{Name: "not a JWT", Call: f.assume("an-opaque-access-token"),
			Want: awstest.BadRequest("InvalidIdentityToken", "not a valid JWT")},
		{Name: "no such role", Call: awstest.Fails(f.anon.AssumeRoleWithWebIdentity, &sts.AssumeRoleWithWebIdentityInput{
			RoleArn: aws.String("arn:aws:iam::123456789012:role/none"), RoleSessionName: aws.String("ci"),
			WebIdentityToken: aws.String(f.token(t, f.key, nil))}),
			Want: awstest.Forbidden("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")},
		{Name: "session policy", Call: awstest.Fails(f.anon.AssumeRoleWithWebIdentity, &sts.AssumeRoleWithWebIdentityInput{
			RoleArn: aws.String(f.role), RoleSessionName: aws.String("ci"), WebIdentityToken: aws.String(f.token(t, f.key, nil)),
			Policy: aws.String(`{"Statement":`)}),
			Want: awstest.BadRequest("MalformedPolicyDocument", "")},
	})
}

func TestAssumeRoleWithWebIdentityUnreachableIssuer(t *testing.T) {
	ctx := context.Background()
	f := newFederation(t)
	admin := iam.NewFromConfig(f.srv.ConfigWith("123456789012", "test", ""))
	// An issuer at a closed port: overcast cannot ask it for its keys.
	awstest.Call(t, admin.CreateOpenIDConnectProvider, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String("https://127.0.0.1:1"), ClientIDList: []string{ciAudience}})
	_, err := f.anon.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(f.role), RoleSessionName: aws.String("ci"),
		WebIdentityToken: aws.String(f.token(t, f.key, map[string]any{"iss": "https://127.0.0.1:1"}))})
	awstest.WantAPIError(t, err, awstest.BadRequest("IDPCommunicationError", "Couldn't retrieve verification key"))
}

// TestWebIdentityKeysConfiguredByTag verifies tokens of an issuer overcast
// cannot reach, with the keys its provider's overcast:jwks-uri tag names.
func TestWebIdentityKeysConfiguredByTag(t *testing.T) {
	ctx := context.Background()
	f := newFederation(t)
	offline := oidctest.MustKey(t, "offline-1", "ES256")
	jwks := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(jwks, oidctest.JWKS(offline), 0o600); err != nil {
		t.Fatal(err)
	}
	admin := iam.NewFromConfig(f.srv.ConfigWith("123456789012", "test", ""))
	const issuer = "https://ci.internal.example/tenant"
	p := awstest.Call(t, admin.CreateOpenIDConnectProvider, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String(issuer), ClientIDList: []string{"overcast"}})
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":%q},
		"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"ci.internal.example/tenant:sub":"job-7"}}}]}`,
		aws.ToString(p.OpenIDConnectProviderArn))
	r := awstest.Call(t, admin.CreateRole, &iam.CreateRoleInput{RoleName: aws.String("offline"), AssumeRolePolicyDocument: aws.String(trust)})
	token := f.token(t, offline, map[string]any{"iss": issuer, "sub": "job-7", "aud": "overcast"})
	in := &sts.AssumeRoleWithWebIdentityInput{RoleArn: r.Role.Arn, RoleSessionName: aws.String("job-7"), WebIdentityToken: aws.String(token)}

	_, err := f.anon.AssumeRoleWithWebIdentity(ctx, in)
	awstest.WantAPIError(t, err, awstest.BadRequest("IDPCommunicationError", ""))
	awstest.Call(t, admin.TagOpenIDConnectProvider, &iam.TagOpenIDConnectProviderInput{
		OpenIDConnectProviderArn: p.OpenIDConnectProviderArn, Tags: []iamtypes.Tag{{Key: aws.String("overcast:jwks-uri"), Value: aws.String("file://" + jwks)}}})
	if _, err := f.anon.AssumeRoleWithWebIdentity(ctx, in); err != nil {
		t.Errorf("with the keys configured: %v", err)
	}
}

// TestWebIdentityCredentialProvider runs the SDK's own web identity
// credentials provider, as a CI job's SDK does with
// AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN.
func TestWebIdentityCredentialProvider(t *testing.T) {
	ctx := context.Background()
	f := newFederation(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(f.token(t, f.key, nil)), 0o600); err != nil {
		t.Fatal(err)
	}
	provider := stscreds.NewWebIdentityRoleProvider(f.anon, f.role, stscreds.IdentityTokenFile(tokenFile),
		func(o *stscreds.WebIdentityRoleOptions) { o.RoleSessionName = "sdk" })
	cfg := f.srv.Config()
	cfg.Credentials = aws.NewCredentialsCache(provider)
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(out.Arn), "arn:aws:sts::123456789012:assumed-role/deploy/sdk"; got != want {
		t.Errorf("GetCallerIdentity: got %s, want %s", got, want)
	}
}

// TestWebIdentityAuthorizedParty takes the audience from azp when the
// provider lists it, as AWS does for tokens whose aud names another party.
func TestWebIdentityAuthorizedParty(t *testing.T) {
	f := newFederation(t)
	token := f.token(t, f.key, map[string]any{"aud": []string{"https://api.example.com"}, "azp": ciAudience})
	out, err := f.anon.AssumeRoleWithWebIdentity(context.Background(), &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(f.role), RoleSessionName: aws.String("azp"), WebIdentityToken: aws.String(token)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.Audience); got != ciAudience {
		t.Errorf("Audience: got %s, want %s", got, ciAudience)
	}
}

// TestWebIdentitySessionPolicy: a session policy passed with a web
// identity token cuts the session down, as with AssumeRole: under
// --enforce-iam the role may list roles and users, the session only roles.
func TestWebIdentitySessionPolicy(t *testing.T) {
	ctx := context.Background()
	f := newFederation(t, awstest.EnforceIAM())
	admin := iam.NewFromConfig(f.srv.ConfigWith("123456789012", "test", ""))
	awstest.Call(t, admin.PutRolePolicy, &iam.PutRolePolicyInput{RoleName: aws.String("deploy"), PolicyName: aws.String("list"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListRoles","iam:ListUsers"],"Resource":"*"}]}`)})
	out := awstest.Call(t, f.anon.AssumeRoleWithWebIdentity, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(f.role), RoleSessionName: aws.String("ci"), WebIdentityToken: aws.String(f.token(t, f.key, nil)),
		Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*"}]}`)})
	c := out.Credentials
	session := iam.NewFromConfig(f.srv.ConfigWith(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)))
	if _, err := session.ListRoles(ctx, &iam.ListRolesInput{}); err != nil {
		t.Errorf("ListRoles, which the session policy allows: %v", err)
	}
	_, err := session.ListUsers(ctx, &iam.ListUsersInput{})
	// Message is matched as a substring: the session and the reason.
	awstest.WantAPIError(t, err, awstest.APIError{Code: "AccessDenied", Status: 403,
		Message: "assumed-role/deploy/ci is not authorized to perform: iam:ListUsers"})
	awstest.WantAPIError(t, err, awstest.APIError{Message: "because no session policy allows the iam:ListUsers action"})
}
