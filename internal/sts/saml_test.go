package sts_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"overcast/internal/awstest"
	"overcast/internal/saml/samltest"
)

// samlFederation is an IAM SAML provider for a test IdP and a role its
// users in one group may assume.
type samlFederation struct {
	idp            *samltest.IdP
	provider, role string
	anon           *sts.Client
	srv            *awstest.Server
}

func newSAMLFederation(t *testing.T) *samlFederation {
	t.Helper()
	f := &samlFederation{idp: samltest.NewIdP(t, "https://idp.example.com/metadata"), srv: awstest.Start(t)}
	admin := iam.NewFromConfig(f.srv.ConfigWith("123456789012", "test", ""))
	p := awstest.Call(t, admin.CreateSAMLProvider, &iam.CreateSAMLProviderInput{Name: aws.String("corp"),
		SAMLMetadataDocument: aws.String(f.idp.Metadata())})
	f.provider = aws.ToString(p.SAMLProviderArn)
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":%q},
		"Action":"sts:AssumeRoleWithSAML","Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"},
		"StringLike":{"saml:sub":"dev-*"}}}]}`, f.provider)
	r := awstest.Call(t, admin.CreateRole, &iam.CreateRoleInput{RoleName: aws.String("developer"), AssumeRolePolicyDocument: aws.String(trust)})
	f.role = aws.ToString(r.Role.Arn)
	cfg := f.srv.Config()
	cfg.Credentials = aws.AnonymousCredentials{}
	f.anon = sts.NewFromConfig(cfg)
	return f
}

func (f *samlFederation) input(response string) *sts.AssumeRoleWithSAMLInput {
	return &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String(f.role), PrincipalArn: aws.String(f.provider), SAMLAssertion: aws.String(response)}
}

func (f *samlFederation) assertion(subject string) samltest.Assertion {
	return samltest.Assertion{Subject: subject, SessionName: subject, Roles: []string{f.role + "," + f.provider}}
}

func TestAssumeRoleWithSAML(t *testing.T) {
	ctx := context.Background()
	f := newSAMLFederation(t)
	out, err := f.anon.AssumeRoleWithSAML(ctx, f.input(f.idp.Response(t, f.assertion("dev-alice"))))
	if err != nil {
		t.Fatalf("AssumeRoleWithSAML: %v", err)
	}
	wantARN := "arn:aws:sts::123456789012:assumed-role/developer/dev-alice"
	got := []string{aws.ToString(out.AssumedRoleUser.Arn), aws.ToString(out.Subject), aws.ToString(out.SubjectType),
		aws.ToString(out.Issuer), aws.ToString(out.Audience)}
	want := []string{wantARN, "dev-alice", "persistent", f.idp.EntityID, "https://signin.aws.amazon.com/saml"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("response: got %q, want %q", got, want)
	}
	if aws.ToString(out.NameQualifier) == "" {
		t.Error("no NameQualifier")
	}
	c := out.Credentials
	if _, arn, _ := identity(t, f.srv.ConfigWith(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))); arn != wantARN {
		t.Errorf("GetCallerIdentity with the session: got %s, want %s", arn, wantARN)
	}
}

func TestAssumeRoleWithSAMLRefusals(t *testing.T) {
	f := newSAMLFederation(t)
	other := samltest.NewIdP(t, "https://idp.example.com/metadata")
	expired := f.assertion("dev-alice")
	expired.NotOnOrAfter = time.Now().Add(-time.Minute)
	tampered := f.assertion("dev-alice")
	tampered.Tamper = true
	otherRole := f.assertion("dev-alice")
	otherRole.Roles = []string{"arn:aws:iam::123456789012:role/admin," + f.provider}
	wrongAudience := f.assertion("dev-alice")
	wrongAudience.Audience = "https://app.example.com"
	noSession := f.assertion("dev-alice")
	noSession.SessionName = ""
	assume := func(a samltest.Assertion) func(context.Context) error {
		return awstest.Fails(f.anon.AssumeRoleWithSAML, f.input(f.idp.Response(t, a)))
	}
	denied := awstest.Forbidden("AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML")
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "subject the trust policy does not allow", Call: assume(f.assertion("ops-bob")), Want: denied},
		{Name: "role not in the Role attribute", Call: assume(otherRole), Want: denied},
		{Name: "expired", Call: assume(expired), Want: awstest.BadRequest("ExpiredTokenException", "")},
		{Name: "tampered after signing", Call: assume(tampered), Want: awstest.BadRequest("InvalidIdentityToken", "signature")},
		{Name: "signed by another key", Call: awstest.Fails(f.anon.AssumeRoleWithSAML, f.input(other.Response(t, f.assertion("dev-alice")))),
			Want: awstest.BadRequest("InvalidIdentityToken", "signature")},
		{Name: "another audience", Call: assume(wrongAudience), Want: awstest.BadRequest("InvalidIdentityToken", "Audience")},
		{Name: "no session name", Call: assume(noSession), Want: awstest.BadRequest("InvalidIdentityToken", "RoleSessionName")},
		{Name: "not a SAML response", Call: awstest.Fails(f.anon.AssumeRoleWithSAML, f.input("bm90IFNBTUw=")),
			Want: awstest.BadRequest("InvalidIdentityToken", "")},
		{Name: "no such provider", Call: awstest.Fails(f.anon.AssumeRoleWithSAML, &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String(f.role),
			PrincipalArn: aws.String("arn:aws:iam::123456789012:saml-provider/none"), SAMLAssertion: aws.String(f.idp.Response(t, f.assertion("dev-alice")))}),
			Want: awstest.BadRequest("InvalidIdentityToken", "provider")},
	})
}
