package cloudfront_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
)

func cachePolicyConfig(name string, min, def, max int64) *types.CachePolicyConfig {
	return &types.CachePolicyConfig{Name: aws.String(name), MinTTL: aws.Int64(min), DefaultTTL: aws.Int64(def), MaxTTL: aws.Int64(max),
		ParametersInCacheKeyAndForwardedToOrigin: &types.ParametersInCacheKeyAndForwardedToOrigin{
			EnableAcceptEncodingGzip: aws.Bool(true),
			HeadersConfig:            &types.CachePolicyHeadersConfig{HeaderBehavior: types.CachePolicyHeaderBehaviorNone},
			CookiesConfig:            &types.CachePolicyCookiesConfig{CookieBehavior: types.CachePolicyCookieBehaviorNone},
			QueryStringsConfig:       &types.CachePolicyQueryStringsConfig{QueryStringBehavior: types.CachePolicyQueryStringBehaviorAll},
		}}
}

func TestManagedPolicies(t *testing.T) {
	c := newClient(t)
	got := awstest.Call(t, c.GetCachePolicy, &cloudfront.GetCachePolicyInput{Id: aws.String(cachingOptimized)})
	cfg := got.CachePolicy.CachePolicyConfig
	if aws.ToString(cfg.Name) != "Managed-CachingOptimized" || aws.ToInt64(cfg.MinTTL) != 1 || aws.ToInt64(cfg.DefaultTTL) != 86400 || aws.ToInt64(cfg.MaxTTL) != 31536000 {
		t.Errorf("got CachingOptimized %s min %d default %d max %d, want Managed-CachingOptimized 1/86400/31536000",
			aws.ToString(cfg.Name), aws.ToInt64(cfg.MinTTL), aws.ToInt64(cfg.DefaultTTL), aws.ToInt64(cfg.MaxTTL))
	}
	managed := awstest.Call(t, c.ListCachePolicies, &cloudfront.ListCachePoliciesInput{Type: types.CachePolicyTypeManaged})
	if n := aws.ToInt32(managed.CachePolicyList.Quantity); n < 5 {
		t.Errorf("got %d managed cache policies, want AWS's (at least 5)", n)
	}
	awstest.Call(t, c.GetOriginRequestPolicy, &cloudfront.GetOriginRequestPolicyInput{Id: aws.String("b689b0a8-53d0-40ab-baf2-68738e2966ac")})
	awstest.Call(t, c.GetResponseHeadersPolicy, &cloudfront.GetResponseHeadersPolicyInput{Id: aws.String("60669652-455b-4ae9-85a4-c4c02393f86c")})
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "update managed", Call: awstest.Fails(c.UpdateCachePolicy, &cloudfront.UpdateCachePolicyInput{Id: aws.String(cachingOptimized),
			IfMatch: got.ETag, CachePolicyConfig: cachePolicyConfig("x", 0, 0, 0)}), Want: awstest.BadRequest("IllegalUpdate", "")},
		{Name: "delete managed", Call: awstest.Fails(c.DeleteCachePolicy, &cloudfront.DeleteCachePolicyInput{Id: aws.String(cachingOptimized),
			IfMatch: got.ETag}), Want: awstest.BadRequest("IllegalDelete", "")},
	})
}

