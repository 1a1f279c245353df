package iam_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/saml/samltest"
)

func TestSAMLProviders(t *testing.T) {
	ctx := context.Background()
	c, _ := start(t)
	idp := samltest.NewIdP(t, "https://idp.example.com/metadata")
	created := awstest.Call(t, c.CreateSAMLProvider, &iam.CreateSAMLProviderInput{Name: aws.String("corp"),
		SAMLMetadataDocument: aws.String(idp.Metadata()), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("it")}}})
	arn := aws.ToString(created.SAMLProviderArn)
	if want := "arn:aws:iam::000000000000:saml-provider/corp"; arn != want {
		t.Fatalf("ARN: got %s, want %s", arn, want)
	}
	got := awstest.Call(t, c.GetSAMLProvider, &iam.GetSAMLProviderInput{SAMLProviderArn: &arn})
	if aws.ToString(got.SAMLMetadataDocument) != idp.Metadata() || got.ValidUntil == nil || got.CreateDate == nil || got.SAMLProviderUUID == nil {
		t.Errorf("GetSAMLProvider: got %+v", got)
	}
	rotated := samltest.NewIdP(t, idp.EntityID)
	awstest.Call(t, c.UpdateSAMLProvider, &iam.UpdateSAMLProviderInput{SAMLProviderArn: &arn, SAMLMetadataDocument: aws.String(rotated.Metadata())})
	got = awstest.Call(t, c.GetSAMLProvider, &iam.GetSAMLProviderInput{SAMLProviderArn: &arn})
	if aws.ToString(got.SAMLMetadataDocument) != rotated.Metadata() {
		t.Error("UpdateSAMLProvider did not replace the metadata")
	}
	awstest.Call(t, c.TagSAMLProvider, &iam.TagSAMLProviderInput{SAMLProviderArn: &arn, Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}})
	awstest.Call(t, c.UntagSAMLProvider, &iam.UntagSAMLProviderInput{SAMLProviderArn: &arn, TagKeys: []string{"team"}})
	tags := awstest.Call(t, c.ListSAMLProviderTags, &iam.ListSAMLProviderTagsInput{SAMLProviderArn: &arn})
	if keys := awstest.Strings(tags.Tags, func(t types.Tag) *string { return t.Key }); !cmp.Equal(keys, []string{"env"}) {
		t.Errorf("ListSAMLProviderTags: got %q, want [env]", keys)
	}
	list := awstest.Call(t, c.ListSAMLProviders, &iam.ListSAMLProvidersInput{})
	if arns := awstest.Strings(list.SAMLProviderList, func(e types.SAMLProviderListEntry) *string { return e.Arn }); !cmp.Equal(arns, []string{arn}) {
		t.Errorf("ListSAMLProviders: got %q, want [%s]", arns, arn)
	}

	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "Create: name taken", Call: awstest.Fails(c.CreateSAMLProvider, &iam.CreateSAMLProviderInput{Name: aws.String("corp"),
			SAMLMetadataDocument: aws.String(idp.Metadata())}), Want: awstest.Conflict("EntityAlreadyExists", "")},
		{Name: "Create: metadata not parsable", Call: awstest.Fails(c.CreateSAMLProvider, &iam.CreateSAMLProviderInput{Name: aws.String("bad"),
			SAMLMetadataDocument: aws.String("<EntityDescriptor entityID='x'/><!--" + strings.Repeat(" ", 1000) + "-->")}),
			Want: awstest.BadRequest("InvalidInput", "Could not parse metadata")},
		{Name: "Get: missing", Call: awstest.Fails(c.GetSAMLProvider, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String("arn:aws:iam::000000000000:saml-provider/none")}),
			Want: awstest.NotFound("NoSuchEntity", "arn:aws:iam::000000000000:saml-provider/none")},
	})

	if _, err := c.DeleteSAMLProvider(ctx, &iam.DeleteSAMLProviderInput{SAMLProviderArn: &arn}); err != nil {
		t.Fatal(err)
	}
	_, err := c.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: &arn})
	awstest.WantAPIError(t, err, awstest.NotFound("NoSuchEntity", arn))
}
