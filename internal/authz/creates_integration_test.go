package authz_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"overcast/internal/awstest"
)

// What a call creates with an ID only it draws is authorized as AWS
// authorizes it: a secret on its ARN with the random suffix it gets, a
// target group or a file system on its ARN with the ID a wildcard.
func TestEnforceCreatesOnTheirARN(t *testing.T) {
	srv := awstest.Start(t, awstest.EnforceIAM())
	dev := newUser(t, srv, "dev", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"secretsmanager:CreateSecret","Resource":"arn:aws:secretsmanager:us-east-1:`+account+`:secret:db-??????"},
		{"Effect":"Allow","Action":"elasticloadbalancing:CreateTargetGroup","Resource":"arn:aws:elasticloadbalancing:us-east-1:`+account+`:targetgroup/web/*"},
		{"Effect":"Allow","Action":"elasticfilesystem:CreateFileSystem","Resource":"arn:aws:elasticfilesystem:us-east-1:`+account+`:file-system/*"}]}`)
	ctx := context.Background()
	sm, lb, fs := secretsmanager.NewFromConfig(dev), elb.NewFromConfig(dev), efs.NewFromConfig(dev)
	vpc := aws.ToString(awstest.Call(t, ec2.NewFromConfig(srv.Config()).DescribeVpcs, &ec2.DescribeVpcsInput{}).Vpcs[0].VpcId)

	created := awstest.Call(t, sm.CreateSecret, &secretsmanager.CreateSecretInput{Name: aws.String("db"), SecretString: aws.String("pw")})
	if !regexp.MustCompile(`:secret:db-[A-Za-z0-9]{6}$`).MatchString(aws.ToString(created.ARN)) {
		t.Errorf("CreateSecret: got ARN %s", aws.ToString(created.ARN))
	}
	awstest.Call(t, lb.CreateTargetGroup, &elb.CreateTargetGroupInput{Name: aws.String("web"), Protocol: "HTTP", Port: aws.Int32(80), VpcId: &vpc})
	awstest.Call(t, fs.CreateFileSystem, &efs.CreateFileSystemInput{CreationToken: aws.String("one")})

	_, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("dbx"), SecretString: aws.String("pw")})
	if !accessDenied(err) || !regexp.MustCompile(`secretsmanager:CreateSecret on resource: arn:aws:secretsmanager:us-east-1:\d+:secret:dbx-[A-Za-z0-9]{6} because`).MatchString(err.Error()) {
		t.Errorf("CreateSecret dbx: got %v, want AccessDenied on its ARN with a suffix", err)
	}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "CreateTargetGroup api", Call: awstest.Fails(lb.CreateTargetGroup, &elb.CreateTargetGroupInput{Name: aws.String("api"), Protocol: "HTTP",
			Port: aws.Int32(80), VpcId: &vpc}), Want: awstest.APIError{Code: "AccessDenied", Status: 403,
			Message: "elasticloadbalancing:CreateTargetGroup on resource: arn:aws:elasticloadbalancing:us-east-1:" + account + ":targetgroup/api/*"}},
	})
}
