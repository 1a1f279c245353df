package ecr_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"overcast/internal/awstest"
)

// TestCrossAccountPolicy: another account reaches a repository only as far
// as its repository policy allows, through the registry and the API.
func TestCrossAccountPolicy(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	e.createRepo("shared")
	img := makeImage(randomBytes(128, 7))
	e.mustPush("shared", "v1", img)

	// Account B: a 12-digit access key is taken as the account.
	b := ecr.NewFromConfig(e.srv.ConfigWith("111111111111", "secret", ""))
	bAuth := e.basicAuth(b)
	qualified := "/v2/000000000000.dkr.ecr.us-east-1.amazonaws.com/shared"

	if r := e.do(bAuth, "GET", "/v2/shared/manifests/v1", nil); r.status != 404 || !strings.HasPrefix(r.code(), "NAME_UNKNOWN") {
		t.Errorf("B's own registry has no such repository: got %d %s", r.status, r.code())
	}
	if r := e.do(bAuth, "GET", qualified+"/manifests/v1", nil); r.status != 403 || !strings.HasPrefix(r.code(), "DENIED") {
		t.Errorf("B pulling A's repository without a policy: got %d %s, want 403 DENIED", r.status, r.code())
	}
	_, err := b.BatchGetImage(ctx, &ecr.BatchGetImageInput{RegistryId: aws.String("000000000000"), RepositoryName: aws.String("shared"),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}})
	if err == nil || !strings.Contains(err.Error(), "AccessDeniedException") {
		t.Errorf("B's BatchGetImage without a policy: got %v, want AccessDeniedException", err)
	}

	// Policies are validated.
	_, err = e.c.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("shared"), PolicyText: aws.String(`{"Statement":"nope"}`)})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Status: 400, Message: "Invalid repository policy provided"})
	_, err = e.c.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{RepositoryName: aws.String("shared")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "RepositoryPolicyNotFoundException", Status: 400, Message: "Repository policy does not exist for the repository with name 'shared'"})

	pull := `{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},
		"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"]}]}`
	if _, err := e.c.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("shared"), PolicyText: aws.String(pull)}); err != nil {
		t.Fatal(err)
	}
	if got, err := e.c.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{RepositoryName: aws.String("shared")}); err != nil || aws.ToString(got.PolicyText) != pull {
		t.Errorf("GetRepositoryPolicy: got %+v, %v", got, err)
	}
	if r := e.do(bAuth, "GET", qualified+"/manifests/v1", nil); r.status != 200 || r.header.Get("Docker-Content-Digest") != img.digest {
		t.Errorf("B pulling with a pull policy: got %d %s", r.status, r.code())
	}
	if r := e.do(bAuth, "GET", qualified+"/blobs/"+digestOf(img.layers[0]), nil); r.status != 200 || len(r.body) != 128 {
		t.Errorf("B pulling a layer: got %d", r.status)
	}
	out, err := b.BatchGetImage(ctx, &ecr.BatchGetImageInput{RegistryId: aws.String("000000000000"), RepositoryName: aws.String("shared"),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}})
	if err != nil || len(out.Images) != 1 {
		t.Errorf("B's BatchGetImage with a pull policy: got %+v, %v", out, err)
	}
	// Pulling is not pushing.
	other := makeImage(randomBytes(64, 8))
	if r := e.do(bAuth, "POST", qualified+"/blobs/uploads/", nil); r.status != 403 {
		t.Errorf("B starting an upload with a pull policy: got %d %s, want 403", r.status, r.code())
	}
	if r := e.do(bAuth, "DELETE", qualified+"/manifests/"+img.digest, nil); r.status != 403 {
		t.Errorf("B deleting with a pull policy: got %d, want 403", r.status)
	}

	push := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},
		"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability","ecr:PutImage",
		"ecr:InitiateLayerUpload","ecr:UploadLayerPart","ecr:CompleteLayerUpload"]}]}`
	if _, err := e.c.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("shared"), PolicyText: aws.String(push)}); err != nil {
		t.Fatal(err)
	}
	if r := e.push(bAuth, "000000000000.dkr.ecr.us-east-1.amazonaws.com/shared", "from-b", other); r.status != http.StatusCreated {
		t.Fatalf("B pushing with a push policy: got %d %s", r.status, r.code())
	}
	if r := e.do(e.auth, "GET", "/v2/shared/manifests/from-b", nil); r.status != 200 || r.header.Get("Docker-Content-Digest") != other.digest {
		t.Errorf("A sees B's push: got %d", r.status)
	}
	desc, err := b.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RegistryId: aws.String("000000000000"), RepositoryNames: []string{"shared"}})
	if err == nil {
		t.Errorf("B describing A's repository without ecr:DescribeRepositories: got %+v", desc)
	}

	del, err := e.c.DeleteRepositoryPolicy(ctx, &ecr.DeleteRepositoryPolicyInput{RepositoryName: aws.String("shared")})
	if err != nil || aws.ToString(del.PolicyText) != push {
		t.Errorf("DeleteRepositoryPolicy: got %+v, %v", del, err)
	}
	if r := e.do(bAuth, "GET", qualified+"/manifests/v1", nil); r.status != 403 {
		t.Errorf("B after the policy was deleted: got %d, want 403", r.status)
	}
	// The account's own requests never needed a policy.
	if r := e.do(e.auth, "GET", qualified+"/manifests/v1", nil); r.status != 200 {
		t.Errorf("A through the qualified name: got %d", r.status)
	}
}
