package cloudfront_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
)

var ctx = context.Background()

func newClient(t *testing.T) *cloudfront.Client {
	t.Helper()
	return cloudfront.NewFromConfig(awstest.Start(t).Config())
}

// config is a distribution with one custom origin and a default behaviour
// using the managed CachingOptimized policy.
func config(ref string) *types.DistributionConfig {
	return &types.DistributionConfig{
		CallerReference: aws.String(ref),
		Comment:         aws.String("test"),
		Enabled:         aws.Bool(true),
		Origins: &types.Origins{Quantity: aws.Int32(1), Items: []types.Origin{{
			Id: aws.String("web"), DomainName: aws.String("127.0.0.1"),
			CustomOriginConfig: &types.CustomOriginConfig{HTTPPort: aws.Int32(80), HTTPSPort: aws.Int32(443),
				OriginProtocolPolicy: types.OriginProtocolPolicyHttpOnly},
		}}},
		DefaultCacheBehavior: &types.DefaultCacheBehavior{
			TargetOriginId:       aws.String("web"),
			ViewerProtocolPolicy: types.ViewerProtocolPolicyAllowAll,
			CachePolicyId:        aws.String(cachingOptimized),
		},
	}
}

const cachingOptimized = "658327ea-f89d-4fab-a63d-7e88639e58f6"

func create(t *testing.T, c *cloudfront.Client, cfg *types.DistributionConfig) *cloudfront.CreateDistributionOutput {
	t.Helper()
	return awstest.Call(t, c.CreateDistribution, &cloudfront.CreateDistributionInput{DistributionConfig: cfg})
}

func waitDeployed(t *testing.T, c *cloudfront.Client, id string) *cloudfront.GetDistributionOutput {
	t.Helper()
	var out *cloudfront.GetDistributionOutput
	awstest.WaitFor(t, "distribution "+id+" deployed", func() bool {
		out = awstest.Call(t, c.GetDistribution, &cloudfront.GetDistributionInput{Id: &id})
		return aws.ToString(out.Distribution.Status) == "Deployed"
	})
	return out
}

func TestDistributionLifecycle(t *testing.T) {
	c := newClient(t)
	created := create(t, c, config("one"))
	d := created.Distribution
	id := aws.ToString(d.Id)
	if !regexp.MustCompile(`^E[A-Z0-9]{13}$`).MatchString(id) {
		t.Errorf("got ID %q, want E and 13 upper-case letters and digits", id)
	}
	if got, want := aws.ToString(d.DomainName), strings.ToLower(id)+".cloudfront.localhost"; got != want {
		t.Errorf("got DomainName %q, want %q", got, want)
	}
	if got, want := aws.ToString(d.ARN), "arn:aws:cloudfront::000000000000:distribution/"+id; got != want {
		t.Errorf("got ARN %q, want %q", got, want)
	}
	if !strings.HasSuffix(aws.ToString(created.Location), "/2020-05-31/distribution/"+id) {
		t.Errorf("got Location %q, want it to name the distribution", aws.ToString(created.Location))
	}
	if aws.ToString(created.ETag) == "" || d.LastModifiedTime == nil || aws.ToInt32(d.InProgressInvalidationBatches) != 0 {
		t.Errorf("got ETag %q, LastModifiedTime %v, InProgressInvalidationBatches %d; want an ETag, a time and 0",
			aws.ToString(created.ETag), d.LastModifiedTime, aws.ToInt32(d.InProgressInvalidationBatches))
	}

	got := waitDeployed(t, c, id)
	if aws.ToString(got.ETag) != aws.ToString(created.ETag) {
		t.Errorf("got ETag %q once deployed, want the creation's %q: deploying changes no configuration", aws.ToString(got.ETag), aws.ToString(created.ETag))
	}
	cfg := awstest.Call(t, c.GetDistributionConfig, &cloudfront.GetDistributionConfigInput{Id: &id})
	if diff := cmp.Diff(aws.ToString(cfg.DistributionConfig.Comment), "test"); diff != "" || aws.ToString(cfg.ETag) != aws.ToString(created.ETag) {
		t.Errorf("GetDistributionConfig: comment diff (-got +want):\n%s, ETag %q want %q", diff, aws.ToString(cfg.ETag), aws.ToString(created.ETag))
	}

	disabled := cfg.DistributionConfig
	disabled.Enabled = aws.Bool(false)
	_, err := c.DeleteDistribution(ctx, &cloudfront.DeleteDistributionInput{Id: &id, IfMatch: cfg.ETag})
	awstest.WantAPIError(t, err, awstest.Conflict("DistributionNotDisabled", ""))
	updated := awstest.Call(t, c.UpdateDistribution, &cloudfront.UpdateDistributionInput{Id: &id, IfMatch: cfg.ETag, DistributionConfig: disabled})
	if aws.ToString(updated.ETag) == aws.ToString(cfg.ETag) {
		t.Errorf("got the same ETag %q after an update, want a new one", aws.ToString(updated.ETag))
	}
	_, err = c.UpdateDistribution(ctx, &cloudfront.UpdateDistributionInput{Id: &id, IfMatch: cfg.ETag, DistributionConfig: disabled})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "PreconditionFailed", Status: 412})

	waitDeployed(t, c, id)
	_, err = c.DeleteDistribution(ctx, &cloudfront.DeleteDistributionInput{Id: &id})
	awstest.WantAPIError(t, err, awstest.BadRequest("InvalidIfMatchVersion", ""))
	awstest.Call(t, c.DeleteDistribution, &cloudfront.DeleteDistributionInput{Id: &id, IfMatch: updated.ETag})
	_, err = c.GetDistribution(ctx, &cloudfront.GetDistributionInput{Id: &id})
	awstest.WantAPIError(t, err, awstest.NotFound("NoSuchDistribution", ""))
}

