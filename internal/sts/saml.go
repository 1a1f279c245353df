package sts

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	api "overcast/internal/api/sts"
	"overcast/internal/awsproto"
	"overcast/internal/policy"
	"overcast/internal/saml"
)

// SAMLProvider is an IAM SAML provider.
type SAMLProvider struct {
	ARN, Name string
	// Metadata is the IdP's metadata document, with its signing
	// certificates.
	Metadata   string
	ValidUntil time.Time
}

// AWS's SAML attributes and the audience its assertions must name.
const (
	samlAudience       = "https://signin.aws.amazon.com/saml"
	roleAttribute      = "https://aws.amazon.com/SAML/Attributes/Role"
	sessionNameAttr    = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
	sessionDurationAtt = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
)

// AssumeRoleWithSAML issues credentials for a role to the bearer of a SAML
// response: signed by the IdP of the IAM SAML provider PrincipalArn names,
// for AWS's audience, current, with a Role attribute pairing the role with
// that provider, and allowed by the role's trust policy (Principal
// Federated, the saml: condition keys). As for web identities, the trust
// policy is enforced in every mode.
func (s *Service) AssumeRoleWithSAML(ctx context.Context, in *api.AssumeRoleWithSAMLRequest) (*api.AssumeRoleWithSAMLResponse, error) {
	if err := checkPolicy(in.Policy); err != nil {
		return nil, err
	}
	role, err := s.dir.RoleByARN(ctx, *in.RoleArn)
	if err != nil {
		if _, ok := awsproto.AsAPIError(err); ok {
			return nil, notAuthorizedSAML()
		}
		return nil, err
	}
	provider, a, err := s.verifySAML(ctx, *in.PrincipalArn, *in.SAMLAssertion)
	if err != nil {
		return nil, err
	}
	if !namesRole(a.Attributes[roleAttribute], role.ARN, provider.ARN) {
		return nil, notAuthorizedSAML()
	}
	names := a.Attributes[sessionNameAttr]
	if len(names) != 1 || !validSessionName(names[0]) {
		return nil, api.NewInvalidIdentityTokenException("The SAML assertion must contain one valid %s attribute.", sessionNameAttr)
	}
	requested := in.DurationSeconds
	if requested == nil && len(a.Attributes[sessionDurationAtt]) == 1 {
		if n, err := strconv.ParseInt(a.Attributes[sessionDurationAtt][0], 10, 32); err == nil {
			requested = new(int32(n))
		}
	}
	d, err := roleSessionLength(role, requested, false)
	if err != nil {
		return nil, err
	}
	subjectType := samlSubjectType(a.SubjectFormat)
	qualifier := nameQualifier(a.Issuer, role.AccountID, provider.Name)
	conditions := map[string][]string{
		"saml:aud": {samlAudience}, "saml:iss": {a.Issuer}, "saml:sub": {a.Subject},
		"saml:sub_type": {subjectType}, "saml:namequalifier": {qualifier}, "sts:RoleSessionName": names,
	}
	r := policy.Request{Principal: policy.Principal{Federated: provider.ARN}, Action: "sts:AssumeRoleWithSAML",
		Resource: role.ARN, Context: conditions}
	if !allows(role.AssumeRolePolicyDocument, r) {
		return nil, notAuthorizedSAML()
	}
	creds, assumedARN, assumedID, err := s.assumeCapped(ctx, role, names[0], d, policiesOf(in.Policy, in.PolicyArns))
	if err != nil {
		return nil, err
	}
	out := &api.AssumeRoleWithSAMLResponse{Credentials: creds,
		AssumedRoleUser: &api.AssumedRoleUser{AssumedRoleId: &assumedID, Arn: &assumedARN},
		Subject:         new(a.Subject), SubjectType: &subjectType, Issuer: new(a.Issuer),
		Audience: new(samlAudience), NameQualifier: &qualifier}
	if size := packedSize(in.Policy, len(in.PolicyArns), 0); size > 0 {
		out.PackedPolicySize = &size
	}
	return out, nil
}

// verifySAML finds the provider and verifies the response with its IdP's
// certificates.
func (s *Service) verifySAML(ctx context.Context, providerARN, response string) (SAMLProvider, *saml.Assertion, error) {
	var provider SAMLProvider
	err := errors.New("no identity providers")
	if s.providers != nil {
		provider, err = s.providers.SAMLProvider(ctx, providerARN)
	}
	if err != nil {
		if _, ok := awsproto.AsAPIError(err); ok || s.providers == nil {
			return SAMLProvider{}, nil, api.NewInvalidIdentityTokenException("Specified provider doesn't exist.")
		}
		return SAMLProvider{}, nil, err
	}
	now := s.Now().UTC()
	if !provider.ValidUntil.IsZero() && !now.Before(provider.ValidUntil) {
		return SAMLProvider{}, nil, api.NewInvalidIdentityTokenException("The SAML provider's metadata has expired.")
	}
	md, err := saml.ParseMetadata(provider.Metadata)
	if err != nil {
		return SAMLProvider{}, nil, api.NewInvalidIdentityTokenException("The SAML provider's metadata could not be read.")
	}
	a, err := saml.ParseResponse(response, saml.Options{Certificates: md.Certificates, Now: now, Audience: samlAudience})
	switch {
	case errors.Is(err, saml.ErrExpired):
		return SAMLProvider{}, nil, api.NewExpiredTokenException("Token expired: the SAML assertion is no longer valid")
	case errors.Is(err, saml.ErrSignature):
		return SAMLProvider{}, nil, api.NewInvalidIdentityTokenException("Response signature invalid")
	case errors.Is(err, saml.ErrBadAudience):
		return SAMLProvider{}, nil, api.NewInvalidIdentityTokenException("Audience restriction does not name %s", samlAudience)
	case errors.Is(err, saml.ErrFailedStatus):
		return SAMLProvider{}, nil, api.NewIDPRejectedClaimException("The SAML response reports that authentication failed")
	case err != nil:
		return SAMLProvider{}, nil, api.NewInvalidIdentityTokenException("Invalid SAML response")
	}
	if a.Issuer != md.EntityID {
		return SAMLProvider{}, nil, api.NewInvalidIdentityTokenException("Issuer %s does not match the provider's metadata", a.Issuer)
	}
	return provider, a, nil
}

// namesRole reports whether a Role attribute pairs role with provider:
// each value is "<role ARN>,<provider ARN>", in either order.
func namesRole(values []string, role, provider string) bool {
	for _, v := range values {
		a, b, ok := strings.Cut(v, ",")
		a, b = strings.TrimSpace(a), strings.TrimSpace(b)
		if ok && (a == role && b == provider || a == provider && b == role) {
			return true
		}
	}
	return false
}

// samlSubjectType is saml:sub_type: persistent or transient for those
// NameID formats, the format's URI for any other.
func samlSubjectType(format string) string {
	switch format {
	case "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent":
		return "persistent"
	case "urn:oasis:names:tc:SAML:2.0:nameid-format:transient":
		return "transient"
	}
	return format
}

// nameQualifier is saml:namequalifier as AWS documents it:
// base64(SHA1(issuer + account ID + "/" + provider name)).
func nameQualifier(issuer, account, provider string) string {
	sum := sha1.Sum([]byte(issuer + account + "/" + provider))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// validSessionName is AWS's rule for role session names: 2 to 64 of
// letters, digits and =,.@-_.
func validSessionName(s string) bool {
	if len(s) < 2 || len(s) > 64 {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789=,.@-_") == ""
}

func notAuthorizedSAML() error { return notAuthorizedFederated("sts:AssumeRoleWithSAML") }
