package iam_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"overcast/internal/awstest"
)

const githubThumbprint = "6938fd4d98bab03faadb97b34396831e3780aea1"

func TestOpenIDConnectProviders(t *testing.T) {
	ctx := context.Background()
	c, _ := start(t)
	created := awstest.Call(t, c.CreateOpenIDConnectProvider, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String("https://token.actions.githubusercontent.com"), ClientIDList: []string{"sts.amazonaws.com"},
		ThumbprintList: []string{githubThumbprint}, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("ci")}}})
	arn := aws.ToString(created.OpenIDConnectProviderArn)
	if want := "arn:aws:iam::000000000000:oidc-provider/token.actions.githubusercontent.com"; arn != want {
		t.Fatalf("ARN: got %s, want %s", arn, want)
	}
	awstest.Call(t, c.CreateOpenIDConnectProvider, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String("https://Login.Example.com/tenant/"), ClientIDList: []string{"app"}})

	awstest.Call(t, c.AddClientIDToOpenIDConnectProvider, &iam.AddClientIDToOpenIDConnectProviderInput{
		OpenIDConnectProviderArn: &arn, ClientID: aws.String("sigstore")})
	awstest.Call(t, c.AddClientIDToOpenIDConnectProvider, &iam.AddClientIDToOpenIDConnectProviderInput{
		OpenIDConnectProviderArn: &arn, ClientID: aws.String("sigstore")}) // already there: no change
	awstest.Call(t, c.RemoveClientIDFromOpenIDConnectProvider, &iam.RemoveClientIDFromOpenIDConnectProviderInput{
		OpenIDConnectProviderArn: &arn, ClientID: aws.String("sts.amazonaws.com")})
	newThumbprint := strings.Repeat("ab", 20)
	awstest.Call(t, c.UpdateOpenIDConnectProviderThumbprint, &iam.UpdateOpenIDConnectProviderThumbprintInput{
		OpenIDConnectProviderArn: &arn, ThumbprintList: []string{newThumbprint}})
	awstest.Call(t, c.TagOpenIDConnectProvider, &iam.TagOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn,
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}})
	awstest.Call(t, c.UntagOpenIDConnectProvider, &iam.UntagOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn,
		TagKeys: []string{"TEAM"}})

	got := awstest.Call(t, c.GetOpenIDConnectProvider, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn})
	want := &iam.GetOpenIDConnectProviderOutput{Url: aws.String("token.actions.githubusercontent.com"),
		ClientIDList: []string{"sigstore"}, ThumbprintList: []string{newThumbprint},
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(iam.GetOpenIDConnectProviderOutput{}, types.Tag{}),
		cmpopts.IgnoreFields(iam.GetOpenIDConnectProviderOutput{}, "CreateDate", "ResultMetadata")); diff != "" {
		t.Errorf("GetOpenIDConnectProvider (-want +got):\n%s", diff)
	}
	if got.CreateDate == nil {
		t.Error("GetOpenIDConnectProvider: no CreateDate")
	}
	tags := awstest.Call(t, c.ListOpenIDConnectProviderTags, &iam.ListOpenIDConnectProviderTagsInput{OpenIDConnectProviderArn: &arn})
	if got := awstest.Strings(tags.Tags, func(t types.Tag) *string { return t.Key }); !cmp.Equal(got, []string{"env"}) {
		t.Errorf("ListOpenIDConnectProviderTags: got keys %q, want [env]", got)
	}

	list := awstest.Call(t, c.ListOpenIDConnectProviders, &iam.ListOpenIDConnectProvidersInput{})
	arns := awstest.Strings(list.OpenIDConnectProviderList, func(e types.OpenIDConnectProviderListEntry) *string { return e.Arn })
	wantARNs := []string{"arn:aws:iam::000000000000:oidc-provider/login.example.com/tenant", arn}
	if !cmp.Equal(arns, wantARNs) {
		t.Errorf("ListOpenIDConnectProviders: got %q, want %q", arns, wantARNs)
	}

	if _, err := c.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn}); err != nil {
		t.Fatal(err)
	}
	_, err := c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn})
	awstest.WantAPIError(t, err, awstest.NotFound("NoSuchEntity", "OpenIDConnect Provider not found for arn "+arn))
	// Deleting is idempotent, as DeleteOpenIDConnectProvider's reference says.
	if _, err := c.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn}); err != nil {
		t.Errorf("deleting a deleted provider: %v", err)
	}
}

