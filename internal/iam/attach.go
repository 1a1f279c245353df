package iam

import (
	"context"
	"slices"
	"strings"

	"overcast"
	api "overcast/internal/api/iam"
	"overcast/internal/policy"
	"overcast/internal/store"
)

// attachPolicy attaches a managed policy to a user, group or role.
func (s *Service) attachPolicy(ctx context.Context, k holderKind, name, arn *string) error {
	acct := accountOf(ctx)
	return s.update(ctx, func(tx store.Tx) error {
		h, version, err := k.load(tx, acct, *name)
		if err != nil {
			return err
		}
		if err := modifiable(h); err != nil {
			return err
		}
		mp, ok, err := s.findPolicy(tx, acct, *arn)
		if err != nil {
			return err
		}
		if !ok {
			return api.NewNoSuchEntityException("Policy %s does not exist or is not attachable.", *arn)
		}
		if !mp.attachable {
			return api.NewPolicyNotAttachableException("Cannot attach a Service Role Policy to a Customer Role.")
		}
		attached := h.attachedPolicies()
		if slices.Contains(*attached, mp.arn) {
			return nil
		}
		if len(*attached) >= k.maxAttached {
			return quotaExceeded(k.quotaName, k.maxAttached)
		}
		*attached = append(slices.Clone(*attached), mp.arn)
		if err := k.table.save(tx, acct, h, version, h); err != nil {
			return err
		}
		entityName, _ := h.ident()
		return addAttachment(tx, acct, mp.arn, usagePermissions, k.kind, entityName)
	})
}

func (s *Service) detachPolicy(ctx context.Context, k holderKind, name, arn *string) error {
	acct := accountOf(ctx)
	return s.update(ctx, func(tx store.Tx) error {
		h, version, err := k.load(tx, acct, *name)
		if err != nil {
			return err
		}
		if err := modifiable(h); err != nil {
			return err
		}
		attached := h.attachedPolicies()
		if !slices.Contains(*attached, *arn) {
			return api.NewNoSuchEntityException("Policy %s was not found.", *arn)
		}
		*attached = slices.DeleteFunc(slices.Clone(*attached), func(a string) bool { return a == *arn })
		if err := k.table.save(tx, acct, h, version, h); err != nil {
			return err
		}
		entityName, _ := h.ident()
		return removeAttachment(tx, acct, *arn, usagePermissions, k.kind, entityName)
	})
}

// listAttached pages over an entity's attached policies, optionally only
// those whose path starts with pathPrefix.
func (s *Service) listAttached(ctx context.Context, k holderKind, name, pathPrefix, marker *string, maxItems *int32) (api.AttachedPoliciesListType, *bool, *string, error) {
	pg, err := newPage(marker, maxItems)
	if err != nil {
		return nil, nil, nil, err
	}
	var arns []string
	err = s.db.View(ctx, func(tx store.Tx) error {
		h, _, err := k.load(tx, accountOf(ctx), *name)
		if err == nil {
			arns = *h.attachedPolicies()
		}
		return err
	})
	if err != nil {
		return nil, nil, nil, err
	}
	prefix := orDefault(pathPrefix, "/")
	arns = slices.DeleteFunc(slices.Clone(arns), func(arn string) bool {
		path, _ := splitPolicyARN(arn)
		return !strings.HasPrefix(path, prefix)
	})
	page, next := pageSlice(arns, func(a string) string { return a }, pg)
	out := api.AttachedPoliciesListType{}
	for _, arn := range page {
		_, policyName := splitPolicyARN(arn)
		out = append(out, api.AttachedPolicy{PolicyName: new(policyName), PolicyArn: new(arn)})
	}
	more, m := truncated(next)
	return out, more, m, nil
}

// splitPolicyARN returns the path and name a policy ARN holds.
func splitPolicyARN(arn string) (path, name string) {
	a, _ := overcast.ParseARN(arn)
	rest := strings.TrimPrefix(a.Resource, "policy")
	i := strings.LastIndexByte(rest, '/')
	return rest[:i+1], rest[i+1:]
}

func (s *Service) AttachUserPolicy(ctx context.Context, in *api.AttachUserPolicyRequest) error {
	return s.attachPolicy(ctx, userHolder, in.UserName, in.PolicyArn)
}

func (s *Service) AttachGroupPolicy(ctx context.Context, in *api.AttachGroupPolicyRequest) error {
	return s.attachPolicy(ctx, groupHolder, in.GroupName, in.PolicyArn)
}

func (s *Service) AttachRolePolicy(ctx context.Context, in *api.AttachRolePolicyRequest) error {
	return s.attachPolicy(ctx, roleHolder, in.RoleName, in.PolicyArn)
}