func TestCachePolicyLifecycle(t *testing.T) {
	c := newClient(t)
	created := awstest.Call(t, c.CreateCachePolicy, &cloudfront.CreateCachePolicyInput{CachePolicyConfig: cachePolicyConfig("mine", 0, 60, 600)})
	id := created.CachePolicy.Id
	custom := awstest.Call(t, c.ListCachePolicies, &cloudfront.ListCachePoliciesInput{Type: types.CachePolicyTypeCustom})
	if n := aws.ToInt32(custom.CachePolicyList.Quantity); n != 1 {
		t.Errorf("got %d custom cache policies, want 1", n)
	}
	updated := awstest.Call(t, c.UpdateCachePolicy, &cloudfront.UpdateCachePolicyInput{Id: id, IfMatch: created.ETag,
		CachePolicyConfig: cachePolicyConfig("mine", 0, 120, 600)})
	cfg := config("uses-policy")
	cfg.DefaultCacheBehavior.CachePolicyId = id
	d := create(t, c, cfg)

	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "same name", Call: awstest.Fails(c.CreateCachePolicy, &cloudfront.CreateCachePolicyInput{
			CachePolicyConfig: cachePolicyConfig("mine", 0, 0, 0)}), Want: awstest.Conflict("CachePolicyAlreadyExists", "")},
		{Name: "TTL order", Call: awstest.Fails(c.CreateCachePolicy, &cloudfront.CreateCachePolicyInput{
			CachePolicyConfig: cachePolicyConfig("bad", 10, 5, 600)}), Want: awstest.BadRequest("InvalidTTLOrder", "")},
		{Name: "stale If-Match", Call: awstest.Fails(c.UpdateCachePolicy, &cloudfront.UpdateCachePolicyInput{Id: id, IfMatch: created.ETag,
			CachePolicyConfig: cachePolicyConfig("mine", 0, 1, 600)}), Want: awstest.APIError{Code: "PreconditionFailed", Status: 412}},
		{Name: "in use", Call: awstest.Fails(c.DeleteCachePolicy, &cloudfront.DeleteCachePolicyInput{Id: id, IfMatch: updated.ETag}),
			Want: awstest.Conflict("CachePolicyInUse", "")},
		{Name: "no such policy", Call: awstest.Fails(c.GetCachePolicy, &cloudfront.GetCachePolicyInput{Id: aws.String("nope")}),
			Want: awstest.NotFound("NoSuchCachePolicy", "")},
	})

	using := awstest.Call(t, c.ListDistributionsByCachePolicyId, &cloudfront.ListDistributionsByCachePolicyIdInput{CachePolicyId: id})
	if diff := cmp.Diff(using.DistributionIdList.Items, []string{aws.ToString(d.Distribution.Id)}); diff != "" {
		t.Errorf("ListDistributionsByCachePolicyId diff (-got +want):\n%s", diff)
	}
	cfg.DefaultCacheBehavior.CachePolicyId = aws.String(cachingOptimized)
	awstest.Call(t, c.UpdateDistribution, &cloudfront.UpdateDistributionInput{Id: d.Distribution.Id, IfMatch: d.ETag, DistributionConfig: cfg})
	awstest.Call(t, c.DeleteCachePolicy, &cloudfront.DeleteCachePolicyInput{Id: id, IfMatch: updated.ETag})
}

// createOAC creates an origin access control for S3 origins that signs
// always.
func createOAC(t *testing.T, c *cloudfront.Client, name string) *cloudfront.CreateOriginAccessControlOutput {
	t.Helper()
	return awstest.Call(t, c.CreateOriginAccessControl, &cloudfront.CreateOriginAccessControlInput{OriginAccessControlConfig: &types.OriginAccessControlConfig{
		Name: aws.String(name), SigningProtocol: types.OriginAccessControlSigningProtocolsSigv4,
		SigningBehavior: types.OriginAccessControlSigningBehaviorsAlways, OriginAccessControlOriginType: types.OriginAccessControlOriginTypesS3,
	}})
}

func TestOriginAccess(t *testing.T) {
	c := newClient(t)
	oac := createOAC(t, c, "s3")
	cfg := config("oac")
	cfg.Origins.Items[0] = types.Origin{Id: aws.String("web"), DomainName: aws.String("bucket.s3.localhost"),
		S3OriginConfig: &types.S3OriginConfig{OriginAccessIdentity: aws.String("")}, OriginAccessControlId: oac.OriginAccessControl.Id}
	create(t, c, cfg)
	custom := config("oac-on-custom")
	custom.Origins.Items[0].OriginAccessControlId = oac.OriginAccessControl.Id
	_, err := c.CreateDistribution(ctx, &cloudfront.CreateDistributionInput{DistributionConfig: custom})
	awstest.WantAPIError(t, err, awstest.BadRequest("IllegalOriginAccessConfiguration", ""))
	_, err = c.DeleteOriginAccessControl(ctx, &cloudfront.DeleteOriginAccessControlInput{Id: oac.OriginAccessControl.Id, IfMatch: oac.ETag})
	awstest.WantAPIError(t, err, awstest.Conflict("OriginAccessControlInUse", ""))
	list := awstest.Call(t, c.ListOriginAccessControls, &cloudfront.ListOriginAccessControlsInput{})
	if n := aws.ToInt32(list.OriginAccessControlList.Quantity); n != 1 {
		t.Errorf("got %d origin access controls, want 1", n)
	}

	oai := awstest.Call(t, c.CreateCloudFrontOriginAccessIdentity, &cloudfront.CreateCloudFrontOriginAccessIdentityInput{
		CloudFrontOriginAccessIdentityConfig: &types.CloudFrontOriginAccessIdentityConfig{CallerReference: aws.String("oai"), Comment: aws.String("c")}})
	if len(aws.ToString(oai.CloudFrontOriginAccessIdentity.S3CanonicalUserId)) != 96 {
		t.Errorf("got S3CanonicalUserId %q, want 96 hex digits", aws.ToString(oai.CloudFrontOriginAccessIdentity.S3CanonicalUserId))
	}
	_, err = c.UpdateCloudFrontOriginAccessIdentity(ctx, &cloudfront.UpdateCloudFrontOriginAccessIdentityInput{Id: oai.CloudFrontOriginAccessIdentity.Id,
		IfMatch: oai.ETag, CloudFrontOriginAccessIdentityConfig: &types.CloudFrontOriginAccessIdentityConfig{CallerReference: aws.String("other"), Comment: aws.String("c")}})
	awstest.WantAPIError(t, err, awstest.BadRequest("IllegalUpdate", ""))
	awstest.Call(t, c.DeleteCloudFrontOriginAccessIdentity, &cloudfront.DeleteCloudFrontOriginAccessIdentityInput{Id: oai.CloudFrontOriginAccessIdentity.Id, IfMatch: oai.ETag})
}