func TestOpenIDConnectProviderErrors(t *testing.T) {
	c, _ := start(t)
	const url = "https://oidc.example.com"
	arn := aws.ToString(awstest.Call(t, c.CreateOpenIDConnectProvider, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String(url), ClientIDList: []string{"a"}}).OpenIDConnectProviderArn)
	const missing = "arn:aws:iam::000000000000:oidc-provider/missing.example.com"
	var six []string
	for i := range 6 {
		six = append(six, strings.Repeat(string(rune('1'+i)), 40))
	}
	manyIDs := make([]string, 101)
	for i := range manyIDs {
		manyIDs[i] = strings.Repeat("x", i+1)
	}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "Create: taken", Call: awstest.Fails(c.CreateOpenIDConnectProvider, &iam.CreateOpenIDConnectProviderInput{Url: aws.String(url + "/")}),
			Want: awstest.Conflict("EntityAlreadyExists", "Provider with url https://oidc.example.com already exists.")},
		{Name: "Create: not https", Call: awstest.Fails(c.CreateOpenIDConnectProvider, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("http://oidc.example.com")}),
			Want: awstest.BadRequest("ValidationError", "Invalid Open ID Connect Provider URL")},
		{Name: "Create: six thumbprints", Call: awstest.Fails(c.CreateOpenIDConnectProvider, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://six.example.com"),
			ThumbprintList: six}),
			Want: awstest.BadRequest("InvalidInput", "Thumbprint list must contain fewer than 5 entries.")},
		{Name: "Create: thumbprint not hex", Call: awstest.Fails(c.CreateOpenIDConnectProvider, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://hex.example.com"),
			ThumbprintList: []string{strings.Repeat("z", 40)}}),
			Want: awstest.BadRequest("InvalidInput", "")},
		{Name: "Create: 101 client IDs", Call: awstest.Fails(c.CreateOpenIDConnectProvider, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://many.example.com"),
			ClientIDList: manyIDs}),
			Want: awstest.Conflict("LimitExceeded", "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100")},
		{Name: "Get: missing", Call: awstest.Fails(c.GetOpenIDConnectProvider, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(missing)}),
			Want: awstest.NotFound("NoSuchEntity", "OpenIDConnect Provider not found for arn "+missing)},
		{Name: "Get: another account's", Call: awstest.Fails(c.GetOpenIDConnectProvider, &iam.GetOpenIDConnectProviderInput{
			OpenIDConnectProviderArn: aws.String(strings.Replace(arn, "000000000000", "123456789012", 1))}),
			Want: awstest.NotFound("NoSuchEntity", "")},
		{Name: "AddClientID: missing", Call: awstest.Fails(c.AddClientIDToOpenIDConnectProvider, &iam.AddClientIDToOpenIDConnectProviderInput{
			OpenIDConnectProviderArn: aws.String(missing), ClientID: aws.String("x")}),
			Want: awstest.NotFound("NoSuchEntity", missing)},
		{Name: "UpdateThumbprint: six", Call: awstest.Fails(c.UpdateOpenIDConnectProviderThumbprint, &iam.UpdateOpenIDConnectProviderThumbprintInput{
			OpenIDConnectProviderArn: aws.String(arn), ThumbprintList: six}),
			Want: awstest.BadRequest("InvalidInput", "Thumbprint list must contain fewer than 5 entries.")},
	})
}
