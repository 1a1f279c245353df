package iam_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"overcast/internal/awstest"
)

// TestErrorsTable holds IAM's most common failures to the codes, statuses
// and messages AWS answers them with. Unless a row says otherwise, the code
// and status are from the operation's Errors section in the IAM API
// Reference, and the message is the text AWS sends, as the aws CLI prints
// it in countless issue reports.
func TestErrorsTable(t *testing.T) {
	c, _ := start(t)
	awstest.Call(t, c.CreateUser, &iam.CreateUserInput{UserName: aws.String("alice")})
	awstest.Call(t, c.CreateLoginProfile, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("Secret-pass-1")})
	awstest.Call(t, c.CreateUser, &iam.CreateUserInput{UserName: aws.String("bob")})
	for range 2 {
		awstest.Call(t, c.CreateAccessKey, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
	}
	awstest.Call(t, c.CreateGroup, &iam.CreateGroupInput{GroupName: aws.String("devs")})
	awstest.Call(t, c.AddUserToGroup, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("bob")})
	awstest.Call(t, c.CreateRole, &iam.CreateRoleInput{RoleName: aws.String("deployer"), AssumeRolePolicyDocument: aws.String(trustECS)})
	awstest.Call(t, c.CreateRole, &iam.CreateRoleInput{RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(trustECS)})
	awstest.Call(t, c.CreateInstanceProfile, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web")})
	awstest.Call(t, c.AddRoleToInstanceProfile, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("web")})
	p := awstest.Call(t, c.CreatePolicy, &iam.CreatePolicyInput{PolicyName: aws.String("read"), PolicyDocument: aws.String(readS3)}).Policy
	for range 4 {
		awstest.Call(t, c.CreatePolicyVersion, &iam.CreatePolicyVersionInput{PolicyArn: p.Arn, PolicyDocument: aws.String(readS3)})
	}
	awstest.Call(t, c.AttachRolePolicy, &iam.AttachRolePolicyInput{RoleName: aws.String("deployer"), PolicyArn: p.Arn})
	for i := range 19 {
		q := awstest.Call(t, c.CreatePolicy, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprint("extra", i)), PolicyDocument: aws.String(readS3)})
		awstest.Call(t, c.AttachRolePolicy, &iam.AttachRolePolicyInput{RoleName: aws.String("deployer"), PolicyArn: q.Policy.Arn})
	}

	const missingPolicy = "arn:aws:iam::000000000000:policy/nobody"
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "GetUser: no such user", Call: awstest.Fails(c.GetUser, &iam.GetUserInput{UserName: aws.String("nobody")}),
			Want: awstest.NotFound("NoSuchEntity", "The user with name nobody cannot be found.")},
		{Name: "CreateUser: name taken", Call: awstest.Fails(c.CreateUser, &iam.CreateUserInput{UserName: aws.String("alice")}),
			Want: awstest.Conflict("EntityAlreadyExists", "User with name alice already exists.")},
		{Name: "GetRole: no such role", Call: awstest.Fails(c.GetRole, &iam.GetRoleInput{RoleName: aws.String("nobody")}),
			Want: awstest.NotFound("NoSuchEntity", "The role with name nobody cannot be found.")},
		{Name: "CreateRole: name taken", Call: awstest.Fails(c.CreateRole, &iam.CreateRoleInput{RoleName: aws.String("deployer"), AssumeRolePolicyDocument: aws.String(trustECS)}),
			Want: awstest.Conflict("EntityAlreadyExists", "Role with name deployer already exists.")},
		{Name: "CreateRole: trust policy not JSON", Call: awstest.Fails(c.CreateRole, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String("{not json")}),
			Want: awstest.BadRequest("MalformedPolicyDocument", "This policy contains invalid Json")},
		{Name: "CreateRole: trust policy without a principal", Call: awstest.Fails(c.CreateRole, &iam.CreateRoleInput{RoleName: aws.String("r"),
			AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`)}),
			Want: awstest.BadRequest("MalformedPolicyDocument", "Missing required field Principal")},
		// CreateRole's reference: MaxSessionDuration is 3600 to 43200.
		{Name: "CreateRole: session duration over 12 hours", Call: awstest.Fails(c.CreateRole, &iam.CreateRoleInput{RoleName: aws.String("r"),
			AssumeRolePolicyDocument: aws.String(trustECS), MaxSessionDuration: aws.Int32(43201)}),
			Want: awstest.BadRequest("ValidationError",
				"1 validation error detected: Value '43201' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200")},
		{Name: "DeleteRole: policies attached", Call: awstest.Fails(c.DeleteRole, &iam.DeleteRoleInput{RoleName: aws.String("deployer")}),
			Want: awstest.Conflict("DeleteConflict", "Cannot delete entity, must detach all policies first.")},
		{Name: "DeleteUser: login profile", Call: awstest.Fails(c.DeleteUser, &iam.DeleteUserInput{UserName: aws.String("alice")}),
			Want: awstest.Conflict("DeleteConflict", "Cannot delete entity, must delete login profile first.")},
		{Name: "DeleteUser: access keys", Call: awstest.Fails(c.DeleteUser, &iam.DeleteUserInput{UserName: aws.String("bob")}),
			Want: awstest.Conflict("DeleteConflict", "Cannot delete entity, must delete access keys first.")},
		{Name: "DeleteGroup: has members", Call: awstest.Fails(c.DeleteGroup, &iam.DeleteGroupInput{GroupName: aws.String("devs")}),
			Want: awstest.Conflict("DeleteConflict", "Cannot delete entity, must remove users from group first.")},
		// "IAM and AWS STS quotas" (IAM User Guide): two access keys a user,
		// 20 managed policies a role, one role an instance profile, five
		// versions a managed policy.
		{Name: "CreateAccessKey: a third key", Call: awstest.Fails(c.CreateAccessKey, &iam.CreateAccessKeyInput{UserName: aws.String("bob")}),
			Want: awstest.Conflict("LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2")},
		{Name: "AttachRolePolicy: a 21st policy", Call: awstest.Fails(c.AttachRolePolicy, &iam.AttachRolePolicyInput{RoleName: aws.String("deployer"),
			PolicyArn: aws.String(s3ReadARN)}),
			Want: awstest.Conflict("LimitExceeded", "Cannot exceed quota for PoliciesPerRole: 20")},
		{Name: "AddRoleToInstanceProfile: a second role", Call: awstest.Fails(c.AddRoleToInstanceProfile, &iam.AddRoleToInstanceProfileInput{
			InstanceProfileName: aws.String("web"), RoleName: aws.String("deployer")}),
			Want: awstest.Conflict("LimitExceeded", "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")},
		{Name: "CreatePolicyVersion: a sixth version", Call: awstest.Fails(c.CreatePolicyVersion, &iam.CreatePolicyVersionInput{PolicyArn: p.Arn,
			PolicyDocument: aws.String(readS3)}),
			Want: awstest.Conflict("LimitExceeded",
				"A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.")},
		{Name: "DeletePolicyVersion: the default", Call: awstest.Fails(c.DeletePolicyVersion, &iam.DeletePolicyVersionInput{PolicyArn: p.Arn,
			VersionId: aws.String("v1")}),
			Want: awstest.Conflict("DeleteConflict", "Cannot delete the default version of a policy.")},
		{Name: "DeletePolicy: attached", Call: awstest.Fails(c.DeletePolicy, &iam.DeletePolicyInput{PolicyArn: p.Arn}),
			Want: awstest.Conflict("DeleteConflict", "Cannot delete a policy attached to entities.")},
		{Name: "CreatePolicy: name taken", Call: awstest.Fails(c.CreatePolicy, &iam.CreatePolicyInput{PolicyName: aws.String("read"), PolicyDocument: aws.String(readS3)}),
			Want: awstest.Conflict("EntityAlreadyExists", "A policy called read already exists. Duplicate names are not allowed.")},
		{Name: "CreatePolicy: a principal in an identity policy", Call: awstest.Fails(c.CreatePolicy, &iam.CreatePolicyInput{PolicyName: aws.String("p"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`)}),
			Want: awstest.BadRequest("MalformedPolicyDocument", "Policy document should not specify a principal.")},
		{Name: "CreatePolicy: an action without a vendor", Call: awstest.Fails(c.CreatePolicy, &iam.CreatePolicyInput{PolicyName: aws.String("p"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"GetObject","Resource":"*"}]}`)}),
			Want: awstest.BadRequest("MalformedPolicyDocument", "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")},
		{Name: "GetPolicy: no such policy", Call: awstest.Fails(c.GetPolicy, &iam.GetPolicyInput{PolicyArn: aws.String(missingPolicy)}),
			Want: awstest.NotFound("NoSuchEntity", "Policy "+missingPolicy+" was not found.")},
		{Name: "AttachUserPolicy: no such policy", Call: awstest.Fails(c.AttachUserPolicy, &iam.AttachUserPolicyInput{UserName: aws.String("alice"),
			PolicyArn: aws.String(missingPolicy)}),
			Want: awstest.NotFound("NoSuchEntity", "Policy "+missingPolicy+" does not exist or is not attachable.")},
		{Name: "GetRolePolicy: no such inline policy", Call: awstest.Fails(c.GetRolePolicy, &iam.GetRolePolicyInput{RoleName: aws.String("deployer"),
			PolicyName: aws.String("inline")}),
			Want: awstest.NotFound("NoSuchEntity", "The role policy with name inline cannot be found.")},
		{Name: "GetLoginProfile: none", Call: awstest.Fails(c.GetLoginProfile, &iam.GetLoginProfileInput{UserName: aws.String("bob")}),
			Want: awstest.NotFound("NoSuchEntity", "Login Profile for User bob cannot be found.")},
		{Name: "DeleteAccessKey: no such key", Call: awstest.Fails(c.DeleteAccessKey, &iam.DeleteAccessKeyInput{UserName: aws.String("bob"),
			AccessKeyId: aws.String("AKIAIOSFODNN7EXAMPLE")}),
			Want: awstest.NotFound("NoSuchEntity", "The Access Key with id AKIAIOSFODNN7EXAMPLE cannot be found.")},
	})
}
