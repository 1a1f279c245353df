package sts_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"

	"overcast/internal/awstest"
	"overcast/internal/clock"
)

// TestErrorsTable holds STS's most common failures to the codes, statuses
// and messages AWS answers them with. Unless a row says otherwise, the
// expectation is from the operation's Errors section in the STS API
// Reference, and a "1 validation error detected" message is Coral's
// wording of the model's constraint (as AWS's STS answers it).
func TestErrorsTable(t *testing.T) {
	fake := clock.NewFake(time.Now())
	srv := awstest.Start(t, awstest.Strict(), awstest.Clock(fake))
	root := srv.Config()
	admin := iam.NewFromConfig(root)
	awstest.Call(t, admin.CreateUser, &iam.CreateUserInput{UserName: aws.String("dev")})
	// --strict enforces IAM: dev needs an identity policy to assume roles
	// that trust its account.
	awstest.Call(t, admin.PutUserPolicy, &iam.PutUserPolicyInput{UserName: aws.String("dev"), PolicyName: aws.String("sts"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:*","Resource":"*"}]}`)})
	key := awstest.Call(t, admin.CreateAccessKey, &iam.CreateAccessKeyInput{UserName: aws.String("dev")}).AccessKey
	user := sts.NewFromConfig(srv.ConfigWith(*key.AccessKeyId, *key.SecretAccessKey, ""))
	awstest.Call(t, admin.CreateRole, &iam.CreateRoleInput{RoleName: aws.String("deployer"), AssumeRolePolicyDocument: aws.String(trustAccount)})
	awstest.Call(t, admin.CreateRole, &iam.CreateRoleInput{RoleName: aws.String("long"), AssumeRolePolicyDocument: aws.String(trustAccount),
		MaxSessionDuration: aws.Int32(43200)})
	awstest.Call(t, admin.PutRolePolicy, &iam.PutRolePolicyInput{RoleName: aws.String("long"), PolicyName: aws.String("sts"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:*","Resource":"*"}]}`)})
	awstest.Call(t, admin.CreateRole, &iam.CreateRoleInput{RoleName: aws.String("svc"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	assumed := awstest.Call(t, user.AssumeRole, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/long"),
		RoleSessionName: aws.String("s1")}).Credentials
	session := sts.NewFromConfig(srv.ConfigWith(*assumed.AccessKeyId, *assumed.SecretAccessKey, *assumed.SessionToken))
	short := awstest.Call(t, user.GetSessionToken, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(900)}).Credentials

	const (
		userARN = "arn:aws:iam::000000000000:user/dev"
		roleARN = "arn:aws:iam::000000000000:role/deployer"
	)
	assume := func(c *sts.Client, in sts.AssumeRoleInput) func(context.Context) error {
		if in.RoleArn == nil {
			in.RoleArn = aws.String(roleARN)
		}
		if in.RoleSessionName == nil {
			in.RoleSessionName = aws.String("build-1")
		}
		return awstest.Fails(c.AssumeRole, &in)
	}
	tooManyTags := make([]types.Tag, 51)
	for i := range tooManyTags {
		tooManyTags[i] = types.Tag{Key: aws.String("k" + strings.Repeat("x", i)), Value: aws.String("v")}
	}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		// AWS answers a role that does not exist as it answers one whose
		// trust policy leaves the caller out: AccessDenied, naming both
		// (AssumeRole's Errors section and the IAM User Guide's
		// "Troubleshooting IAM roles").
		{Name: "AssumeRole: no such role", Call: assume(user, sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/none")}),
			Want: awstest.Forbidden("AccessDenied",
				"User: "+userARN+" is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::000000000000:role/none")},
		{Name: "AssumeRole: trust policy leaves the caller out", Call: assume(user, sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/svc")}),
			Want: awstest.Forbidden("AccessDenied",
				"User: "+userARN+" is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::000000000000:role/svc")},
		// "Using IAM roles": the role's maximum session duration bounds
		// DurationSeconds, in this well-known wording.
		{Name: "AssumeRole: longer than the role allows", Call: assume(user, sts.AssumeRoleInput{DurationSeconds: aws.Int32(7200)}),
			Want: awstest.BadRequest("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")},
		// "Role chaining" (IAM User Guide, Roles terms and concepts) limits
		// a session assumed by a role session to one hour.
		{Name: "AssumeRole: role chaining past an hour", Call: assume(session, sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/long"),
			DurationSeconds: aws.Int32(7200)}),
			Want: awstest.BadRequest("ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")},
		{Name: "AssumeRole: under 15 minutes", Call: assume(user, sts.AssumeRoleInput{DurationSeconds: aws.Int32(899)}),
			Want: awstest.BadRequest("ValidationError",
				"1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900")},
		{Name: "AssumeRole: session name with a space", Call: assume(user, sts.AssumeRoleInput{RoleSessionName: aws.String("build 1")}),
			Want: awstest.BadRequest("ValidationError",
				`1 validation error detected: Value 'build 1' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*`)},
		{Name: "AssumeRole: session name too short", Call: assume(user, sts.AssumeRoleInput{RoleSessionName: aws.String("b")}),
			Want: awstest.BadRequest("ValidationError",
				"1 validation error detected: Value 'b' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2")},
		{Name: "AssumeRole: role ARN too short", Call: assume(user, sts.AssumeRoleInput{RoleArn: aws.String("deployer")}),
			Want: awstest.BadRequest("ValidationError",
				"1 validation error detected: Value 'deployer' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20")},
		{Name: "AssumeRole: external ID too short", Call: assume(user, sts.AssumeRoleInput{ExternalId: aws.String("x")}),
			Want: awstest.BadRequest("ValidationError",
				"1 validation error detected: Value 'x' at 'externalId' failed to satisfy constraint: Member must have length greater than or equal to 2")},
		{Name: "AssumeRole: session policy not JSON", Call: assume(user, sts.AssumeRoleInput{Policy: aws.String("{not json")}),
			Want: awstest.BadRequest("MalformedPolicyDocument", "The policy is not in the valid JSON format.")},
		{Name: "AssumeRole: more than 50 session tags", Call: assume(user, sts.AssumeRoleInput{Tags: tooManyTags}),
			Want: awstest.BadRequest("ValidationError", "at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50")},
		// GetSessionToken's and GetFederationToken's references: neither
		// may be called with temporary credentials, in these words.
		{Name: "GetSessionToken: with session credentials", Call: awstest.Fails(session.GetSessionToken, &sts.GetSessionTokenInput{}),
			Want: awstest.Forbidden("AccessDenied", "Cannot call GetSessionToken with session credentials")},
		{Name: "GetSessionToken: over 36 hours", Call: awstest.Fails(user.GetSessionToken, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(129601)}),
			Want: awstest.BadRequest("ValidationError",
				"1 validation error detected: Value '129601' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 129600")},
		{Name: "GetFederationToken: with session credentials", Call: awstest.Fails(session.GetFederationToken, &sts.GetFederationTokenInput{Name: aws.String("bob")}),
			Want: awstest.Forbidden("AccessDenied", "Cannot call GetFederationToken with session credentials")},
		{Name: "GetFederationToken: name with a space", Call: awstest.Fails(user.GetFederationToken, &sts.GetFederationTokenInput{Name: aws.String("a b")}),
			Want: awstest.BadRequest("ValidationError",
				`1 validation error detected: Value 'a b' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*`)},
		{Name: "GetFederationToken: name too short", Call: awstest.Fails(user.GetFederationToken, &sts.GetFederationTokenInput{Name: aws.String("a")}),
			Want: awstest.BadRequest("ValidationError",
				"1 validation error detected: Value 'a' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 2")},
		{Name: "GetFederationToken: policy not JSON", Call: awstest.Fails(user.GetFederationToken, &sts.GetFederationTokenInput{Name: aws.String("bob"),
			Policy: aws.String("{not json")}),
			Want: awstest.BadRequest("MalformedPolicyDocument", "The policy is not in the valid JSON format.")},
		{Name: "GetAccessKeyInfo: key ID too short", Call: awstest.Fails(user.GetAccessKeyInfo, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String("AKIA")}),
			Want: awstest.BadRequest("ValidationError",
				"1 validation error detected: Value 'AKIA' at 'accessKeyId' failed to satisfy constraint: Member must have length greater than or equal to 16")},
		// The common errors every AWS API shares (STS API Reference,
		// "Common Errors"), in the words AWS sends them.
		{Name: "unknown access key", Call: awstest.Fails(sts.NewFromConfig(srv.ConfigWith("AKIAUNKNOWNKEY000000", "x", "")).GetCallerIdentity, &sts.GetCallerIdentityInput{}),
			Want: awstest.Forbidden("InvalidClientTokenId", "The security token included in the request is invalid.")},
		{Name: "temporary key without its token", Call: awstest.Fails(sts.NewFromConfig(srv.ConfigWith(*assumed.AccessKeyId, *assumed.SecretAccessKey, "")).GetCallerIdentity,
			&sts.GetCallerIdentityInput{}),
			Want: awstest.Forbidden("InvalidClientTokenId", "The security token included in the request is invalid.")},
		{Name: "wrong secret", Call: awstest.Fails(sts.NewFromConfig(srv.ConfigWith(*key.AccessKeyId, "wrong", "")).GetCallerIdentity, &sts.GetCallerIdentityInput{}),
			Want: awstest.Forbidden("SignatureDoesNotMatch",
				"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")},
		{Name: "expired session", Call: func(ctx context.Context) error {
			fake.Advance(901 * time.Second)
			_, err := sts.NewFromConfig(srv.ConfigWith(*short.AccessKeyId, *short.SecretAccessKey, *short.SessionToken)).
				GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			return err
		}, Want: awstest.Forbidden("ExpiredToken", "The security token included in the request is expired")},
	})
}
