// Package policy is overcast's one model of AWS IAM policy documents: their
// grammar, with AWS's messages for its faults, and their evaluation.
//
// Every service that takes a policy uses it: IAM (identity and role trust
// policies), STS (trust decisions, session policies), S3 (bucket
// policies), ECR (repository policies) and Secrets Manager (secret
// policies). What stays in the service is what is the service's own: which
// action and resource a request maps to, which condition keys it carries,
// and which error code wraps a grammar fault (MalformedPolicyDocument,
// MalformedPolicy, InvalidParameterException...).
//
// # Use
//
// A service validates a document when a client stores it, and keeps the
// text:
//
//	doc, err := policy.Validate(text, policy.Identity)      // or RoleTrust
//	doc, err := policy.ValidateResource(text, policy.Scope{  // a service's resource policy
//		Vendor:   "s3",
//		Resource: func(pattern string) bool { ... },         // the bucket and its objects
//	})
//	var pe *policy.Error
//	if errors.As(err, &pe) { /* the service's code, pe.Message */ }
//
// and evaluates stored documents, parsed again (or cached), with Parse:
//
//	doc, err := policy.Parse(stored)
//	switch policy.Evaluate(policy.Request{
//		Principal: policy.PrincipalOf(caller),
//		Action:    "s3:GetObject",
//		Resource:  "arn:aws:s3:::bucket/key",
//		Context:   map[string][]string{"aws:SecureTransport": {"false"}},
//	}, doc) {
//	case policy.Denied:  // an explicit Deny: refused whatever else allows it
//	case policy.Allowed: // an Allow and no Deny
//	case policy.NoMatch: // the service's rule decides (S3: the owner's account may)
//	}
//
// # Why this shape
//
// Validation and parsing are two functions, not one, because they answer
// different callers. Validation runs once, when a document is stored, and
// must fail the way AWS fails: its checks run in AWS's order over the JSON
// as written (key case, element types, duplicate Sids), which the model no
// longer shows, so Validate works on the decoded JSON and only then builds
// the model. Evaluation runs on every request against documents that were
// validated already, so Parse is lenient and cheap to cache.
//
// The grammar is chosen by Kind because AWS has one grammar per kind of
// policy and words each one's faults differently: IAM's messages for
// identity and trust policies ("Syntax errors in policy."), S3's for
// resource policies ("Policy has invalid resource"). A Scope carries what a
// service adds to the resource grammar (its action vendor, the resources
// a policy attached to it may name) as data, so that the package knows no
// service.
//
// Evaluate takes any number of documents and decides them together
// (explicit Deny wins, then Allow) because that is how AWS combines the
// policies that apply to one request: identity policies, a resource
// policy, and later boundaries and session policies, each a Document. A
// caller that must tell them apart (a permissions boundary caps, rather
// than adds to, what identity policies allow) evaluates them separately
// and combines the Decisions. Evaluation keeps no state between calls and
// holds no globals, so documents can be shared across goroutines.
//
// # Semantics
//
// Explicit Deny wins over Allow; no matching statement is NoMatch. Actions
// match case-insensitively, resources and condition values
// case-sensitively, both with the wildcards * and ?. A statement without
// Principal applies to any principal (identity policies), one without
// Resource to any resource (trust and repository policies). An AWS
// principal matches by "*", account ID or account root ARN (every identity
// of the account), or exact ARN; a role's ARN also matches its sessions.
// Service principals match only Service entries. Condition keys are
// case-insensitive; a key missing from the request fails its condition,
// except that negated operators (StringNotEquals, NotIpAddress...) hold, as
// do ...IfExists and ForAllValues:, and Null tests for presence, as AWS
// documents. The keys about the principal (aws:PrincipalArn,
// aws:PrincipalAccount, aws:PrincipalType, aws:userid, aws:username,
// aws:PrincipalIsAWSService) are worked out from Request.Principal. Policy
// variables (${aws:username}) are expanded in Resource and condition values
// of documents of Version 2012-10-17.
package policy
