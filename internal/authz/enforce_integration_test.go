package authz_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
)

const account = "000000000000"

// newUser creates an IAM user with an inline policy (if any) and returns
// an SDK config signing as it.
func newUser(t *testing.T, srv *awstest.Server, name, inline string) aws.Config {
	t.Helper()
	c := iam.NewFromConfig(srv.Config())
	awstest.Call(t, c.CreateUser, &iam.CreateUserInput{UserName: &name})
	if inline != "" {
		awstest.Call(t, c.PutUserPolicy, &iam.PutUserPolicyInput{UserName: &name, PolicyName: aws.String("inline"), PolicyDocument: &inline})
	}
	k := awstest.Call(t, c.CreateAccessKey, &iam.CreateAccessKeyInput{UserName: &name}).AccessKey
	return srv.ConfigWith(*k.AccessKeyId, *k.SecretAccessKey, "")
}

// bucketWith creates a bucket as the root, with objects at keys.
func bucketWith(t *testing.T, srv *awstest.Server, bucket string, keys ...string) {
	t.Helper()
	c := s3.NewFromConfig(srv.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	awstest.Call(t, c.CreateBucket, &s3.CreateBucketInput{Bucket: &bucket})
	for _, k := range keys {
		awstest.Call(t, c.PutObject, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(k), Body: strings.NewReader("data")})
	}
}