func (s *Service) DetachUserPolicy(ctx context.Context, in *api.DetachUserPolicyRequest) error {
	return s.detachPolicy(ctx, userHolder, in.UserName, in.PolicyArn)
}

func (s *Service) DetachGroupPolicy(ctx context.Context, in *api.DetachGroupPolicyRequest) error {
	return s.detachPolicy(ctx, groupHolder, in.GroupName, in.PolicyArn)
}

func (s *Service) DetachRolePolicy(ctx context.Context, in *api.DetachRolePolicyRequest) error {
	return s.detachPolicy(ctx, roleHolder, in.RoleName, in.PolicyArn)
}

func (s *Service) ListAttachedUserPolicies(ctx context.Context, in *api.ListAttachedUserPoliciesRequest) (*api.ListAttachedUserPoliciesResponse, error) {
	list, more, marker, err := s.listAttached(ctx, userHolder, in.UserName, in.PathPrefix, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &api.ListAttachedUserPoliciesResponse{AttachedPolicies: list, IsTruncated: more, Marker: marker}, nil
}

func (s *Service) ListAttachedGroupPolicies(ctx context.Context, in *api.ListAttachedGroupPoliciesRequest) (*api.ListAttachedGroupPoliciesResponse, error) {
	list, more, marker, err := s.listAttached(ctx, groupHolder, in.GroupName, in.PathPrefix, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &api.ListAttachedGroupPoliciesResponse{AttachedPolicies: list, IsTruncated: more, Marker: marker}, nil
}

func (s *Service) ListAttachedRolePolicies(ctx context.Context, in *api.ListAttachedRolePoliciesRequest) (*api.ListAttachedRolePoliciesResponse, error) {
	list, more, marker, err := s.listAttached(ctx, roleHolder, in.RoleName, in.PathPrefix, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &api.ListAttachedRolePoliciesResponse{AttachedPolicies: list, IsTruncated: more, Marker: marker}, nil
}

// Inline policies live in their entity's record; IAM limits the size of
// all of an entity's inline policies together.

func (s *Service) putInline(ctx context.Context, k holderKind, name, policyName, doc *string) error {
	if err := checkPolicyDocument(*doc, policy.Identity); err != nil {
		return err
	}
	acct := accountOf(ctx)
	return s.update(ctx, func(tx store.Tx) error {
		h, version, err := k.load(tx, acct, *name)
		if err != nil {
			return err
		}
		if err := modifiable(h); err != nil {
			return err
		}
		inline := slices.Clone(*h.inlinePolicies())
		size := policy.Size(*doc)
		i := slices.IndexFunc(inline, func(p inlinePolicy) bool { return p.Name == *policyName })
		for j, p := range inline {
			if j != i {
				size += policy.Size(p.Document)
			}
		}
		entityName, _ := h.ident()
		if size > k.inlineQuota {
			return api.NewLimitExceededException("Maximum policy size of %d bytes exceeded for %s %s", k.inlineQuota, k.kind, entityName)
		}
		if i >= 0 {
			inline[i].Document = *doc
		} else {
			inline = append(inline, inlinePolicy{Name: *policyName, Document: *doc})
		}
		*h.inlinePolicies() = inline
		return k.table.save(tx, acct, h, version, h)
	})
}

func (s *Service) getInline(ctx context.Context, k holderKind, name, policyName *string) (entityName string, p inlinePolicy, err error) {
	err = s.db.View(ctx, func(tx store.Tx) error {
		h, _, err := k.load(tx, accountOf(ctx), *name)
		if err != nil {
			return err
		}
		entityName, _ = h.ident()
		i := slices.IndexFunc(*h.inlinePolicies(), func(p inlinePolicy) bool { return p.Name == *policyName })
		if i < 0 {
			return api.NewNoSuchEntityException("The %s policy with name %s cannot be found.", k.kind, *policyName)
		}
		p = (*h.inlinePolicies())[i]
		return nil
	})
	return entityName, p, err
}

func (s *Service) listInline(ctx context.Context, k holderKind, name, marker *string, maxItems *int32) (api.PolicyNameListType, *bool, *string, error) {
	pg, err := newPage(marker, maxItems)
	if err != nil {
		return nil, nil, nil, err
	}
	var names []string
	err = s.db.View(ctx, func(tx store.Tx) error {
		h, _, err := k.load(tx, accountOf(ctx), *name)
		if err != nil {
			return err
		}
		for _, p := range *h.inlinePolicies() {
			names = append(names, p.Name)
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, err
	}
	page, next := pageSlice(names, func(n string) string { return n }, pg)
	more, m := truncated(next)
	return append(api.PolicyNameListType{}, page...), more, m, nil
}

func (s *Service) deleteInline(ctx context.Context, k holderKind, name, policyName *string) error {
	acct := accountOf(ctx)
	return s.update(ctx, func(tx store.Tx) error {
		h, version, err := k.load(tx, acct, *name)
		if err != nil {
			return err
		}
		if err := modifiable(h); err != nil {
			return err
		}
		inline := *h.inlinePolicies()
		i := slices.IndexFunc(inline, func(p inlinePolicy) bool { return p.Name == *policyName })
		if i < 0 {
			return api.NewNoSuchEntityException("The %s policy with name %s cannot be found.", k.kind, *policyName)
		}
		*h.inlinePolicies() = slices.Delete(slices.Clone(inline), i, i+1)
		return k.table.save(tx, acct, h, version, h)
	})
}

func (s *Service) PutUserPolicy(ctx context.Context, in *api.PutUserPolicyRequest) error {
	return s.putInline(ctx, userHolder, in.UserName, in.PolicyName, in.PolicyDocument)
}

func (s *Service) PutGroupPolicy(ctx context.Context, in *api.PutGroupPolicyRequest) error {
	return s.putInline(ctx, groupHolder, in.GroupName, in.PolicyName, in.PolicyDocument)
}

func (s *Service) PutRolePolicy(ctx context.Context, in *api.PutRolePolicyRequest) error {
	return s.putInline(ctx, roleHolder, in.RoleName, in.PolicyName, in.PolicyDocument)
}

func (s *Service) GetUserPolicy(ctx context.Context, in *api.GetUserPolicyRequest) (*api.GetUserPolicyResponse, error) {
	name, p, err := s.getInline(ctx, userHolder, in.UserName, in.PolicyName)
	if err != nil {
		return nil, err
	}
	return &api.GetUserPolicyResponse{UserName: new(name), PolicyName: new(p.Name), PolicyDocument: new(encodeDocument(p.Document))}, nil
}

func (s *Service) GetGroupPolicy(ctx context.Context, in *api.GetGroupPolicyRequest) (*api.GetGroupPolicyResponse, error) {
	name, p, err := s.getInline(ctx, groupHolder, in.GroupName, in.PolicyName)
	if err != nil {
		return nil, err
	}
	return &api.GetGroupPolicyResponse{GroupName: new(name), PolicyName: new(p.Name), PolicyDocument: new(encodeDocument(p.Document))}, nil
}

func (s *Service) GetRolePolicy(ctx context.Context, in *api.GetRolePolicyRequest) (*api.GetRolePolicyResponse, error) {
	name, p, err := s.getInline(ctx, roleHolder, in.RoleName, in.PolicyName)
	if err != nil {
		return nil, err
	}
	return &api.GetRolePolicyResponse{RoleName: new(name), PolicyName: new(p.Name), PolicyDocument: new(encodeDocument(p.Document))}, nil
}

func (s *Service) ListUserPolicies(ctx context.Context, in *api.ListUserPoliciesRequest) (*api.ListUserPoliciesResponse, error) {
	names, more, marker, err := s.listInline(ctx, userHolder, in.UserName, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &api.ListUserPoliciesResponse{PolicyNames: names, IsTruncated: more, Marker: marker}, nil
}

func (s *Service) ListGroupPolicies(ctx context.Context, in *api.ListGroupPoliciesRequest) (*api.ListGroupPoliciesResponse, error) {
	names, more, marker, err := s.listInline(ctx, groupHolder, in.GroupName, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &api.ListGroupPoliciesResponse{PolicyNames: names, IsTruncated: more, Marker: marker}, nil
}

func (s *Service) ListRolePolicies(ctx context.Context, in *api.ListRolePoliciesRequest) (*api.ListRolePoliciesResponse, error) {
	names, more, marker, err := s.listInline(ctx, roleHolder, in.RoleName, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &api.ListRolePoliciesResponse{PolicyNames: names, IsTruncated: more, Marker: marker}, nil
}

func (s *Service) DeleteUserPolicy(ctx context.Context, in *api.DeleteUserPolicyRequest) error {
	return s.deleteInline(ctx, userHolder, in.UserName, in.PolicyName)
}

func (s *Service) DeleteGroupPolicy(ctx context.Context, in *api.DeleteGroupPolicyRequest) error {
	return s.deleteInline(ctx, groupHolder, in.GroupName, in.PolicyName)
}

func (s *Service) DeleteRolePolicy(ctx context.Context, in *api.DeleteRolePolicyRequest) error {
	return s.deleteInline(ctx, roleHolder, in.RoleName, in.PolicyName)
}
