package iam

import (
	"errors"
	"net/url"
	"strings"

	api "overcast/internal/api/iam"
	"overcast/internal/policy"
)

// Size quotas, in characters not counting white space (policy.Size), as
// IAM counts them.
const (
	managedPolicySizeQuota = 6144
	trustPolicySizeQuota   = 2048
	userInlineSizeQuota    = 2048
	groupInlineSizeQuota   = 5120
	roleInlineSizeQuota    = 10240
)

// checkPolicyDocument validates doc against kind's grammar (policy.Identity
// or policy.RoleTrust), as MalformedPolicyDocument with IAM's message.
func checkPolicyDocument(doc string, kind policy.Kind) error {
	_, err := policy.Validate(doc, kind)
	var pe *policy.Error
	if errors.As(err, &pe) {
		return api.NewMalformedPolicyDocumentException("%s", pe.Message)
	}
	return err
}

// documentRules are what a trust or managed policy document must satisfy:
// its grammar, and IAM's size quota by the name LimitExceeded gives it.
type documentRules struct {
	grammar   policy.Kind
	quotaName string
	quota     int
}

var (
	trustPolicyRules   = documentRules{policy.RoleTrust, "ACLSizePerRole", trustPolicySizeQuota}
	managedPolicyRules = documentRules{policy.Identity, "PolicySize", managedPolicySizeQuota}
)

func (r documentRules) check(doc string) error {
	if err := checkPolicyDocument(doc, r.grammar); err != nil {
		return err
	}
	if policy.Size(doc) > r.quota {
		return quotaExceeded(r.quotaName, r.quota)
	}
	return nil
}

// encodeDocument URL-encodes a policy document the way IAM returns one
// (RFC 3986: only unreserved characters stay; a space is %20, not "+").
// The aws CLI decodes it; SDK users call url.QueryUnescape.
func encodeDocument(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}
