package cloudfront

import (
	"time"

	api "overcast/internal/api/cloudfront"
)

// The managed policies are AWS's, with AWS's IDs and settings, in every
// account (using-managed-cache-policies.html, using-managed-origin-request-
// policies.html, using-managed-response-headers-policies.html).

// managedSince is the LastModifiedTime the managed policies report.
var managedSince = time.Date(2020, 10, 1, 0, 0, 0, 0, time.UTC)

func managed[C any](configs map[string]*C) map[string]*record[C] {
	out := make(map[string]*record[C], len(configs))
	for id, c := range configs {
		out[id] = &record[C]{ID: id, Created: managedSince, Modified: managedSince, Config: c}
	}
	return out
}

// names is a Headers, CookieNames or QueryStringNames list.
func names(items ...string) (*int32, []string) { return new(int32(len(items))), items }

func headers(items ...string) *api.Headers {
	q, i := names(items...)
	return &api.Headers{Quantity: q, Items: i}
}

// cacheKey is the part of a cache policy that makes the cache key.
func cacheKey(gzip, brotli bool, headerBehavior string, hs []string, cookieBehavior, queryBehavior string, qs ...string) *api.ParametersInCacheKeyAndForwardedToOrigin {
	p := &api.ParametersInCacheKeyAndForwardedToOrigin{
		EnableAcceptEncodingGzip: new(gzip), EnableAcceptEncodingBrotli: new(brotli),
		HeadersConfig:      &api.CachePolicyHeadersConfig{HeaderBehavior: new(headerBehavior)},
		CookiesConfig:      &api.CachePolicyCookiesConfig{CookieBehavior: new(cookieBehavior)},
		QueryStringsConfig: &api.CachePolicyQueryStringsConfig{QueryStringBehavior: new(queryBehavior)},
	}
	if len(hs) > 0 {
		p.HeadersConfig.Headers = headers(hs...)
	}
	if len(qs) > 0 {
		q, i := names(qs...)
		p.QueryStringsConfig.QueryStrings = &api.QueryStringNames{Quantity: q, Items: i}
	}
	return p
}

func cachePolicy(name, comment string, min, def, max int64, key *api.ParametersInCacheKeyAndForwardedToOrigin) *api.CachePolicyConfig {
	return &api.CachePolicyConfig{Name: new(name), Comment: new(comment), MinTTL: new(min), DefaultTTL: new(def), MaxTTL: new(max),
		ParametersInCacheKeyAndForwardedToOrigin: key}
}

const year = 31536000

func managedCachePolicies() map[string]*record[api.CachePolicyConfig] {
	originHeaders := []string{"host", "origin", "x-http-method-override", "x-http-method", "x-method-override"}
	return managed(map[string]*api.CachePolicyConfig{
		"658327ea-f89d-4fab-a63d-7e88639e58f6": cachePolicy("Managed-CachingOptimized",
			"Policy with caching enabled. Supports Gzip and Brotli compression.", 1, 86400, year,
			cacheKey(true, true, "none", nil, "none", "none")),
		"b2884449-e4de-46a7-ac36-70bc7f1ddd6d": cachePolicy("Managed-CachingOptimizedForUncompressedObjects",
			"Default policy when compression is disabled", 1, 86400, year,
			cacheKey(false, false, "none", nil, "none", "none")),
		"4135ea2d-6df8-44a3-9df3-4b5a84be39ad": cachePolicy("Managed-CachingDisabled",
			"Policy with caching disabled", 0, 0, 0,
			cacheKey(false, false, "none", nil, "none", "none")),
		"08627262-05a9-4f76-9ded-b50ca2e3a84f": cachePolicy("Managed-Elemental-MediaPackage",
			"Policy for Elemental MediaPackage Origin", 0, 86400, year,
			cacheKey(true, false, "whitelist", []string{"origin"}, "none", "whitelist", "aws.manifestfilter", "start", "end", "m")),
		"2e54312d-136d-493c-8eb9-b001f22f67d2": cachePolicy("Managed-Amplify",
			"Policy for Amplify Origin", 2, 2, 600,
			cacheKey(true, true, "whitelist", []string{"Authorization", "CloudFront-Viewer-Country", "Host"}, "all", "all")),
		"83da9c7e-98b4-4e11-a168-04f0df8e2c65": cachePolicy("Managed-UseOriginCacheControlHeaders",
			"Policy for origins that return Cache-Control headers. Query strings are not included in the cache key.", 0, 0, year,
			cacheKey(true, true, "whitelist", originHeaders, "all", "none")),
		"4cc15a8a-d715-48a4-82b8-cc0b614638fe": cachePolicy("Managed-UseOriginCacheControlHeaders-QueryStrings",
			"Policy for origins that return Cache-Control headers and serve different content based on values present in the query string.", 0, 0, year,
			cacheKey(true, true, "whitelist", originHeaders, "all", "all")),
	})
}

