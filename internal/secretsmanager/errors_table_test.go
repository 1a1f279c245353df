package secretsmanager_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"overcast/internal/awstest"
)

// TestErrorsTable holds Secrets Manager's most common failures to the
// codes, statuses and messages AWS answers them with. Unless a row says
// otherwise, the code is from the operation's Errors section in the
// Secrets Manager API Reference (every one of them HTTP 400), and the
// message is the text AWS sends, as aws CLI and SDK users quote it.
func TestErrorsTable(t *testing.T) {
	_, c, _ := start(t)
	awstest.Call(t, c.CreateSecret, &secretsmanager.CreateSecretInput{Name: aws.String("db"), SecretString: aws.String("one"),
		ClientRequestToken: aws.String(token1)})
	awstest.Call(t, c.CreateSecret, &secretsmanager.CreateSecretInput{Name: aws.String("gone"), SecretString: aws.String("x")})
	awstest.Call(t, c.DeleteSecret, &secretsmanager.DeleteSecretInput{SecretId: aws.String("gone")})
	put := awstest.Call(t, c.PutSecretValue, &secretsmanager.PutSecretValueInput{SecretId: aws.String("db"), SecretString: aws.String("two")})
	get := func(in secretsmanager.GetSecretValueInput) func(context.Context) error {
		return awstest.Fails(c.GetSecretValue, &in)
	}
	const (
		notFound          = "Secrets Manager can't find the specified secret."
		markedForDeletion = "You can't perform this operation on the secret because it was marked for deletion."
	)

	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "GetSecretValue: no such secret", Call: get(secretsmanager.GetSecretValueInput{SecretId: aws.String("nope")}),
			Want: awstest.BadRequest("ResourceNotFoundException", notFound)},
		{Name: "DescribeSecret: no such secret", Call: awstest.Fails(c.DescribeSecret, &secretsmanager.DescribeSecretInput{SecretId: aws.String("nope")}),
			Want: awstest.BadRequest("ResourceNotFoundException", notFound)},
		{Name: "GetSecretValue: no such staging label", Call: get(secretsmanager.GetSecretValueInput{SecretId: aws.String("db"), VersionStage: aws.String("AWSPENDING")}),
			Want: awstest.BadRequest("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: AWSPENDING")},
		{Name: "GetSecretValue: no such version", Call: get(secretsmanager.GetSecretValueInput{SecretId: aws.String("db"),
			VersionId: aws.String("22222222-2222-4222-8222-222222222222")}),
			Want: awstest.BadRequest("ResourceNotFoundException",
				"Secrets Manager can't find the specified secret value for VersionId: 22222222-2222-4222-8222-222222222222")},
		{Name: "GetSecretValue: scheduled for deletion", Call: get(secretsmanager.GetSecretValueInput{SecretId: aws.String("gone")}),
			Want: awstest.BadRequest("InvalidRequestException", markedForDeletion)},
		{Name: "CreateSecret: exists", Call: awstest.Fails(c.CreateSecret, &secretsmanager.CreateSecretInput{Name: aws.String("db"), SecretString: aws.String("x")}),
			Want: awstest.BadRequest("ResourceExistsException", "The operation failed because the secret db already exists.")},
		{Name: "CreateSecret: name scheduled for deletion", Call: awstest.Fails(c.CreateSecret, &secretsmanager.CreateSecretInput{Name: aws.String("gone"),
			SecretString: aws.String("x")}),
			Want: awstest.BadRequest("InvalidRequestException",
				"You can't create this secret because a secret with this name is already scheduled for deletion.")},
		{Name: "CreateSecret: string and binary", Call: awstest.Fails(c.CreateSecret, &secretsmanager.CreateSecretInput{Name: aws.String("both"),
			SecretString: aws.String("x"), SecretBinary: []byte("x")}),
			Want: awstest.BadRequest("InvalidParameterException",
				"You can't specify both a binary secret value and a string secret value in the same secret.")},
		// CreateSecret's reference: a name may hold letters, digits and
		// /_+=.@- only.
		{Name: "CreateSecret: a space in the name", Call: awstest.Fails(c.CreateSecret, &secretsmanager.CreateSecretInput{Name: aws.String("my secret"),
			SecretString: aws.String("x")}),
			Want: awstest.BadRequest("InvalidParameterException",
				"Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")},
		{Name: "PutSecretValue: no value", Call: awstest.Fails(c.PutSecretValue, &secretsmanager.PutSecretValueInput{SecretId: aws.String("db")}),
			Want: awstest.BadRequest("InvalidRequestException", "You must provide either SecretString or SecretBinary.")},
		// PutSecretValue's reference: a ClientRequestToken names one
		// version, whose value can't change.
		{Name: "PutSecretValue: same token, other value", Call: awstest.Fails(c.PutSecretValue, &secretsmanager.PutSecretValueInput{SecretId: aws.String("db"),
			SecretString: aws.String("changed"), ClientRequestToken: aws.String(token1)}),
			Want: awstest.BadRequest("ResourceExistsException", "You can't modify an existing version, you can only create a new version.")},
		{Name: "PutSecretValue: scheduled for deletion", Call: awstest.Fails(c.PutSecretValue, &secretsmanager.PutSecretValueInput{SecretId: aws.String("gone"),
			SecretString: aws.String("x")}),
			Want: awstest.BadRequest("InvalidRequestException", markedForDeletion)},
		// DeleteSecret's reference: the window is 7 to 30 days, and
		// cannot be given with ForceDeleteWithoutRecovery.
		{Name: "DeleteSecret: a 6-day window", Call: awstest.Fails(c.DeleteSecret, &secretsmanager.DeleteSecretInput{SecretId: aws.String("db"),
			RecoveryWindowInDays: aws.Int64(6)}),
			Want: awstest.BadRequest("InvalidParameterException", "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")},
		{Name: "DeleteSecret: a window and force", Call: awstest.Fails(c.DeleteSecret, &secretsmanager.DeleteSecretInput{SecretId: aws.String("db"),
			RecoveryWindowInDays: aws.Int64(7), ForceDeleteWithoutRecovery: aws.Bool(true)}),
			Want: awstest.BadRequest("InvalidParameterException", "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")},
		{Name: "DeleteSecret: already scheduled", Call: awstest.Fails(c.DeleteSecret, &secretsmanager.DeleteSecretInput{SecretId: aws.String("gone")}),
			Want: awstest.BadRequest("InvalidRequestException", "You tried to perform the operation on a secret that's currently marked deleted.")},
		// UpdateSecretVersionStage's reference: AWSCURRENT moves only with
		// the version it leaves named.
		{Name: "UpdateSecretVersionStage: AWSCURRENT without RemoveFromVersionId", Call: awstest.Fails(c.UpdateSecretVersionStage,
			&secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("db"), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(token1)}),
			Want: awstest.BadRequest("InvalidParameterException",
				"The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version "+
					aws.ToString(put.VersionId)+", so you must explicitly reference that version in RemoveFromVersionId.")},
		{Name: "ListSecrets: made-up NextToken", Call: awstest.Fails(c.ListSecrets, &secretsmanager.ListSecretsInput{NextToken: aws.String("!!!")}),
			Want: awstest.BadRequest("InvalidNextTokenException", "The NextToken value is invalid.")},
		{Name: "ListSecrets: MaxResults over 100", Call: awstest.Fails(c.ListSecrets, &secretsmanager.ListSecretsInput{MaxResults: aws.Int32(101)}),
			Want: awstest.BadRequest("ValidationException",
				"1 validation error detected: Value '101' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100")},
		{Name: "PutResourcePolicy: not JSON", Call: awstest.Fails(c.PutResourcePolicy, &secretsmanager.PutResourcePolicyInput{SecretId: aws.String("db"),
			ResourcePolicy: aws.String("{nope")}),
			Want: awstest.BadRequest("MalformedPolicyDocumentException", "This resource policy contains a syntax error.")},
		{Name: "GetRandomPassword: longer than 4096", Call: awstest.Fails(c.GetRandomPassword, &secretsmanager.GetRandomPasswordInput{
			PasswordLength: aws.Int64(4097)}),
			Want: awstest.BadRequest("ValidationException",
				"1 validation error detected: Value '4097' at 'passwordLength' failed to satisfy constraint: Member must have value less than or equal to 4096")},
	})
}