func publicKeyPEM(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func TestKeyGroups(t *testing.T) {
	c := newClient(t)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	smallKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	var ids []string
	for i, key := range []any{&rsaKey.PublicKey, &ecKey.PublicKey} {
		out := awstest.Call(t, c.CreatePublicKey, &cloudfront.CreatePublicKeyInput{PublicKeyConfig: &types.PublicKeyConfig{
			CallerReference: aws.String(string(rune('a' + i))), Name: aws.String(string(rune('a' + i))), EncodedKey: aws.String(publicKeyPEM(t, key))}})
		ids = append(ids, aws.ToString(out.PublicKey.Id))
	}
	group := awstest.Call(t, c.CreateKeyGroup, &cloudfront.CreateKeyGroupInput{KeyGroupConfig: &types.KeyGroupConfig{Name: aws.String("signers"), Items: ids}})
	cfg := config("signed")
	cfg.DefaultCacheBehavior.TrustedKeyGroups = &types.TrustedKeyGroups{Enabled: aws.Bool(true), Quantity: aws.Int32(1), Items: []string{aws.ToString(group.KeyGroup.Id)}}
	d := create(t, c, cfg)
	active := d.Distribution.ActiveTrustedKeyGroups
	if !aws.ToBool(active.Enabled) || aws.ToInt32(active.Quantity) != 1 {
		t.Fatalf("got ActiveTrustedKeyGroups enabled %v quantity %d, want the one key group", aws.ToBool(active.Enabled), aws.ToInt32(active.Quantity))
	}
	if diff := cmp.Diff(active.Items[0].KeyPairIds.Items, ids); diff != "" {
		t.Errorf("ActiveTrustedKeyGroups key pair IDs diff (-got +want):\n%s", diff)
	}
	key := awstest.Call(t, c.GetPublicKey, &cloudfront.GetPublicKeyInput{Id: aws.String(ids[0])})
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "RSA 1024", Call: awstest.Fails(c.CreatePublicKey, &cloudfront.CreatePublicKeyInput{PublicKeyConfig: &types.PublicKeyConfig{
			CallerReference: aws.String("small"), Name: aws.String("small"), EncodedKey: aws.String(publicKeyPEM(t, &smallKey.PublicKey))}}),
			Want: awstest.BadRequest("InvalidArgument", "EncodedKey")},
		{Name: "not PEM", Call: awstest.Fails(c.CreatePublicKey, &cloudfront.CreatePublicKeyInput{PublicKeyConfig: &types.PublicKeyConfig{
			CallerReference: aws.String("junk"), Name: aws.String("junk"), EncodedKey: aws.String("junk")}}),
			Want: awstest.BadRequest("InvalidArgument", "EncodedKey")},
		{Name: "key in a group", Call: awstest.Fails(c.DeletePublicKey, &cloudfront.DeletePublicKeyInput{Id: aws.String(ids[0]), IfMatch: key.ETag}),
			Want: awstest.Conflict("PublicKeyInUse", "")},
		{Name: "group in use", Call: awstest.Fails(c.DeleteKeyGroup, &cloudfront.DeleteKeyGroupInput{Id: group.KeyGroup.Id, IfMatch: group.ETag}),
			Want: awstest.Conflict("ResourceInUse", "")},
		{Name: "unknown key", Call: awstest.Fails(c.CreateKeyGroup, &cloudfront.CreateKeyGroupInput{KeyGroupConfig: &types.KeyGroupConfig{
			Name: aws.String("other"), Items: []string{"K0000000000000"}}}), Want: awstest.NotFound("NoSuchPublicKey", "")},
		{Name: "unknown trusted key group", Call: awstest.Fails(c.CreateDistribution, &cloudfront.CreateDistributionInput{DistributionConfig: func() *types.DistributionConfig {
			cfg := config("unknown-group")
			cfg.DefaultCacheBehavior.TrustedKeyGroups = &types.TrustedKeyGroups{Enabled: aws.Bool(true), Quantity: aws.Int32(1), Items: []string{"nope"}}
			return cfg
		}()}), Want: awstest.BadRequest("TrustedKeyGroupDoesNotExist", "")},
	})
}
