package sts

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	api "overcast/internal/api/sts"
	"overcast/internal/awsproto"
	"overcast/internal/oidc"
	"overcast/internal/policy"
)

// Providers are the identity providers IAM keeps, as the federated
// AssumeRoleWith* operations need them.
type Providers interface {
	// OIDCProviderFor returns account's OpenID Connect provider for an
	// issuer URL (a token's iss), or an API error (NoSuchEntity).
	OIDCProviderFor(ctx context.Context, account, issuer string) (OIDCProvider, error)
	// SAMLProvider returns the SAML provider an ARN names, or an API
	// error (NoSuchEntity).
	SAMLProvider(ctx context.Context, arn string) (SAMLProvider, error)
}

// OIDCProvider is an IAM OpenID Connect provider.
type OIDCProvider struct {
	ARN string
	// Name is the issuer URL without https://: the prefix of the
	// condition keys the provider's tokens set (<name>:sub).
	Name      string
	ClientIDs []string
	Tags      map[string]string
}

// JWKSURITag is the provider tag that says where its keys are, for an
// issuer overcast cannot reach or that publishes no discovery document: an
// https, http or file URL of a JSON Web Key Set. Without it the keys are
// found as AWS finds them, through the issuer's
// /.well-known/openid-configuration.
const JWKSURITag = "overcast:jwks-uri"

// errKeyUnavailable is AWS's message when it cannot get the key that
// verifies a token, whatever the reason.
const errKeyUnavailable = "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements"

// AssumeRoleWithWebIdentity issues credentials for a role to the bearer of
// an OpenID Connect ID token: the token must be signed by a key of the
// issuer of an IAM OIDC provider in the role's account, be current, be
// for one of the provider's client IDs, and the role's trust policy must
// allow the provider (Principal Federated) with the token's claims as
// condition keys. The trust policy is enforced in every mode: the caller
// has no other identity to answer for, only the token.
func (s *Service) AssumeRoleWithWebIdentity(ctx context.Context, in *api.AssumeRoleWithWebIdentityRequest) (*api.AssumeRoleWithWebIdentityResponse, error) {
	if err := checkPolicy(in.Policy); err != nil {
		return nil, err
	}
	tok, err := oidc.Parse(*in.WebIdentityToken)
	if err != nil {
		return nil, api.NewInvalidIdentityTokenException("The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)")
	}
	role, err := s.dir.RoleByARN(ctx, *in.RoleArn)
	if err != nil {
		if _, ok := awsproto.AsAPIError(err); ok {
			return nil, notAuthorizedWebIdentity()
		}
		return nil, err
	}
	provider, aud, err := s.verifyWebIdentity(ctx, role.AccountID, tok)
	if err != nil {
		return nil, err
	}
	d, err := roleSessionLength(role, in.DurationSeconds, false)
	if err != nil {
		return nil, err
	}
	name := *in.RoleSessionName
	c := tok.Claims
	conditions := map[string][]string{
		provider.Name + ":aud": {aud},
		provider.Name + ":sub": {c.Subject},
		"sts:RoleSessionName":  {name},
	}
	if len(c.AMR) > 0 {
		conditions[provider.Name+":amr"] = c.AMR
	}
	r := policy.Request{Principal: policy.Principal{Federated: provider.ARN}, Action: "sts:AssumeRoleWithWebIdentity",
		Resource: role.ARN, Context: conditions}
	if !allows(role.AssumeRolePolicyDocument, r) {
		return nil, notAuthorizedWebIdentity()
	}
	creds, assumedARN, assumedID, err := s.assumeCapped(ctx, role, name, d, policiesOf(in.Policy, in.PolicyArns))
	if err != nil {
		return nil, err
	}
	out := &api.AssumeRoleWithWebIdentityResponse{Credentials: creds,
		AssumedRoleUser:             &api.AssumedRoleUser{AssumedRoleId: &assumedID, Arn: &assumedARN},
		SubjectFromWebIdentityToken: new(c.Subject), Provider: new(c.Issuer), Audience: &aud}
	if size := packedSize(in.Policy, len(in.PolicyArns), 0); size > 0 {
		out.PackedPolicySize = &size
	}
	return out, nil
}

