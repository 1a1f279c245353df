package ecr_test

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
)

const keepTwoReleasesPolicy = `{"rules":[
  {"rulePriority":1,"description":"untagged after 7 days","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":7},"action":{"type":"expire"}},
  {"rulePriority":2,"description":"keep 2 releases","selection":{"tagStatus":"tagged","tagPatternList":["release-*"],"countType":"imageCountMoreThan","countNumber":2},"action":{"type":"expire"}}]}`

// TestLifecyclePolicies covers the policy operations, the preview, and the
// controller expiring images once the (injected) clock has moved on.
func TestLifecyclePolicies(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	e.createRepo("life")
	repo := aws.String("life")

	_, err := e.c.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: repo})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "LifecyclePolicyNotFoundException", Status: 400, Message: "Lifecycle policy does not exist for the repository with name 'life' in the registry with id '000000000000'"})
	_, err = e.c.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{RepositoryName: repo, LifecyclePolicyText: aws.String(`{"rules":[
		{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},
		{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["v"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`)})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Status: 400, Message: "rulePriority 1 is used by more than one rule"})
	// The model's minimum length of 100 comes first, as on AWS.
	_, err = e.c.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{RepositoryName: repo, LifecyclePolicyText: aws.String(`{"rules": 3}`)})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Status: 400, Message: "Invalid parameter at 'lifecyclePolicyText' failed to satisfy constraint: 'Member must have length greater than or equal to 100'"})
	_, err = e.c.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{RepositoryName: repo, LifecyclePolicyText: aws.String(`{"rules": 3}` + strings.Repeat(" ", 100))})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Status: 400, Message: "Lifecycle policy validation failure"})
	_, err = e.c.StartLifecyclePolicyPreview(ctx, &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: repo})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "LifecyclePolicyNotFoundException", Status: 400, Message: "life"})
	_, err = e.c.GetLifecyclePolicyPreview(ctx, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: repo})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "LifecyclePolicyPreviewNotFoundException", Status: 400, Message: "no dry run"})

	// Five releases, a day apart, then an untagged image; the oldest
	// release is re-tagged away so it is untagged too.
	var digests []string
	for i := range 5 {
		img := makeImage(randomBytes(50+i, byte(i)))
		e.mustPush("life", "release-"+string(rune('1'+i)), img)
		digests = append(digests, img.digest)
		e.clock.Advance(24 * time.Hour)
		e.auth = e.basicAuth(e.c) // docker logs in again each day
	}
	untagged := makeImage(randomBytes(99, 99))
	e.mustPush("life", untagged.digest, untagged)

	if _, err := e.c.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{RepositoryName: repo, LifecyclePolicyText: aws.String(keepTwoReleasesPolicy)}); err != nil {
		t.Fatal(err)
	}
	start, err := e.c.StartLifecyclePolicyPreview(ctx, &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: repo})
	if err != nil {
		t.Fatal(err)
	}
	if start.Status != types.LifecyclePolicyPreviewStatusInProgress || aws.ToString(start.LifecyclePolicyText) != keepTwoReleasesPolicy {
		t.Errorf("StartLifecyclePolicyPreview: got %+v", start)
	}
	pv, err := e.c.GetLifecyclePolicyPreview(ctx, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: repo})
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		Digest string
		Tags   []string
		Rule   int32
	}
	var got []result
	for _, r := range pv.PreviewResults {
		got = append(got, result{aws.ToString(r.ImageDigest), r.ImageTags, aws.ToInt32(r.AppliedRulePriority)})
		if r.Action.Type != types.ImageActionTypeExpire {
			t.Errorf("action: got %s", r.Action.Type)
		}
	}
	want := []result{{digests[0], []string{"release-1"}, 2}, {digests[1], []string{"release-2"}, 2}, {digests[2], []string{"release-3"}, 2}}
	if diff := cmp.Diff(want, got); diff != "" || pv.Status != types.LifecyclePolicyPreviewStatusComplete || aws.ToInt32(pv.Summary.ExpiringImageTotalCount) != 3 {
		t.Errorf("preview %s, %d expiring (-want +got):\n%s", pv.Status, aws.ToInt32(pv.Summary.ExpiringImageTotalCount), diff)
	}
	// A policy given to the preview is evaluated instead of the stored one.
	if _, err := e.c.StartLifecyclePolicyPreview(ctx, &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: repo, LifecyclePolicyText: aws.String(
		`{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}`)}); err != nil {
		t.Fatal(err)
	}
	pv, err = e.c.GetLifecyclePolicyPreview(ctx, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: repo})
	if err != nil || len(pv.PreviewResults) != 1 || aws.ToString(pv.PreviewResults[0].ImageDigest) != digests[0] {
		t.Errorf("preview of a given policy: got %+v, %v", pv, err)
	}

	// The controller applies the stored policy: the releases go now, the
	// untagged image once it is older than 7 days by the clock.
	remaining := func() []string {
		d, err := e.c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: repo})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, img := range d.ImageDetails {
			out = append(out, aws.ToString(img.ImageDigest))
		}
		sort.Strings(out)
		return out
	}
	sorted := func(s ...string) []string { sort.Strings(s); return s }
	e.clock.Advance(2 * time.Hour)
	awstest.WaitFor(t, "the releases to expire", func() bool { return cmp.Equal(remaining(), sorted(digests[3], digests[4], untagged.digest)) })
	e.clock.Advance(8 * 24 * time.Hour)
	awstest.WaitFor(t, "the untagged image to expire", func() bool { return cmp.Equal(remaining(), sorted(digests[3], digests[4])) })
	got2, err := e.c.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: repo})
	if err != nil || got2.LastEvaluatedAt == nil || !got2.LastEvaluatedAt.Equal(e.clock.Now()) {
		t.Errorf("GetLifecyclePolicy lastEvaluatedAt: got %+v, %v, want %v", got2, err, e.clock.Now())
	}
	if r := e.do(e.basicAuth(e.c), "GET", "/v2/life/manifests/release-1", nil); r.status != 404 {
		t.Errorf("expired image still pulls: %d", r.status)
	}
	del, err := e.c.DeleteLifecyclePolicy(ctx, &ecr.DeleteLifecyclePolicyInput{RepositoryName: repo})
	if err != nil || aws.ToString(del.LifecyclePolicyText) != keepTwoReleasesPolicy {
		t.Errorf("DeleteLifecyclePolicy: got %+v, %v", del, err)
	}
	_, err = e.c.DeleteLifecyclePolicy(ctx, &ecr.DeleteLifecyclePolicyInput{RepositoryName: repo})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "LifecyclePolicyNotFoundException", Status: 400, Message: "life"})
}
