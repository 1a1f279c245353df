package secretsmanager

import (
	"context"
	"errors"

	"overcast"
	api "overcast/internal/api/secretsmanager"
	"overcast/internal/policy"
	"overcast/internal/store"
)

// checkPolicy validates a resource policy, returning the problem found, if
// any (for ValidateResourcePolicy), and whether the policy grants public
// access. Policies are stored and returned; overcast does not enforce them.
func checkPolicy(text string) (problem string, public bool) {
	p, err := policy.Validate(text, policy.Resource)
	var pe *policy.Error
	switch {
	case errors.Is(err, policy.ErrInvalidJSON):
		return "This resource policy contains a syntax error.", false
	case errors.As(err, &pe):
		return pe.Message, false
	case err != nil:
		return err.Error(), false
	}
	return "", p.Public()
}

// PutResourcePolicy attaches a resource policy to a secret.
func (s *Service) PutResourcePolicy(ctx context.Context, in *api.PutResourcePolicyRequest) (*api.PutResourcePolicyResponse, error) {
	problem, public := checkPolicy(*in.ResourcePolicy)
	if problem != "" {
		return nil, api.NewMalformedPolicyDocumentException("%s", problem)
	}
	if public && in.BlockPublicPolicy != nil && *in.BlockPublicPolicy {
		return nil, api.NewPublicPolicyException("You can't attach this resource policy because it grants broad access to the secret, and BlockPublicPolicy is set.")
	}
	return updateAnswering(ctx, s, overcast.ScopeOf(ctx), *in.SecretId, s.liveSecret, func(_ store.Tx, sec *secret) (*api.PutResourcePolicyResponse, error) {
		sec.Policy = *in.ResourcePolicy
		return &api.PutResourcePolicyResponse{ARN: new(sec.ARN), Name: new(sec.Name)}, nil
	})
}

// GetResourcePolicy returns a secret's resource policy, if it has one.
func (s *Service) GetResourcePolicy(ctx context.Context, in *api.GetResourcePolicyRequest) (*api.GetResourcePolicyResponse, error) {
	sec, err := s.readSecret(ctx, overcast.ScopeOf(ctx), *in.SecretId)
	if err != nil {
		return nil, err
	}
	out := &api.GetResourcePolicyResponse{ARN: new(sec.ARN), Name: new(sec.Name)}
	if sec.Policy != "" {
		out.ResourcePolicy = new(sec.Policy)
	}
	return out, nil
}

// DeleteResourcePolicy removes a secret's resource policy.
func (s *Service) DeleteResourcePolicy(ctx context.Context, in *api.DeleteResourcePolicyRequest) (*api.DeleteResourcePolicyResponse, error) {
	return updateAnswering(ctx, s, overcast.ScopeOf(ctx), *in.SecretId, s.liveSecret, func(_ store.Tx, sec *secret) (*api.DeleteResourcePolicyResponse, error) {
		out := &api.DeleteResourcePolicyResponse{ARN: new(sec.ARN), Name: new(sec.Name)}
		if sec.Policy == "" {
			return out, errNoChange
		}
		sec.Policy = ""
		return out, nil
	})
}

// ValidateResourcePolicy checks a policy without attaching it.
func (s *Service) ValidateResourcePolicy(ctx context.Context, in *api.ValidateResourcePolicyRequest) (*api.ValidateResourcePolicyResponse, error) {
	if in.SecretId != nil {
		if _, err := s.readSecret(ctx, overcast.ScopeOf(ctx), *in.SecretId); err != nil {
			return nil, err
		}
	}
	problem, _ := checkPolicy(*in.ResourcePolicy)
	out := &api.ValidateResourcePolicyResponse{PolicyValidationPassed: new(problem == ""), ValidationErrors: api.ValidationErrorsType{}}
	if problem != "" {
		out.ValidationErrors = append(out.ValidationErrors, api.ValidationErrorsEntry{CheckName: new("POLICY_SYNTAX"), ErrorMessage: new(problem)})
	}
	return out, nil
}
