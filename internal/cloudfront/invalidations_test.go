package cloudfront_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
)

func batch(ref string, paths ...string) *types.InvalidationBatch {
	return &types.InvalidationBatch{CallerReference: aws.String(ref), Paths: &types.Paths{Quantity: aws.Int32(int32(len(paths))), Items: paths}}
}

func TestInvalidations(t *testing.T) {
	c := newClient(t)
	id := create(t, c, config("inv")).Distribution.Id
	created := awstest.Call(t, c.CreateInvalidation, &cloudfront.CreateInvalidationInput{DistributionId: id, InvalidationBatch: batch("r1", "/index.html", "/img/*")})
	inv := created.Invalidation
	if aws.ToString(created.Location) == "" || len(aws.ToString(inv.Id)) != 14 || inv.CreateTime == nil {
		t.Errorf("got Location %q, ID %q, CreateTime %v; want all set", aws.ToString(created.Location), aws.ToString(inv.Id), inv.CreateTime)
	}
	awstest.WaitFor(t, "invalidation completed", func() bool {
		got := awstest.Call(t, c.GetInvalidation, &cloudfront.GetInvalidationInput{DistributionId: id, Id: inv.Id})
		return aws.ToString(got.Invalidation.Status) == "Completed"
	})
	again := awstest.Call(t, c.CreateInvalidation, &cloudfront.CreateInvalidationInput{DistributionId: id, InvalidationBatch: batch("r1", "/index.html", "/img/*")})
	if aws.ToString(again.Invalidation.Id) != aws.ToString(inv.Id) {
		t.Errorf("got invalidation %s for the same CallerReference and paths, want %s", aws.ToString(again.Invalidation.Id), aws.ToString(inv.Id))
	}
	second := awstest.Call(t, c.CreateInvalidation, &cloudfront.CreateInvalidationInput{DistributionId: id, InvalidationBatch: batch("r2", "/*")})
	list := awstest.Call(t, c.ListInvalidations, &cloudfront.ListInvalidationsInput{DistributionId: id})
	got := awstest.Strings(list.InvalidationList.Items, func(s types.InvalidationSummary) *string { return s.Id })
	if diff := cmp.Diff(got, []string{aws.ToString(second.Invalidation.Id), aws.ToString(inv.Id)}); diff != "" {
		t.Errorf("ListInvalidations, the most recent first: diff (-got +want):\n%s", diff)
	}

	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "same reference, other paths", Call: awstest.Fails(c.CreateInvalidation, &cloudfront.CreateInvalidationInput{
			DistributionId: id, InvalidationBatch: batch("r1", "/other")}), Want: awstest.Conflict("InvalidationBatchAlreadyExists", "")},
		{Name: "path without a slash", Call: awstest.Fails(c.CreateInvalidation, &cloudfront.CreateInvalidationInput{
			DistributionId: id, InvalidationBatch: batch("r3", "index.html")}), Want: awstest.BadRequest("InvalidArgument", "index.html")},
		{Name: "star not last", Call: awstest.Fails(c.CreateInvalidation, &cloudfront.CreateInvalidationInput{
			DistributionId: id, InvalidationBatch: batch("r4", "/a*/b")}), Want: awstest.BadRequest("InvalidArgument", "/a*/b")},
		{Name: "quantity mismatch", Call: awstest.Fails(c.CreateInvalidation, &cloudfront.CreateInvalidationInput{
			DistributionId: id, InvalidationBatch: &types.InvalidationBatch{CallerReference: aws.String("r5"),
				Paths: &types.Paths{Quantity: aws.Int32(3), Items: []string{"/a"}}}}), Want: awstest.BadRequest("InvalidArgument", "Quantity")},
		{Name: "no distribution", Call: awstest.Fails(c.CreateInvalidation, &cloudfront.CreateInvalidationInput{
			DistributionId: aws.String("E0000000000000"), InvalidationBatch: batch("r6", "/a")}), Want: awstest.NotFound("NoSuchDistribution", "")},
		{Name: "no invalidation", Call: awstest.Fails(c.GetInvalidation, &cloudfront.GetInvalidationInput{
			DistributionId: id, Id: aws.String("I0000000000000")}), Want: awstest.NotFound("NoSuchInvalidation", "")},
	})
}

func TestTags(t *testing.T) {
	c := newClient(t)
	created := awstest.Call(t, c.CreateDistributionWithTags, &cloudfront.CreateDistributionWithTagsInput{
		DistributionConfigWithTags: &types.DistributionConfigWithTags{DistributionConfig: config("tags"),
			Tags: &types.Tags{Items: []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}}}},
	})
	arn := created.Distribution.ARN
	awstest.Call(t, c.TagResource, &cloudfront.TagResourceInput{Resource: arn, Tags: &types.Tags{Items: []types.Tag{
		{Key: aws.String("team"), Value: aws.String("cdn")}, {Key: aws.String("env"), Value: aws.String("test")}}}})
	awstest.Call(t, c.UntagResource, &cloudfront.UntagResourceInput{Resource: arn, TagKeys: &types.TagKeys{Items: []string{"env"}}})
	got := awstest.Call(t, c.ListTagsForResource, &cloudfront.ListTagsForResourceInput{Resource: arn})
	want := map[string]string{"team": "cdn"}
	tags := map[string]string{}
	for _, tag := range got.Tags.Items {
		tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	if diff := cmp.Diff(tags, want); diff != "" {
		t.Errorf("tags diff (-got +want):\n%s", diff)
	}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "no such distribution", Call: awstest.Fails(c.ListTagsForResource, &cloudfront.ListTagsForResourceInput{
			Resource: aws.String("arn:aws:cloudfront::000000000000:distribution/E0000000000000")}), Want: awstest.NotFound("NoSuchResource", "")},
		{Name: "not an ARN", Call: awstest.Fails(c.ListTagsForResource, &cloudfront.ListTagsForResourceInput{
			Resource: aws.String("arn:aws:cloudfront::000000000000:bogus/x")}), Want: awstest.BadRequest("InvalidArgument", "")},
	})
}
