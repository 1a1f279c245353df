package cloudfront

import "overcast/internal/authz"

// authzTable is how IAM authorizes CloudFront's operations (the Service
// Authorization Reference's "Amazon CloudFront"): on the distribution,
// function, policy, origin access identity or control a call names by ID
// (a function by name). Key groups and public keys are no resource of
// IAM's, and neither is what a List* call lists; what a Create* call makes
// is its type's ARN with the ID it does not have yet a wildcard.
var authzTable = &authz.Table{Prefix: "cloudfront", Rules: map[string]authz.Rule{
	"CreateDistribution":                   made("distribution"),
	"CreateDistributionWithTags":           made("distribution"),
	"CreateCachePolicy":                    made("cache-policy"),
	"CreateOriginRequestPolicy":            made("origin-request-policy"),
	"CreateResponseHeadersPolicy":          made("response-headers-policy"),
	"CreateCloudFrontOriginAccessIdentity": made("origin-access-identity"),
	"CreateOriginAccessControl":            made("origin-access-control"),

	"GetDistribution":       on("distribution", "Id"),
	"GetDistributionConfig": on("distribution", "Id"),
	"UpdateDistribution":    on("distribution", "Id"),
	"DeleteDistribution":    on("distribution", "Id"),
	"CreateInvalidation":    on("distribution", "DistributionId"),
	"GetInvalidation":       on("distribution", "DistributionId"),
	"ListInvalidations":     on("distribution", "DistributionId"),

	"CreateFunction":   on("function", "Name"),
	"DescribeFunction": on("function", "Name"),
	"GetFunction":      on("function", "Name"),
	"UpdateFunction":   on("function", "Name"),
	"PublishFunction":  on("function", "Name"),
	"TestFunction":     on("function", "Name"),
	"DeleteFunction":   on("function", "Name"),

	"GetCachePolicy":                 on("cache-policy", "Id"),
	"GetCachePolicyConfig":           on("cache-policy", "Id"),
	"UpdateCachePolicy":              on("cache-policy", "Id"),
	"DeleteCachePolicy":              on("cache-policy", "Id"),
	"GetOriginRequestPolicy":         on("origin-request-policy", "Id"),
	"GetOriginRequestPolicyConfig":   on("origin-request-policy", "Id"),
	"UpdateOriginRequestPolicy":      on("origin-request-policy", "Id"),
	"DeleteOriginRequestPolicy":      on("origin-request-policy", "Id"),
	"GetResponseHeadersPolicy":       on("response-headers-policy", "Id"),
	"GetResponseHeadersPolicyConfig": on("response-headers-policy", "Id"),
	"UpdateResponseHeadersPolicy":    on("response-headers-policy", "Id"),
	"DeleteResponseHeadersPolicy":    on("response-headers-policy", "Id"),

	"GetCloudFrontOriginAccessIdentity":       on("origin-access-identity", "Id"),
	"GetCloudFrontOriginAccessIdentityConfig": on("origin-access-identity", "Id"),
	"UpdateCloudFrontOriginAccessIdentity":    on("origin-access-identity", "Id"),
	"DeleteCloudFrontOriginAccessIdentity":    on("origin-access-identity", "Id"),
	"GetOriginAccessControl":                  on("origin-access-control", "Id"),
	"GetOriginAccessControlConfig":            on("origin-access-control", "Id"),
	"UpdateOriginAccessControl":               on("origin-access-control", "Id"),
	"DeleteOriginAccessControl":               on("origin-access-control", "Id"),

	"TagResource":         {Resources: authz.Ref("Resource", nil)},
	"UntagResource":       {Resources: authz.Ref("Resource", nil)},
	"ListTagsForResource": {Resources: authz.Ref("Resource", nil)},
}}

// on is the rule of the operations on the resource of a type an input's
// field names.
func on(resourceType, field string) authz.Rule {
	return authz.Rule{Resources: authz.Ref(field, func(s authz.Scope, id string) string {
		return resourceARN(s.AccountID, resourceType, id)
	})}
}

// made is the rule of the Create* operation of a resource type.
func made(resourceType string) authz.Rule {
	return authz.Rule{Resources: authz.Made(func(s authz.Scope) string { return resourceARN(s.AccountID, resourceType, "*") })}
}
