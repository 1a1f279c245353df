package iam_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
)

// The simulators page their results, one per action and resource, with
// MaxItems and Marker, as the SDK's paginators expect.
func TestSimulatorPages(t *testing.T) {
	c, _ := start(t)
	awstest.Call(t, c.CreateUser, &iam.CreateUserInput{UserName: aws.String("dev")})
	awstest.Call(t, c.PutUserPolicy, &iam.PutUserPolicyInput{UserName: aws.String("dev"), PolicyName: aws.String("read"), PolicyDocument: aws.String(readS3)})
	actions := []string{"s3:GetObject", "s3:ListBucket", "s3:PutObject"}
	resources := []string{"arn:aws:s3:::a/x", "arn:aws:s3:::b/y"}
	var want []string
	for _, a := range actions {
		for _, r := range resources {
			d := "implicitDeny"
			if a != "s3:PutObject" {
				d = "allowed"
			}
			want = append(want, a+" "+r+" "+d)
		}
	}
	collect := func(pages func(context.Context) ([]string, bool, error), more func() bool) []string {
		var got []string
		n := 0
		for more() {
			results, truncated, err := pages(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if n++; truncated != more() {
				t.Errorf("page %d: IsTruncated %v, but the paginator says more: %v", n, truncated, more())
			}
			got = append(got, results...)
		}
		if n != 3 {
			t.Errorf("pages: got %d, want 3 of 2", n)
		}
		return got
	}
	principal := iam.NewSimulatePrincipalPolicyPaginator(c, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::" + account + ":user/dev"),
		ActionNames: actions, ResourceArns: resources, MaxItems: aws.Int32(2)})
	custom := iam.NewSimulateCustomPolicyPaginator(c, &iam.SimulateCustomPolicyInput{PolicyInputList: []string{readS3},
		ActionNames: actions, ResourceArns: resources, MaxItems: aws.Int32(2)})
	for name, p := range map[string]struct {
		next func(context.Context) ([]string, bool, error)
		more func() bool
	}{
		"SimulatePrincipalPolicy": {func(ctx context.Context) ([]string, bool, error) {
			out, err := principal.NextPage(ctx)
			if err != nil {
				return nil, false, err
			}
			return results(out.EvaluationResults), out.IsTruncated, nil
		}, principal.HasMorePages},
		"SimulateCustomPolicy": {func(ctx context.Context) ([]string, bool, error) {
			out, err := custom.NextPage(ctx)
			if err != nil {
				return nil, false, err
			}
			return results(out.EvaluationResults), out.IsTruncated, nil
		}, custom.HasMorePages},
	} {
		if diff := cmp.Diff(want, collect(p.next, p.more)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	_, err := c.SimulateCustomPolicy(context.Background(), &iam.SimulateCustomPolicyInput{PolicyInputList: []string{readS3},
		ActionNames: actions, Marker: aws.String("not a marker!")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ValidationError", Status: 400})
}

func results(rs []types.EvaluationResult) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, aws.ToString(r.EvalActionName)+" "+aws.ToString(r.EvalResourceName)+" "+string(r.EvalDecision))
	}
	return out
}

// PolicyExclusionList leaves the principal's policies it names out of the
// simulation: by type, by ARN with wildcards, or inline by name and holder.
func TestSimulatorExcludesPolicies(t *testing.T) {
	c, _ := start(t)
	awstest.Call(t, c.CreateUser, &iam.CreateUserInput{UserName: aws.String("ops")})
	awstest.Call(t, c.PutUserPolicy, &iam.PutUserPolicyInput{UserName: aws.String("ops"), PolicyName: aws.String("read"), PolicyDocument: aws.String(readS3)})
	awstest.Call(t, c.AttachUserPolicy, &iam.AttachUserPolicyInput{UserName: aws.String("ops"), PolicyArn: aws.String(adminARN)})
	simulate := func(exclusions ...types.PolicyIdentifier) []string {
		out := awstest.Call(t, c.SimulatePrincipalPolicy, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::" + account + ":user/ops"),
			ActionNames: []string{"s3:GetObject", "s3:PutObject"}, PolicyExclusionList: exclusions})
		var got []string
		for _, r := range out.EvaluationResults {
			got = append(got, string(r.EvalDecision))
		}
		return got
	}
	admin := &types.PolicyIdentifierMemberPolicyArn{Value: "arn:aws:iam::aws:policy/Admin*"}
	tests := []struct {
		name       string
		exclusions []types.PolicyIdentifier
		want       []string
	}{
		{"none", nil, []string{"allowed", "allowed"}},
		{"managed by ARN", []types.PolicyIdentifier{admin}, []string{"allowed", "implicitDeny"}},
		{"aws-managed", []types.PolicyIdentifier{&types.PolicyIdentifierMemberPolicyType{Value: types.PolicyIdentifierPolicyTypeAwsManaged}},
			[]string{"allowed", "implicitDeny"}},
		{"inline and managed", []types.PolicyIdentifier{admin, &types.PolicyIdentifierMemberPolicyType{Value: types.PolicyIdentifierPolicyTypeInline}},
			[]string{"implicitDeny", "implicitDeny"}},
		{"inline by holder", []types.PolicyIdentifier{admin, &types.PolicyIdentifierMemberInlinePolicyIdentifier{Value: types.InlinePolicyIdentifierType{
			PolicyName: aws.String("read"), AttachmentType: types.AttachmentTypeUser, AttachmentName: aws.String("ops")}}},
			[]string{"implicitDeny", "implicitDeny"}},
		{"another holder", []types.PolicyIdentifier{admin, &types.PolicyIdentifierMemberInlinePolicyIdentifier{Value: types.InlinePolicyIdentifierType{
			PolicyName: aws.String("read"), AttachmentType: types.AttachmentTypeRole, AttachmentName: aws.String("ops")}}},
			[]string{"allowed", "implicitDeny"}},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, simulate(tc.exclusions...)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

// A ResourceHandlingOption names an EC2 scenario whose resources the
// simulation must be given, as the simulator enforces; with them, each
// action is judged on each resource.
func TestSimulatorScenarios(t *testing.T) {
	c, _ := start(t)
	const runInstances = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:RunInstances","Resource":"*"}]}`
	arn := func(kind string) string { return "arn:aws:ec2:us-east-1:" + account + ":" + kind + "/x-1" }
	store := []string{arn("instance"), "arn:aws:ec2:us-east-1::image/ami-1", arn("security-group"), arn("network-interface")}
	simulate := func(scenario string, resources []string) (*iam.SimulateCustomPolicyOutput, error) {
		return c.SimulateCustomPolicy(context.Background(), &iam.SimulateCustomPolicyInput{PolicyInputList: []string{runInstances},
			ActionNames: []string{"ec2:RunInstances"}, ResourceArns: resources, ResourceHandlingOption: aws.String(scenario)})
	}
	out, err := simulate("EC2-VPC-InstanceStore", store)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(out.EvaluationResults); got != len(store) {
		t.Errorf("EC2-VPC-InstanceStore: %d results, want one per resource (%d)", got, len(store))
	}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "unknown scenario", Call: func(context.Context) error { _, err := simulate("EC2-Classic-EBS", store); return err },
			Want: awstest.BadRequest("InvalidInput", "ResourceHandlingOption")},
		{Name: "volume missing", Call: func(context.Context) error { _, err := simulate("EC2-VPC-EBS", store); return err },
			Want: awstest.BadRequest("InvalidInput", "volume")},
		{Name: "subnet missing", Call: func(context.Context) error { _, err := simulate("EC2-VPC-InstanceStore-Subnet", store); return err },
			Want: awstest.BadRequest("InvalidInput", "subnet")},
	})
}