func originRequestPolicy(name, comment, headerBehavior string, hs []string, cookieBehavior, queryBehavior string) *api.OriginRequestPolicyConfig {
	c := &api.OriginRequestPolicyConfig{Name: new(name), Comment: new(comment),
		HeadersConfig:      &api.OriginRequestPolicyHeadersConfig{HeaderBehavior: new(headerBehavior)},
		CookiesConfig:      &api.OriginRequestPolicyCookiesConfig{CookieBehavior: new(cookieBehavior)},
		QueryStringsConfig: &api.OriginRequestPolicyQueryStringsConfig{QueryStringBehavior: new(queryBehavior)},
	}
	if len(hs) > 0 {
		c.HeadersConfig.Headers = headers(hs...)
	}
	return c
}

func managedOriginRequestPolicies() map[string]*record[api.OriginRequestPolicyConfig] {
	viewerHeaders := []string{"CloudFront-Viewer-Address", "CloudFront-Viewer-ASN", "CloudFront-Viewer-City",
		"CloudFront-Viewer-Country", "CloudFront-Viewer-Country-Name", "CloudFront-Viewer-Country-Region",
		"CloudFront-Viewer-Country-Region-Name", "CloudFront-Viewer-Http-Version", "CloudFront-Viewer-Latitude",
		"CloudFront-Viewer-Longitude", "CloudFront-Viewer-Metro-Code", "CloudFront-Viewer-Postal-Code",
		"CloudFront-Viewer-Time-Zone", "CloudFront-Viewer-TLS", "CloudFront-Forwarded-Proto", "CloudFront-Is-Android-Viewer",
		"CloudFront-Is-Desktop-Viewer", "CloudFront-Is-IOS-Viewer", "CloudFront-Is-Mobile-Viewer",
		"CloudFront-Is-SmartTV-Viewer", "CloudFront-Is-Tablet-Viewer", "CloudFront-Viewer-JA3-Fingerprint"}
	return managed(map[string]*api.OriginRequestPolicyConfig{
		"216adef6-5c7f-47e4-b989-5492eafa07d3": originRequestPolicy("Managed-AllViewer",
			"Policy to forward all parameters in viewer requests", "allViewer", nil, "all", "all"),
		"b689b0a8-53d0-40ab-baf2-68738e2966ac": originRequestPolicy("Managed-AllViewerExceptHostHeader",
			"Policy to forward all parameters in viewer requests except for the Host header", "allExcept", []string{"host"}, "all", "all"),
		"33f36d7e-f396-46d9-90e0-52428a34d9dc": originRequestPolicy("Managed-AllViewerAndCloudFrontHeaders-2022-06",
			"Policy to forward all parameters in viewer requests and all CloudFront headers", "allViewerAndWhitelistCloudFront", viewerHeaders, "all", "all"),
		"59781a5b-3903-41f3-afcb-af62929ccde1": originRequestPolicy("Managed-CORS-CustomOrigin",
			"Policy for custom origin with CORS", "whitelist", []string{"origin"}, "none", "none"),
		"88a5eaf4-2fd4-4709-b370-b4c650ea3fcf": originRequestPolicy("Managed-CORS-S3Origin",
			"Policy for S3 origin with CORS", "whitelist", []string{"origin", "access-control-request-headers", "access-control-request-method"}, "none", "none"),
		"775133bc-15f2-49f9-abea-afb2e0bf67d2": originRequestPolicy("Managed-Elemental-MediaTailor-PersonalizedManifests",
			"Policy for Elemental MediaTailor Personalized Manifests", "whitelist", []string{"origin", "access-control-request-headers", "x-forwarded-for", "access-control-request-method", "user-agent"}, "none", "all"),
		"acba4595-bd28-49b8-b9fe-13317c0390fa": originRequestPolicy("Managed-UserAgentRefererHeaders",
			"Policy to forward user-agent and referer headers to origin", "whitelist", []string{"user-agent", "referer"}, "none", "all"),
	})
}

