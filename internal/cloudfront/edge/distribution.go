// Package edge is CloudFront's data plane: the points of presence that
// answer viewers at a distribution's domain name, match its cache
// behaviours, fetch from its origins and cache what CloudFront would.
//
// The control plane (package cloudfront) owns the configuration; it hands
// the edge a Distribution each time a configuration is deployed, with every
// policy, key group and function it names already resolved, so that the
// edge never reads the store on a viewer's request.
package edge

import api "overcast/internal/api/cloudfront"

// Distribution is one distribution as the edge serves it.
type Distribution struct {
	ID         string
	ARN        string // arn:aws:cloudfront::<account>:distribution/<id>, what OAC signs as SourceArn
	Account    string
	DomainName string // <id>.cloudfront.localhost
	Config     *api.DistributionConfig

	// The policies the behaviours name, managed ones included, by ID.
	CachePolicies           map[string]*api.CachePolicyConfig
	OriginRequestPolicies   map[string]*api.OriginRequestPolicyConfig
	ResponseHeadersPolicies map[string]*api.ResponseHeadersPolicyConfig
	// OriginAccessControls are the OACs the origins name, by ID.
	OriginAccessControls map[string]*api.OriginAccessControlConfig
	// KeyGroups are the trusted key groups the behaviours name, by ID.
	KeyGroups map[string][]PublicKey
	// Signers are the key pairs of the trusted signers the behaviours
	// name, by the name they give ("self" or an account ID).
	Signers map[string][]PublicKey
	// Functions are the LIVE stage of the CloudFront Functions the
	// behaviours associate, by ARN.
	Functions map[string]Function
}

// PublicKey is a CloudFront public key: signed URLs and cookies name it by
// ID in Key-Pair-Id.
type PublicKey struct {
	ID  string
	PEM string // RSA 2048 or ECDSA P-256, PEM-encoded
}

// Function is the code of one stage of a CloudFront Function.
type Function struct {
	Name    string
	ARN     string
	Runtime string // cloudfront-js-1.0 or cloudfront-js-2.0
	Code    []byte
}
