package sts

import (
	"context"

	"overcast"
	api "overcast/internal/api/sts"
	"overcast/internal/authz"
)

// sessionPolicies are the policies given to AssumeRole (or
// GetFederationToken) that cap the session: what the session may do is
// what the role's policies and these both allow.
type sessionPolicies struct {
	Policy string   `json:"policy,omitempty"`
	ARNs   []string `json:"arns,omitempty"`
	// Parent is the IAM user whose GetFederationToken made a federated
	// user's session ("" when the account root made it): the session may
	// do only what both that user's policies and the session policies
	// allow, and nothing at all without session policies.
	Parent string `json:"parent,omitempty"`
}

func policiesOf(inline *string, arns api.PolicyDescriptorListType) sessionPolicies {
	var p sessionPolicies
	if inline != nil {
		p.Policy = *inline
	}
	for _, d := range arns {
		if d.Arn != nil {
			p.ARNs = append(p.ARNs, *d.Arn)
		}
	}
	return p
}

var _ authz.Sessions = (*Service)(nil)

// SessionOf returns the session policies of temporary credentials, for
// authorization; nil for keys STS did not issue.
func (s *Service) SessionOf(ctx context.Context, accessKeyID string) (*authz.Session, error) {
	s.mu.RLock()
	sess, ok := s.cache[accessKeyID]
	s.mu.RUnlock()
	if !ok {
		if _, err := s.LookupAccessKey(ctx, accessKeyID); err != nil {
			return nil, nil
		}
		s.mu.RLock()
		sess = s.cache[accessKeyID]
		s.mu.RUnlock()
	}
	p := sess.Policies
	federated := sess.Caller.Kind == overcast.PrincipalFederated
	if p.Policy == "" && len(p.ARNs) == 0 && !federated {
		return nil, nil
	}
	// A federated user's session is capped even without session policies:
	// then it may do nothing, as on AWS.
	out := &authz.Session{PolicyARNs: p.ARNs, HasPolicies: true, Parent: p.Parent}
	if p.Policy != "" {
		parsed := authz.ParsePolicy("SessionPolicy", "none", p.Policy)
		out.Policy = &parsed
	}
	return out, nil
}

// table is what each STS operation needs: AssumeRole the role; who-am-I
// and GetSessionToken nothing at all, as on AWS; the web identity and SAML calls are signed
// by their token, not by IAM credentials.
var table = authz.Table{Prefix: "sts", Rules: map[string]authz.Rule{
	"AssumeRole": {Resources: authz.On(func(_ authz.Scope, in *api.AssumeRoleRequest) []string {
		return []string{str(in.RoleArn)}
	})},
	"GetFederationToken": {Resources: authz.On(func(s authz.Scope, in *api.GetFederationTokenRequest) []string {
		return []string{s.GlobalARN("sts", "federated-user/"+str(in.Name))}
	})},
	"GetCallerIdentity":         {Unauthorized: true},
	"GetSessionToken":           {Unauthorized: true},
	"AssumeRoleWithWebIdentity": {Unauthorized: true},
	"AssumeRoleWithSAML":        {Unauthorized: true},
}}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
