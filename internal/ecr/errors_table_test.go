package ecr_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"overcast/internal/awstest"
)

// TestErrorsTable holds ECR's most common failures to the codes, statuses
// and messages AWS answers them with. Unless a row says otherwise, the code
// is from the operation's Errors section in the ECR API Reference (every
// one of them HTTP 400), and the message is the text AWS sends, as the
// aws CLI and docker print it.
func TestErrorsTable(t *testing.T) {
	e := start(t)
	e.createRepo("app")
	e.createRepo("locked", func(in *ecr.CreateRepositoryInput) { in.ImageTagMutability = types.ImageTagMutabilityImmutable })
	img := makeImage(randomBytes(64, 1))
	e.mustPush("app", "v1", img)
	e.mustPush("locked", "v1", img)
	other := makeImage(randomBytes(64, 2))
	for _, b := range append([][]byte{other.config}, other.layers...) {
		e.pushBlob(e.auth, "locked", b)
	}
	unpushed := makeImage(randomBytes(64, 3))
	c := e.c
	b := ecr.NewFromConfig(e.srv.ConfigWith("111111111111", "secret", ""))
	putImage := func(repo, tag string, img image) func(context.Context) error {
		return awstest.Fails(c.PutImage, &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageTag: aws.String(tag),
			ImageManifest: aws.String(string(img.manifest)), ImageManifestMediaType: aws.String(dockerManifest)})
	}
	var manyIDs []types.ImageIdentifier
	for i := range 101 {
		manyIDs = append(manyIDs, types.ImageIdentifier{ImageTag: aws.String(fmt.Sprint("t", i))})
	}
	const noRepo = "The repository with name 'nope' does not exist in the registry with id '000000000000'"
	where := func(repo string) string {
		return "the repository with name '" + repo + "' in the registry with id '000000000000'"
	}

	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "DescribeRepositories: no such repository", Call: awstest.Fails(c.DescribeRepositories, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"nope"}}),
			Want: awstest.BadRequest("RepositoryNotFoundException", noRepo)},
		{Name: "DeleteRepository: no such repository", Call: awstest.Fails(c.DeleteRepository, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("nope")}),
			Want: awstest.BadRequest("RepositoryNotFoundException", noRepo)},
		{Name: "CreateRepository: exists", Call: awstest.Fails(c.CreateRepository, &ecr.CreateRepositoryInput{RepositoryName: aws.String("app")}),
			Want: awstest.BadRequest("RepositoryAlreadyExistsException",
				"The repository with name 'app' already exists in the registry with id '000000000000'")},
		{Name: "CreateRepository: upper case", Call: awstest.Fails(c.CreateRepository, &ecr.CreateRepositoryInput{RepositoryName: aws.String("MyApp")}),
			Want: awstest.BadRequest("InvalidParameterException",
				"Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '")},
		{Name: "DeleteRepository: holds images", Call: awstest.Fails(c.DeleteRepository, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("app")}),
			Want: awstest.BadRequest("RepositoryNotEmptyException",
				"The repository with name 'app' in registry with id '000000000000' cannot be deleted because it still contains images")},
		{Name: "DescribeRepositories: maxResults over 1000", Call: awstest.Fails(c.DescribeRepositories, &ecr.DescribeRepositoriesInput{MaxResults: aws.Int32(1001)}),
			Want: awstest.BadRequest("InvalidParameterException",
				"Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value less than or equal to 1000'")},
		{Name: "DescribeImages: no such tag", Call: awstest.Fails(c.DescribeImages, &ecr.DescribeImagesInput{RepositoryName: aws.String("app"),
			ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v9")}}}),
			Want: awstest.BadRequest("ImageNotFoundException",
				"The image with imageId {imageDigest:'null', imageTag:'v9'} does not exist within "+where("app"))},
		{Name: "DescribeImages: no such repository", Call: awstest.Fails(c.DescribeImages, &ecr.DescribeImagesInput{RepositoryName: aws.String("nope")}),
			Want: awstest.BadRequest("RepositoryNotFoundException", noRepo)},
		{Name: "BatchDeleteImage: more than 100 images", Call: awstest.Fails(c.BatchDeleteImage, &ecr.BatchDeleteImageInput{RepositoryName: aws.String("app"),
			ImageIds: manyIDs}),
			Want: awstest.BadRequest("InvalidParameterException",
				"Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must have length less than or equal to 100'")},
		// "Image tag mutability" (ECR User Guide): an immutable tag is
		// never moved, in these words.
		{Name: "PutImage: an immutable tag", Call: putImage("locked", "v1", other),
			Want: awstest.BadRequest("ImageTagAlreadyExistsException",
				"The image tag 'v1' already exists in the 'locked' repository and cannot be overwritten because the repository is immutable.")},
		{Name: "PutImage: the same image and tag again", Call: putImage("app", "v1", img),
			Want: awstest.BadRequest("ImageAlreadyExistsException",
				"Image with digest '"+img.digest+"' and tag 'v1' already exists in the repository with name 'app' in registry with id '000000000000'")},
		{Name: "PutImage: layers never pushed", Call: putImage("app", "v2", unpushed),
			Want: awstest.BadRequest("LayersNotFoundException", "required for pushing image into repository with name 'app'")},
		{Name: "GetRepositoryPolicy: none", Call: awstest.Fails(c.GetRepositoryPolicy, &ecr.GetRepositoryPolicyInput{RepositoryName: aws.String("app")}),
			Want: awstest.BadRequest("RepositoryPolicyNotFoundException", "Repository policy does not exist for "+where("app"))},
		{Name: "SetRepositoryPolicy: not a policy", Call: awstest.Fails(c.SetRepositoryPolicy, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("app"),
			PolicyText: aws.String(`{"Statement":"nope"}`)}),
			Want: awstest.BadRequest("InvalidParameterException",
				"Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'")},
		{Name: "GetLifecyclePolicy: none", Call: awstest.Fails(c.GetLifecyclePolicy, &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String("app")}),
			Want: awstest.BadRequest("LifecyclePolicyNotFoundException", "Lifecycle policy does not exist for "+where("app"))},
		{Name: "PutLifecyclePolicy: not JSON", Call: awstest.Fails(c.PutLifecyclePolicy, &ecr.PutLifecyclePolicyInput{RepositoryName: aws.String("app"),
			LifecyclePolicyText: aws.String(strings.Repeat("{", 100))}),
			Want: awstest.BadRequest("InvalidParameterException",
				"Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: ")},
		{Name: "DescribeImageScanFindings: never scanned", Call: awstest.Fails(c.DescribeImageScanFindings, &ecr.DescribeImageScanFindingsInput{
			RepositoryName: aws.String("app"), ImageId: &types.ImageIdentifier{ImageTag: aws.String("v1")}}),
			Want: awstest.BadRequest("ScanNotFoundException",
				"Image scan does not exist for the image with '{imageDigest:'null', imageTag:'v1'}' in "+where("app"))},
		// "Private repository policies" (ECR User Guide): another
		// account's repository needs a policy that lets the caller in.
		// "Troubleshooting Amazon ECR error messages" gives the status:
		// HTTP 403, "User [arn] is not authorized to perform [operation]".
		{Name: "BatchGetImage: another account's repository", Call: awstest.Fails(b.BatchGetImage, &ecr.BatchGetImageInput{RegistryId: aws.String("000000000000"),
			RepositoryName: aws.String("app"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}}),
			Want: awstest.Forbidden("AccessDeniedException",
				"User: arn:aws:iam::111111111111:root is not authorized to perform: ecr:BatchGetImage on resource: "+
					"arn:aws:ecr:us-east-1:000000000000:repository/app because no resource-based policy allows the ecr:BatchGetImage action")},
		// CompleteLayerUpload's reference names the code; the text is
		// overcast's own.
		{Name: "CompleteLayerUpload: no such upload", Call: awstest.Fails(c.CompleteLayerUpload, &ecr.CompleteLayerUploadInput{RepositoryName: aws.String("app"),
			UploadId: aws.String("11111111-1111-1111-1111-111111111111"), LayerDigests: []string{digestOf([]byte("x"))}}),
			Want: awstest.APIError{Code: "UploadNotFoundException", Status: 400}},
	})
}