func TestCallerReferenceReplay(t *testing.T) {
	c := newClient(t)
	first := create(t, c, config("same"))
	again := create(t, c, config("same"))
	if aws.ToString(again.Distribution.Id) != aws.ToString(first.Distribution.Id) {
		t.Errorf("got distribution %s for the same request, want the first one, %s", aws.ToString(again.Distribution.Id), aws.ToString(first.Distribution.Id))
	}
	other := config("same")
	other.Comment = aws.String("another")
	_, err := c.CreateDistribution(ctx, &cloudfront.CreateDistributionInput{DistributionConfig: other})
	awstest.WantAPIError(t, err, awstest.Conflict("DistributionAlreadyExists", aws.ToString(first.Distribution.Id)))
}

func TestListDistributionsPages(t *testing.T) {
	c := newClient(t)
	var want []string
	for _, ref := range []string{"a", "b", "c"} {
		want = append(want, aws.ToString(create(t, c, config(ref)).Distribution.Id))
	}
	var got []string
	p := cloudfront.NewListDistributionsPaginator(c, &cloudfront.ListDistributionsInput{MaxItems: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out := awstest.NextPage(t, p)
		pages++
		got = append(got, awstest.Strings(out.DistributionList.Items, func(s types.DistributionSummary) *string { return s.Id })...)
	}
	if diff := cmp.Diff(got, sorted(want)); diff != "" || pages != 2 {
		t.Errorf("listing by 2 took %d pages, want 2; IDs diff (-got +want):\n%s", pages, diff)
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func TestDistributionErrors(t *testing.T) {
	c := newClient(t)
	taken := config("taken")
	taken.Aliases = &types.Aliases{Quantity: aws.Int32(1), Items: []string{"www.taken.example"}}
	taken.ViewerCertificate = &types.ViewerCertificate{ACMCertificateArn: aws.String("arn:aws:acm:us-east-1:000000000000:certificate/x"),
		SSLSupportMethod: types.SSLSupportMethodSniOnly}
	d := create(t, c, taken).Distribution
	with := func(change func(cfg *types.DistributionConfig)) *cloudfront.CreateDistributionInput {
		cfg := config("bad")
		change(cfg)
		return &cloudfront.CreateDistributionInput{DistributionConfig: cfg}
	}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "no origins", Call: awstest.Fails(c.CreateDistribution, with(func(cfg *types.DistributionConfig) {
			cfg.Origins = &types.Origins{Quantity: aws.Int32(0), Items: []types.Origin{}}
		})), Want: awstest.BadRequest("InvalidArgument", "")},
		{Name: "quantity mismatch", Call: awstest.Fails(c.CreateDistribution, with(func(cfg *types.DistributionConfig) {
			cfg.Origins.Quantity = aws.Int32(2)
		})), Want: awstest.BadRequest("InvalidArgument", "Quantity")},
		{Name: "unknown target origin", Call: awstest.Fails(c.CreateDistribution, with(func(cfg *types.DistributionConfig) {
			cfg.DefaultCacheBehavior.TargetOriginId = aws.String("nowhere")
		})), Want: awstest.NotFound("NoSuchOrigin", "One or more of your origins or origin groups do not exist.")},
		{Name: "bad path pattern", Call: awstest.Fails(c.CreateDistribution, with(func(cfg *types.DistributionConfig) {
			cfg.CacheBehaviors = &types.CacheBehaviors{Quantity: aws.Int32(1), Items: []types.CacheBehavior{{
				PathPattern: aws.String("/a b<>"), TargetOriginId: aws.String("web"),
				ViewerProtocolPolicy: types.ViewerProtocolPolicyAllowAll, CachePolicyId: aws.String(cachingOptimized)}}}
		})), Want: awstest.BadRequest("InvalidArgument", "PathPattern")},
		{Name: "TTL order", Call: awstest.Fails(c.CreateDistribution, with(func(cfg *types.DistributionConfig) {
			cfg.DefaultCacheBehavior.CachePolicyId = nil
			cfg.DefaultCacheBehavior.ForwardedValues = &types.ForwardedValues{QueryString: aws.Bool(false),
				Cookies: &types.CookiePreference{Forward: types.ItemSelectionNone}}
			cfg.DefaultCacheBehavior.MinTTL, cfg.DefaultCacheBehavior.DefaultTTL = aws.Int64(100), aws.Int64(10)
		})), Want: awstest.BadRequest("InvalidTTLOrder", "MinTTL")},
		{Name: "unknown cache policy", Call: awstest.Fails(c.CreateDistribution, with(func(cfg *types.DistributionConfig) {
			cfg.DefaultCacheBehavior.CachePolicyId = aws.String("00000000-0000-0000-0000-000000000000")
		})), Want: awstest.NotFound("NoSuchCachePolicy", "")},
		{Name: "unknown origin access control", Call: awstest.Fails(c.CreateDistribution, with(func(cfg *types.DistributionConfig) {
			cfg.Origins.Items[0].OriginAccessControlId = aws.String("E0000000000000")
		})), Want: awstest.NotFound("NoSuchOriginAccessControl", "")},
		{Name: "aliases without a certificate", Call: awstest.Fails(c.CreateDistribution, with(func(cfg *types.DistributionConfig) {
			cfg.Aliases = &types.Aliases{Quantity: aws.Int32(1), Items: []string{"www.example.com"}}
		})), Want: awstest.BadRequest("InvalidViewerCertificate", "")},
		{Name: "alias of another distribution", Call: awstest.Fails(c.CreateDistribution, with(func(cfg *types.DistributionConfig) {
			cfg.Aliases = &types.Aliases{Quantity: aws.Int32(1), Items: []string{"WWW.taken.example"}}
			cfg.ViewerCertificate = &types.ViewerCertificate{ACMCertificateArn: aws.String("arn:aws:acm:us-east-1:000000000000:certificate/x"),
				SSLSupportMethod: types.SSLSupportMethodSniOnly}
		})), Want: awstest.Conflict("CNAMEAlreadyExists", "")},
		{Name: "unknown origin access identity", Call: awstest.Fails(c.CreateDistribution, with(func(cfg *types.DistributionConfig) {
			cfg.Origins.Items[0] = types.Origin{Id: aws.String("web"), DomainName: aws.String("b.s3.localhost"),
				S3OriginConfig: &types.S3OriginConfig{OriginAccessIdentity: aws.String("origin-access-identity/cloudfront/E0000000000000")}}
		})), Want: awstest.BadRequest("InvalidOriginAccessIdentity", "")},
		{Name: "origin group of unknown origins", Call: awstest.Fails(c.CreateDistribution, with(func(cfg *types.DistributionConfig) {
			cfg.OriginGroups = &types.OriginGroups{Quantity: aws.Int32(1), Items: []types.OriginGroup{{Id: aws.String("group"),
				FailoverCriteria: &types.OriginGroupFailoverCriteria{StatusCodes: &types.StatusCodes{Quantity: aws.Int32(1), Items: []int32{500}}},
				Members: &types.OriginGroupMembers{Quantity: aws.Int32(2), Items: []types.OriginGroupMember{
					{OriginId: aws.String("web")}, {OriginId: aws.String("missing")}}}}}}
		})), Want: awstest.BadRequest("InvalidArgument", "Members")},
		{Name: "custom error response for 200", Call: awstest.Fails(c.CreateDistribution, with(func(cfg *types.DistributionConfig) {
			cfg.CustomErrorResponses = &types.CustomErrorResponses{Quantity: aws.Int32(1), Items: []types.CustomErrorResponse{{ErrorCode: aws.Int32(200)}}}
		})), Want: awstest.BadRequest("InvalidErrorCode", "")},
		{Name: "error page without a slash", Call: awstest.Fails(c.CreateDistribution, with(func(cfg *types.DistributionConfig) {
			cfg.CustomErrorResponses = &types.CustomErrorResponses{Quantity: aws.Int32(1), Items: []types.CustomErrorResponse{{ErrorCode: aws.Int32(404),
				ResponsePagePath: aws.String("404.html"), ResponseCode: aws.String("404")}}}
		})), Want: awstest.BadRequest("InvalidRelativePath", "")},
		{Name: "read timeout", Call: awstest.Fails(c.CreateDistribution, with(func(cfg *types.DistributionConfig) {
			cfg.Origins.Items[0].CustomOriginConfig.OriginReadTimeout = aws.Int32(181)
		})), Want: awstest.BadRequest("InvalidOriginReadTimeout", "")},
		{Name: "geo restriction without countries", Call: awstest.Fails(c.CreateDistribution, with(func(cfg *types.DistributionConfig) {
			cfg.Restrictions = &types.Restrictions{GeoRestriction: &types.GeoRestriction{RestrictionType: types.GeoRestrictionTypeWhitelist, Quantity: aws.Int32(0)}}
		})), Want: awstest.BadRequest("InvalidGeoRestrictionParameter", "")},
		{Name: "bad country", Call: awstest.Fails(c.CreateDistribution, with(func(cfg *types.DistributionConfig) {
			cfg.Restrictions = &types.Restrictions{GeoRestriction: &types.GeoRestriction{RestrictionType: types.GeoRestrictionTypeBlacklist,
				Quantity: aws.Int32(1), Items: []string{"usa"}}}
		})), Want: awstest.BadRequest("InvalidLocationCode", "")},
		{Name: "changed caller reference", Call: awstest.Fails(c.UpdateDistribution, &cloudfront.UpdateDistributionInput{
			Id: d.Id, IfMatch: aws.String(etagOf(t, c, aws.ToString(d.Id))), DistributionConfig: config("changed"),
		}), Want: awstest.BadRequest("IllegalUpdate", "")},
		{Name: "update of no distribution", Call: awstest.Fails(c.UpdateDistribution, &cloudfront.UpdateDistributionInput{
			Id: aws.String("E0000000000000"), IfMatch: aws.String("E1"), DistributionConfig: config("x"),
		}), Want: awstest.NotFound("NoSuchDistribution", "")},
		{Name: "bad MaxItems", Call: awstest.Fails(c.ListDistributions, &cloudfront.ListDistributionsInput{MaxItems: aws.Int32(-1)}),
			Want: awstest.BadRequest("InvalidArgument", "MaxItems")},
	})
}

func etagOf(t *testing.T, c *cloudfront.Client, id string) string {
	t.Helper()
	return aws.ToString(awstest.Call(t, c.GetDistributionConfig, &cloudfront.GetDistributionConfigInput{Id: &id}).ETag)
}

// TestGlobalAcrossRegions: CloudFront is global, so a client signing for
// any region sees the account's distributions.
func TestGlobalAcrossRegions(t *testing.T) {
	srv := awstest.Start(t)
	c := cloudfront.NewFromConfig(srv.Config())
	id := create(t, c, config("global")).Distribution.Id
	other := srv.Config()
	other.Region = "eu-west-1"
	got := awstest.Call(t, cloudfront.NewFromConfig(other).GetDistribution, &cloudfront.GetDistributionInput{Id: id})
	if aws.ToString(got.Distribution.Id) != aws.ToString(id) {
		t.Errorf("got %s from eu-west-1, want %s", aws.ToString(got.Distribution.Id), aws.ToString(id))
	}
}
