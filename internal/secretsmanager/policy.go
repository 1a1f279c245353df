package secretsmanager

import (
	"bytes"
	"context"
	"encoding/json"

	api "overcast/internal/api/secretsmanager"
	"overcast/internal/store"
)

// policyDocument is the part of an IAM resource policy that is checked
// here. Policies are stored and returned; overcast does not enforce them.
type policyDocument struct {
	Version   string          `json:"Version"`
	Statement json.RawMessage `json:"Statement"` // one statement, or a list
}

type policyStatement struct {
	Effect    string          `json:"Effect"`
	Principal json.RawMessage `json:"Principal"`
	Action    json.RawMessage `json:"Action"`
	Condition json.RawMessage `json:"Condition"`
}

// checkPolicy validates a resource policy, returning the problems found
// (for ValidateResourcePolicy) and whether it grants public access.
func checkPolicy(text string) (problems []string, public bool) {
	var doc policyDocument
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		return []string{"This resource policy contains a syntax error: " + err.Error()}, false
	}
	var statements []json.RawMessage
	switch st := bytes.TrimSpace(doc.Statement); {
	case len(st) > 0 && st[0] == '{':
		statements = []json.RawMessage{st}
	case len(st) > 0 && st[0] == '[':
		if err := json.Unmarshal(st, &statements); err != nil {
			return []string{"This resource policy contains a syntax error: " + err.Error()}, false
		}
	}
	if len(statements) == 0 {
		return []string{"This resource policy must contain at least one statement."}, false
	}
	for _, raw := range statements {
		var st policyStatement
		if err := json.Unmarshal(raw, &st); err != nil {
			problems = append(problems, "This resource policy contains a statement that is not a JSON object.")
			continue
		}
		if st.Effect != "Allow" && st.Effect != "Deny" {
			problems = append(problems, "Each statement's Effect must be Allow or Deny.")
		}
		if len(st.Principal) == 0 {
			problems = append(problems, "A resource policy statement must name a Principal.")
		}
		if len(st.Action) == 0 {
			problems = append(problems, "Each statement must name an Action.")
		}
		if st.Effect == "Allow" && len(st.Condition) == 0 && grantsEveryone(st.Principal) {
			public = true
		}
	}
	return problems, public
}

// grantsEveryone reports whether a Principal is "*" or {"AWS": "*"}.
func grantsEveryone(p json.RawMessage) bool {
	var s string
	if json.Unmarshal(p, &s) == nil {
		return s == "*"
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(p, &m) != nil {
		return false
	}
	for _, v := range m {
		var one string
		var many []string
		if json.Unmarshal(v, &one) == nil && one == "*" {
			return true
		}
		if json.Unmarshal(v, &many) == nil {
			for _, x := range many {
				if x == "*" {
					return true
				}
			}
		}
	}
	return false
}

// PutResourcePolicy attaches a resource policy to a secret.
func (s *Service) PutResourcePolicy(ctx context.Context, in *api.PutResourcePolicyRequest) (*api.PutResourcePolicyResponse, error) {
	sc := scopeOf(ctx)
	var v violations
	v.length("resourcePolicy", in.ResourcePolicy, 1, 20480)
	if err := v.err(); err != nil {
		return nil, err
	}
	problems, public := checkPolicy(*in.ResourcePolicy)
	if len(problems) > 0 {
		return nil, api.NewMalformedPolicyDocumentException("%s", problems[0])
	}
	if public && in.BlockPublicPolicy != nil && *in.BlockPublicPolicy {
		return nil, api.NewPublicPolicyException("You can't attach this resource policy because it grants broad access to the secret, and BlockPublicPolicy is set.")
	}
	var out *api.PutResourcePolicyResponse
	err := store.UpdateRetry(ctx, s.db, updateAttempts, func(tx store.Tx) error {
		sec, ver, err := s.liveSecret(tx, sc, *in.SecretId)
		if err != nil {
			return err
		}
		sec.Policy = *in.ResourcePolicy
		out = &api.PutResourcePolicyResponse{ARN: new(sec.ARN), Name: new(sec.Name)}
		_, err = store.PutJSON(tx, secretsTable, sc.key(sec.Name), sec, ver)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetResourcePolicy returns a secret's resource policy, if it has one.
func (s *Service) GetResourcePolicy(ctx context.Context, in *api.GetResourcePolicyRequest) (*api.GetResourcePolicyResponse, error) {
	sc := scopeOf(ctx)
	var sec secret
	err := s.db.View(ctx, func(tx store.Tx) (err error) {
		sec, _, err = s.lookup(tx, sc, *in.SecretId)
		return err
	})
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
	sc := scopeOf(ctx)
	var out *api.DeleteResourcePolicyResponse
	err := store.UpdateRetry(ctx, s.db, updateAttempts, func(tx store.Tx) error {
		sec, ver, err := s.liveSecret(tx, sc, *in.SecretId)
		if err != nil {
			return err
		}
		out = &api.DeleteResourcePolicyResponse{ARN: new(sec.ARN), Name: new(sec.Name)}
		if sec.Policy == "" {
			return nil
		}
		sec.Policy = ""
		_, err = store.PutJSON(tx, secretsTable, sc.key(sec.Name), sec, ver)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ValidateResourcePolicy checks a policy without attaching it.
func (s *Service) ValidateResourcePolicy(ctx context.Context, in *api.ValidateResourcePolicyRequest) (*api.ValidateResourcePolicyResponse, error) {
	if in.SecretId != nil {
		sc := scopeOf(ctx)
		err := s.db.View(ctx, func(tx store.Tx) error {
			_, _, err := s.lookup(tx, sc, *in.SecretId)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	problems, _ := checkPolicy(*in.ResourcePolicy)
	out := &api.ValidateResourcePolicyResponse{PolicyValidationPassed: new(len(problems) == 0), ValidationErrors: api.ValidationErrorsType{}}
	for _, p := range problems {
		out.ValidationErrors = append(out.ValidationErrors, api.ValidationErrorsEntry{CheckName: new("POLICY_SYNTAX"), ErrorMessage: new(p)})
	}
	return out, nil
}