func s3As(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

func get(c *s3.Client, bucket, key string) func(context.Context) error {
	return func(ctx context.Context) error {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
		if err == nil {
			out.Body.Close()
		}
		return err
	}
}

func TestEnforceIdentityPolicy(t *testing.T) {
	srv := awstest.Start(t, awstest.EnforceIAM())
	bucketWith(t, srv, "data", "reports/q1.csv", "private/salary.csv")
	dev := s3As(newUser(t, srv, "dev", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/reports/*"}]}`))
	ctx := context.Background()
	if err := get(dev, "data", "reports/q1.csv")(ctx); err != nil {
		t.Fatalf("GetObject on the allowed prefix: %v", err)
	}
	userARN := "arn:aws:iam::" + account + ":user/dev"
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "GetObject elsewhere", Call: get(dev, "data", "private/salary.csv"), Want: awstest.APIError{Code: "AccessDenied", Status: 403,
			Message: `User: ` + userARN + ` is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::data/private/salary.csv" because no identity-based policy allows the s3:GetObject action`}},
		{Name: "ListObjectsV2 needs s3:ListBucket", Call: awstest.Fails(dev.ListObjectsV2, &s3.ListObjectsV2Input{Bucket: aws.String("data")}),
			Want: awstest.APIError{Code: "AccessDenied", Status: 403, Message: `perform: s3:ListBucket on resource: "arn:aws:s3:::data" because no identity-based policy allows the s3:ListBucket action`}},
		{Name: "HeadObject needs s3:GetObject", Call: awstest.Fails(dev.HeadObject, &s3.HeadObjectInput{Bucket: aws.String("data"), Key: aws.String("private/salary.csv")}),
			Want: awstest.APIError{Status: 403}},
		{Name: "IAM", Call: awstest.Fails(iam.NewFromConfig(newUser(t, srv, "nobody", "")).ListUsers, &iam.ListUsersInput{}),
			Want: awstest.APIError{Code: "AccessDenied", Status: 403, Message: "User: arn:aws:iam::" + account + ":user/nobody is not authorized to perform: iam:ListUsers on resource: * because no identity-based policy allows the iam:ListUsers action"}},
	})
	// Anyone may ask who they are.
	who := awstest.Call(t, sts.NewFromConfig(newUser(t, srv, "who", "")).GetCallerIdentity, &sts.GetCallerIdentityInput{})
	if got, want := aws.ToString(who.Arn), "arn:aws:iam::"+account+":user/who"; got != want {
		t.Errorf("GetCallerIdentity: got %s, want %s", got, want)
	}
}

func TestEnforceExplicitDenyAndBoundary(t *testing.T) {
	srv := awstest.Start(t, awstest.EnforceIAM())
	bucketWith(t, srv, "data", "a.txt", "secret/b.txt")
	c := iam.NewFromConfig(srv.Config())
	ctx := context.Background()
	denier := s3As(newUser(t, srv, "denier", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"s3:*","Resource":"*"},
		{"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/secret/*"}]}`))
	if err := get(denier, "data", "a.txt")(ctx); err != nil {
		t.Fatalf("GetObject allowed by s3:*: %v", err)
	}
	boundary := awstest.Call(t, c.CreatePolicy, &iam.CreatePolicyInput{PolicyName: aws.String("only-list"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`)}).Policy
	bounded := s3As(newUser(t, srv, "bounded", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`))
	awstest.Call(t, c.PutUserPermissionsBoundary, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("bounded"), PermissionsBoundary: boundary.Arn})
	awstest.Call(t, bounded.ListObjectsV2, &s3.ListObjectsV2Input{Bucket: aws.String("data")})
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "explicit deny", Call: get(denier, "data", "secret/b.txt"), Want: awstest.APIError{Code: "AccessDenied", Status: 403,
			Message: `on resource: "arn:aws:s3:::data/secret/b.txt" with an explicit deny in an identity-based policy`}},
		{Name: "boundary caps", Call: get(bounded, "data", "a.txt"), Want: awstest.APIError{Code: "AccessDenied", Status: 403,
			Message: `because no permissions boundary allows the s3:GetObject action`}},
	})
	// Removing the boundary takes effect at once: IAM's writes empty the cache.
	awstest.Call(t, c.DeleteUserPermissionsBoundary, &iam.DeleteUserPermissionsBoundaryInput{UserName: aws.String("bounded")})
	if err := get(bounded, "data", "a.txt")(ctx); err != nil {
		t.Errorf("GetObject once the boundary is gone: %v", err)
	}
}

func TestEnforceSourceIP(t *testing.T) {
	srv := awstest.Start(t, awstest.EnforceIAM())
	bucketWith(t, srv, "data", "a.txt")
	ctx := context.Background()
	local := s3As(newUser(t, srv, "local", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*",
		"Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}}]}`))
	remote := s3As(newUser(t, srv, "remote", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*",
		"Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}]}`))
	if err := get(local, "data", "a.txt")(ctx); err != nil {
		t.Errorf("GetObject from loopback allowed for 127.0.0.0/8: %v", err)
	}
	awstest.WantAPIError(t, get(remote, "data", "a.txt")(ctx), awstest.APIError{Code: "AccessDenied", Status: 403})
}

func TestEnforceSessionPolicy(t *testing.T) {
	srv := awstest.Start(t, awstest.EnforceIAM())
	bucketWith(t, srv, "data", "a.txt", "b.txt")
	c := iam.NewFromConfig(srv.Config())
	ctx := context.Background()
	role := awstest.Call(t, c.CreateRole, &iam.CreateRoleInput{RoleName: aws.String("reader"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + account + `:root"},"Action":"sts:AssumeRole"}]}`)}).Role
	awstest.Call(t, c.PutRolePolicy, &iam.PutRolePolicyInput{RoleName: aws.String("reader"), PolicyName: aws.String("read"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)})
	creds := awstest.Call(t, sts.NewFromConfig(srv.Config()).AssumeRole, &sts.AssumeRoleInput{RoleArn: role.Arn, RoleSessionName: aws.String("ss"),
		Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/a.txt"}]}`)}).Credentials
	session := s3As(srv.ConfigWith(*creds.AccessKeyId, *creds.SecretAccessKey, *creds.SessionToken))
	if err := get(session, "data", "a.txt")(ctx); err != nil {
		t.Errorf("GetObject the session policy allows: %v", err)
	}
	awstest.WantAPIError(t, get(session, "data", "b.txt")(ctx), awstest.APIError{Code: "AccessDenied", Status: 403,
		Message: "User: arn:aws:sts::" + account + `:assumed-role/reader/ss is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::data/b.txt" because no session policy allows the s3:GetObject action`})
}

// assumeRole creates a role the account trusts, with an inline policy,
// and returns a config signing as a session of it.
func assumeRole(t *testing.T, srv *awstest.Server, name, inline string) aws.Config {
	t.Helper()
	c := iam.NewFromConfig(srv.Config())
	role := awstest.Call(t, c.CreateRole, &iam.CreateRoleInput{RoleName: &name,
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + account + `:root"},"Action":"sts:AssumeRole"}]}`)}).Role
	awstest.Call(t, c.PutRolePolicy, &iam.PutRolePolicyInput{RoleName: &name, PolicyName: aws.String("inline"), PolicyDocument: &inline})
	creds := awstest.Call(t, sts.NewFromConfig(srv.Config()).AssumeRole, &sts.AssumeRoleInput{RoleArn: role.Arn, RoleSessionName: aws.String("session")}).Credentials
	return srv.ConfigWith(*creds.AccessKeyId, *creds.SecretAccessKey, *creds.SessionToken)
}

// TestEnforceRegistryPull: docker's pulls through the registry are
// authorized as the principal whose GetAuthorizationToken made the token.
func TestEnforceRegistryPull(t *testing.T) {
	srv := awstest.Start(t, awstest.EnforceIAM())
	awstest.Call(t, ecr.NewFromConfig(srv.Config()).CreateRepository, &ecr.CreateRepositoryInput{RepositoryName: aws.String("app")})
	pull := func(cfg aws.Config) (int, string) {
		t.Helper()
		auth := awstest.Call(t, ecr.NewFromConfig(cfg).GetAuthorizationToken, &ecr.GetAuthorizationTokenInput{}).AuthorizationData[0]
		token, err := base64.StdEncoding.DecodeString(*auth.AuthorizationToken)
		if err != nil {
			t.Fatal(err)
		}
		user, password, _ := strings.Cut(string(token), ":")
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v2/app/manifests/latest", nil)
		req.SetBasicAuth(user, password)
		req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	tokenOnly := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}]}`
	reader := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"*"}]}`
	status, body := pull(assumeRole(t, srv, "no-pull", tokenOnly))
	wantMsg := "User: arn:aws:sts::" + account + ":assumed-role/no-pull/session is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:us-east-1:" + account + ":repository/app because no identity-based policy allows the ecr:BatchGetImage action"
	if status != http.StatusForbidden || !strings.Contains(body, wantMsg) {
		t.Errorf("pull by a role without ecr:BatchGetImage: got %d %s, want 403 with %q", status, body, wantMsg)
	}
	// A role that may pull gets as far as the missing manifest.
	if status, body := pull(assumeRole(t, srv, "puller", reader)); status != http.StatusNotFound {
		t.Errorf("pull by a role with ecr:BatchGetImage: got %d %s, want 404 (no such manifest)", status, body)
	}
}

func TestSimulatePolicies(t *testing.T) {
	srv := awstest.Start(t)
	c := iam.NewFromConfig(srv.Config())
	doc := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"arn:aws:s3:::data/reports/*\"},\n    {\"Effect\": \"Deny\", \"Action\": \"s3:*\", \"Resource\": \"*\", \"Condition\": {\"IpAddress\": {\"aws:SourceIp\": \"203.0.113.0/24\"}}}\n  ]\n}"
	newUser(t, srv, "dev", doc)
	principal := awstest.Call(t, c.SimulatePrincipalPolicy, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String("arn:aws:iam::" + account + ":user/dev"),
		ActionNames:     []string{"s3:GetObject"},
		ResourceArns:    []string{"arn:aws:s3:::data/reports/q1.csv", "arn:aws:s3:::data/private/x"},
		ContextEntries:  []iamtypes.ContextEntry{{ContextKeyName: aws.String("aws:SourceIp"), ContextKeyType: iamtypes.ContextKeyTypeEnumIp, ContextKeyValues: []string{"10.0.0.1"}}},
	})
	type result struct {
		Resource, Decision string
		Matched            []string
	}
	summarize := func(rs []iamtypes.EvaluationResult) []result {
		var out []result
		for _, r := range rs {
			res := result{Resource: aws.ToString(r.EvalResourceName), Decision: string(r.EvalDecision)}
			for _, m := range r.MatchedStatements {
				res.Matched = append(res.Matched, fmt.Sprintf("%s/%s %d:%d-%d:%d", aws.ToString(m.SourcePolicyId), m.SourcePolicyType,
					m.StartPosition.Line, m.StartPosition.Column, m.EndPosition.Line, m.EndPosition.Column))
			}
			out = append(out, res)
		}
		return out
	}
	want := []result{
		{Resource: "arn:aws:s3:::data/reports/q1.csv", Decision: "allowed", Matched: []string{"inline/user 4:5-4:92"}},
		{Resource: "arn:aws:s3:::data/private/x", Decision: "implicitDeny"},
	}
	if diff := cmp.Diff(want, summarize(principal.EvaluationResults)); diff != "" {
		t.Errorf("SimulatePrincipalPolicy (-want +got):\n%s", diff)
	}
	custom := awstest.Call(t, c.SimulateCustomPolicy, &iam.SimulateCustomPolicyInput{
		PolicyInputList:                    []string{doc},
		PermissionsBoundaryPolicyInputList: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`},
		ActionNames:                        []string{"s3:GetObject"},
		ResourceArns:                       []string{"arn:aws:s3:::data/reports/q1.csv"},
		ContextEntries:                     []iamtypes.ContextEntry{{ContextKeyName: aws.String("aws:SourceIp"), ContextKeyType: iamtypes.ContextKeyTypeEnumIp, ContextKeyValues: []string{"203.0.113.9"}}},
	})
	want = []result{{Resource: "arn:aws:s3:::data/reports/q1.csv", Decision: "explicitDeny", Matched: []string{"PolicyInputList.1/none 5:5-5:121"}}}
	if diff := cmp.Diff(want, summarize(custom.EvaluationResults)); diff != "" {
		t.Errorf("SimulateCustomPolicy (-want +got):\n%s", diff)
	}
	bounded := awstest.Call(t, c.SimulateCustomPolicy, &iam.SimulateCustomPolicyInput{
		PolicyInputList:                    []string{doc},
		PermissionsBoundaryPolicyInputList: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`},
		ActionNames:                        []string{"s3:GetObject"},
		ResourceArns:                       []string{"arn:aws:s3:::data/reports/q1.csv"},
	}).EvaluationResults[0]
	if bounded.EvalDecision != iamtypes.PolicyEvaluationDecisionTypeImplicitDeny || bounded.PermissionsBoundaryDecisionDetail == nil ||
		bounded.PermissionsBoundaryDecisionDetail.AllowedByPermissionsBoundary {
		t.Errorf("SimulateCustomPolicy with a boundary that does not allow: got %s, %+v; want implicitDeny, not allowed by the boundary",
			bounded.EvalDecision, bounded.PermissionsBoundaryDecisionDetail)
	}
}

// TestEnforceFederatedUser: a federated user may do what both the IAM
// user that called GetFederationToken and the session policy allow, and
// nothing when no session policy was given; the account root's federated
// users are bound by their session policy alone.
func TestEnforceFederatedUser(t *testing.T) {
	srv := awstest.Start(t, awstest.EnforceIAM())
	bucketWith(t, srv, "data", "a.txt", "b.txt")
	ctx := context.Background()
	issuer := newUser(t, srv, "issuer", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"sts:GetFederationToken","Resource":"*"},
		{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/a.txt"}]}`)
	everything := aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)
	federate := func(cfg aws.Config, name string, policy *string) *s3.Client {
		creds := awstest.Call(t, sts.NewFromConfig(cfg).GetFederationToken, &sts.GetFederationTokenInput{Name: aws.String(name), Policy: policy}).Credentials
		return s3As(srv.ConfigWith(*creds.AccessKeyId, *creds.SecretAccessKey, *creds.SessionToken))
	}
	bob := federate(issuer, "bob", everything)
	if err := get(bob, "data", "a.txt")(ctx); err != nil {
		t.Errorf("GetObject both allow: %v", err)
	}
	awstest.WantAPIError(t, get(bob, "data", "b.txt")(ctx), awstest.APIError{Code: "AccessDenied", Status: 403,
		Message: "User: arn:aws:sts::" + account + `:federated-user/bob is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::data/b.txt" because no identity-based policy allows the s3:GetObject action`})
	carol := federate(issuer, "carol", nil)
	awstest.WantAPIError(t, get(carol, "data", "a.txt")(ctx), awstest.APIError{Code: "AccessDenied", Status: 403})
	dave := federate(srv.Config(), "dave", everything)
	if err := get(dave, "data", "b.txt")(ctx); err != nil {
		t.Errorf("GetObject by the root's federated user under an allowing session policy: %v", err)
	}
}