func cors(preflight bool) *api.ResponseHeadersPolicyCorsConfig {
	methods := []string{"GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS"}
	if !preflight {
		methods = []string{"GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"}
	}
	c := &api.ResponseHeadersPolicyCorsConfig{
		AccessControlAllowOrigins:     &api.ResponseHeadersPolicyAccessControlAllowOrigins{Quantity: new(int32(1)), Items: []string{"*"}},
		AccessControlAllowHeaders:     &api.ResponseHeadersPolicyAccessControlAllowHeaders{Quantity: new(int32(1)), Items: []string{"*"}},
		AccessControlAllowMethods:     &api.ResponseHeadersPolicyAccessControlAllowMethods{Quantity: new(int32(len(methods))), Items: methods},
		AccessControlAllowCredentials: new(false), OriginOverride: new(false),
	}
	if preflight {
		c.AccessControlMaxAgeSec = new(int32(600))
		c.AccessControlExposeHeaders = &api.ResponseHeadersPolicyAccessControlExposeHeaders{Quantity: new(int32(1)), Items: []string{"*"}}
	}
	return c
}

func securityHeaders() *api.ResponseHeadersPolicySecurityHeadersConfig {
	return &api.ResponseHeadersPolicySecurityHeadersConfig{
		XSSProtection:           &api.ResponseHeadersPolicyXSSProtection{Override: new(false), Protection: new(true), ModeBlock: new(true)},
		FrameOptions:            &api.ResponseHeadersPolicyFrameOptions{Override: new(false), FrameOption: new("SAMEORIGIN")},
		ReferrerPolicy:          &api.ResponseHeadersPolicyReferrerPolicy{Override: new(false), ReferrerPolicy: new("strict-origin-when-cross-origin")},
		ContentTypeOptions:      &api.ResponseHeadersPolicyContentTypeOptions{Override: new(true)},
		StrictTransportSecurity: &api.ResponseHeadersPolicyStrictTransportSecurity{Override: new(false), AccessControlMaxAgeSec: new(int32(year))},
	}
}

func responseHeadersPolicy(name, comment string, c *api.ResponseHeadersPolicyCorsConfig, sec *api.ResponseHeadersPolicySecurityHeadersConfig) *api.ResponseHeadersPolicyConfig {
	return &api.ResponseHeadersPolicyConfig{Name: new(name), Comment: new(comment), CorsConfig: c, SecurityHeadersConfig: sec}
}

func managedResponseHeadersPolicies() map[string]*record[api.ResponseHeadersPolicyConfig] {
	return managed(map[string]*api.ResponseHeadersPolicyConfig{
		"60669652-455b-4ae9-85a4-c4c02393f86c": responseHeadersPolicy("Managed-SimpleCORS",
			"Allows all origins for simple CORS requests", cors(false), nil),
		"5cc3b908-e619-4b99-88e5-2cf7f45965bd": responseHeadersPolicy("Managed-CORS-With-Preflight",
			"Allows all origins for CORS requests, including preflight requests", cors(true), nil),
		"67f7725c-6f97-4210-82d7-5512b31e9d03": responseHeadersPolicy("Managed-SecurityHeadersPolicy",
			"Adds a set of security headers to every response", nil, securityHeaders()),
		"e61eb60c-9c35-4d20-a928-2b84e02af89c": responseHeadersPolicy("Managed-CORS-and-SecurityHeadersPolicy",
			"Allows all origins for simple CORS requests and adds security headers", cors(false), securityHeaders()),
		"eaab4381-ed33-4a86-88ca-d9558dc6cd63": responseHeadersPolicy("Managed-CORS-with-preflight-and-SecurityHeadersPolicy",
			"Allows all origins for CORS requests, including preflight requests, and adds security headers", cors(true), securityHeaders()),
	})
}