// verifyWebIdentity checks tok against account's provider for its issuer
// and returns the provider and the client ID the token is for.
func (s *Service) verifyWebIdentity(ctx context.Context, account string, tok *oidc.Token) (OIDCProvider, string, error) {
	c := tok.Claims
	var provider OIDCProvider
	err := errors.New("no identity providers")
	if s.providers != nil && c.Issuer != "" {
		provider, err = s.providers.OIDCProviderFor(ctx, account, c.Issuer)
	}
	if err != nil {
		if _, ok := awsproto.AsAPIError(err); ok || s.providers == nil || c.Issuer == "" {
			return OIDCProvider{}, "", api.NewInvalidIdentityTokenException("No OpenIDConnect provider found in your account for %s", c.Issuer)
		}
		return OIDCProvider{}, "", err
	}
	key, err := s.keys.Key(ctx, c.Issuer, provider.Tags[JWKSURITag], tok.KeyID)
	switch {
	case errors.Is(err, oidc.ErrUnreachable):
		s.Logger.Warn("identity provider unreachable", "issuer", c.Issuer, "err", err)
		return OIDCProvider{}, "", api.NewIDPCommunicationErrorException(errKeyUnavailable)
	case err != nil:
		s.Logger.Warn("no key verifies the web identity token", "issuer", c.Issuer, "kid", tok.KeyID, "err", err)
		return OIDCProvider{}, "", api.NewInvalidIdentityTokenException(errKeyUnavailable)
	}
	if err := tok.Verify(key); err != nil {
		return OIDCProvider{}, "", api.NewInvalidIdentityTokenException("Invalid JWT signature")
	}
	now := s.Now().UTC()
	switch {
	case c.Expiry.IsZero():
		return OIDCProvider{}, "", api.NewInvalidIdentityTokenException("Missing required claim: exp")
	case !now.Before(c.Expiry):
		return OIDCProvider{}, "", api.NewExpiredTokenException("Token expired: current date/time %d must be before the expiration date/time %d",
			now.Unix(), c.Expiry.Unix())
	case !c.NotBefore.IsZero() && now.Before(c.NotBefore):
		return OIDCProvider{}, "", api.NewInvalidIdentityTokenException("Token is not yet valid: current date/time %d is before the not-before date/time %d",
			now.Unix(), c.NotBefore.Unix())
	case !c.IssuedAt.IsZero() && now.Add(maxIssuedAhead).Before(c.IssuedAt):
		return OIDCProvider{}, "", api.NewInvalidIdentityTokenException("Token was issued in the future")
	case c.Subject == "":
		return OIDCProvider{}, "", api.NewIDPRejectedClaimException("Missing required claim: sub")
	}
	aud, ok := audience(c, provider.ClientIDs)
	if !ok {
		return OIDCProvider{}, "", api.NewInvalidIdentityTokenException("Incorrect token audience")
	}
	return provider, aud, nil
}

// maxIssuedAhead tolerates an issuer's clock a little ahead of ours.
const maxIssuedAhead = 5 * time.Minute

// audience is the client ID a token is for: its authorized party (azp)
// when the provider lists it, else the first of its audiences it lists.
func audience(c oidc.Claims, clientIDs []string) (string, bool) {
	if c.AuthorizedParty != "" && slices.Contains(clientIDs, c.AuthorizedParty) {
		return c.AuthorizedParty, true
	}
	for _, a := range c.Audience {
		if slices.Contains(clientIDs, a) {
			return a, true
		}
	}
	return "", false
}

func notAuthorizedWebIdentity() error { return notAuthorizedFederated("sts:AssumeRoleWithWebIdentity") }

// notAuthorizedFederated is AWS's AccessDenied to a federated caller, who
// has no ARN to name.
func notAuthorizedFederated(action string) error {
	return &awsproto.Error{Code: "AccessDenied", Status: http.StatusForbidden, Message: "Not authorized to perform " + action}
}
