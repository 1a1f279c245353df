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

// Managed policies attached to users, groups and roles, their inline
// policies and their permissions boundaries: the same operations for each
// kind of holder, which only says what its holderKind says.

// attachPolicy attaches a managed policy to a user, group or role.
func attachPolicy[T any, P holderRecord[T]](ctx context.Context, s *Service, k holderKind[T, P], name, arn string) error {
	return k.modify(ctx, s, name, func(tx store.Tx, h P) error {
		if err := modifiable(h); err != nil {
			return err
		}
		acct := accountOf(ctx)
		mp, ok, err := s.findPolicy(tx, acct, arn)
		switch {
		case err != nil:
			return err
		case !ok:
			return api.NewNoSuchEntityException("Policy %s does not exist or is not attachable.", arn)
		case !mp.attachable:
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
		entityName, _ := h.ident()
		return addAttachment(tx, acct, mp.arn, usagePermissions, k.resource, entityName)
	})
}

func detachPolicy[T any, P holderRecord[T]](ctx context.Context, s *Service, k holderKind[T, P], name, arn string) error {
	return k.modify(ctx, s, name, func(tx store.Tx, h P) error {
		if err := modifiable(h); err != nil {
			return err
		}
		attached := h.attachedPolicies()
		if !slices.Contains(*attached, arn) {
			return policies.notFound(arn)
		}
		*attached = slices.DeleteFunc(slices.Clone(*attached), func(a string) bool { return a == arn })
		entityName, _ := h.ident()
		return removeAttachment(tx, accountOf(ctx), arn, usagePermissions, k.resource, entityName)
	})
}

// attachedPoliciesResponse is the one shape of the ListAttached*Policies
// responses.
type attachedPoliciesResponse interface {
	api.ListAttachedUserPoliciesResponse | api.ListAttachedGroupPoliciesResponse | api.ListAttachedRolePoliciesResponse
}

// listAttached pages over a holder's attached policies, optionally only
// those whose path starts with pathPrefix.
func listAttached[R attachedPoliciesResponse, T any, P holderRecord[T]](ctx context.Context, s *Service, k holderKind[T, P],
	name string, pathPrefix, marker *string, maxItems *int32) (*R, error) {
	pg, err := newPage(marker, maxItems)
	if err != nil {
		return nil, err
	}
	h, err := k.read(ctx, s, name)
	if err != nil {
		return nil, err
	}
	prefix := orDefault(pathPrefix, "/")
	arns := slices.DeleteFunc(slices.Clone(*P(&h).attachedPolicies()), func(arn string) bool {
		path, _ := splitPolicyARN(arn)
		return !strings.HasPrefix(path, prefix)
	})
	page, next := pageSlice(arns, func(a string) string { return a }, pg)
	more, m := truncated(next)
	out := R(api.ListAttachedUserPoliciesResponse{AttachedPolicies: attachedList(page), IsTruncated: more, Marker: m})
	return &out, nil
}

// splitPolicyARN returns the path and name a policy ARN holds.
func splitPolicyARN(arn string) (path, name string) {
	a, _ := overcast.ParseARN(arn)
	rest := strings.TrimPrefix(a.Resource, "policy")
	i := strings.LastIndexByte(rest, '/')
	return rest[:i+1], rest[i+1:]
}

// Inline policies live in their entity's record; IAM limits the size of
// all of an entity's inline policies together.

func putInline[T any, P holderRecord[T]](ctx context.Context, s *Service, k holderKind[T, P], name, policyName, doc string) error {
	if err := checkPolicyDocument(doc, policy.Identity); err != nil {
		return err
	}
	return k.modify(ctx, s, name, func(_ store.Tx, h P) error {
		if err := modifiable(h); err != nil {
			return err
		}
		inline := slices.Clone(*h.inlinePolicies())
		size := policy.Size(doc)
		i := slices.IndexFunc(inline, func(p inlinePolicy) bool { return p.Name == policyName })
		for j, p := range inline {
			if j != i {
				size += policy.Size(p.Document)
			}
		}
		if size > k.inlineQuota {
			entityName, _ := h.ident()
			return api.NewLimitExceededException("Maximum policy size of %d bytes exceeded for %s %s", k.inlineQuota, k.resource, entityName)
		}
		if i >= 0 {
			inline[i].Document = doc
		} else {
			inline = append(inline, inlinePolicy{Name: policyName, Document: doc})
		}
		*h.inlinePolicies() = inline
		return nil
	})
}

func (k holderKind[T, P]) inlineNotFound(policyName string) error {
	return api.NewNoSuchEntityException("The %s policy with name %s cannot be found.", k.resource, policyName)
}

// getInline returns the holder's name as its record has it and the policy.
func getInline[T any, P holderRecord[T]](ctx context.Context, s *Service, k holderKind[T, P], name, policyName string) (string, inlinePolicy, error) {
	h, err := k.read(ctx, s, name)
	if err != nil {
		return "", inlinePolicy{}, err
	}
	entityName, _ := P(&h).ident()
	inline := *P(&h).inlinePolicies()
	i := slices.IndexFunc(inline, func(p inlinePolicy) bool { return p.Name == policyName })
	if i < 0 {
		return "", inlinePolicy{}, k.inlineNotFound(policyName)
	}
	return entityName, inline[i], nil
}

// inlinePolicyNamesResponse is the one shape of the List*Policies
// responses.
type inlinePolicyNamesResponse interface {
	api.ListUserPoliciesResponse | api.ListGroupPoliciesResponse | api.ListRolePoliciesResponse
}

func listInline[R inlinePolicyNamesResponse, T any, P holderRecord[T]](ctx context.Context, s *Service, k holderKind[T, P],
	name string, marker *string, maxItems *int32) (*R, error) {
	pg, err := newPage(marker, maxItems)
	if err != nil {
		return nil, err
	}
	h, err := k.read(ctx, s, name)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, p := range *P(&h).inlinePolicies() {
		names = append(names, p.Name)
	}
	page, next := pageSlice(names, func(n string) string { return n }, pg)
	more, m := truncated(next)
	out := R(api.ListUserPoliciesResponse{PolicyNames: append(api.PolicyNameListType{}, page...), IsTruncated: more, Marker: m})
	return &out, nil
}

func deleteInline[T any, P holderRecord[T]](ctx context.Context, s *Service, k holderKind[T, P], name, policyName string) error {
	return k.modify(ctx, s, name, func(_ store.Tx, h P) error {
		if err := modifiable(h); err != nil {
			return err
		}
		inline := *h.inlinePolicies()
		i := slices.IndexFunc(inline, func(p inlinePolicy) bool { return p.Name == policyName })
		if i < 0 {
			return k.inlineNotFound(policyName)
		}
		*h.inlinePolicies() = slices.Delete(slices.Clone(inline), i, i+1)
		return nil
	})
}

// Permissions boundaries: a user's or a role's one boundary policy,
// recorded in the attachment index as the policy's boundary use.

// createWithBoundary creates a user or role with the permissions boundary
// it names, if any.
func createWithBoundary[T any, P boundedRecord[T]](ctx context.Context, s *Service, k holderKind[T, P], v T) error {
	return k.create(ctx, s, v, func(tx store.Tx, acct string) error {
		name, _ := P(&v).ident()
		return s.useAsBoundary(tx, acct, *P(&v).boundaryPolicy(), k.resource, name)
	})
}

func putBoundary[T any, P boundedRecord[T]](ctx context.Context, s *Service, k holderKind[T, P], name, arn string) error {
	return k.modify(ctx, s, name, func(tx store.Tx, h P) error {
		if err := modifiable(h); err != nil {
			return err
		}
		acct := accountOf(ctx)
		entityName, _ := h.ident()
		if err := releaseAttachments(tx, acct, k.resource, entityName, nil, *h.boundaryPolicy()); err != nil {
			return err
		}
		*h.boundaryPolicy() = arn
		return s.useAsBoundary(tx, acct, arn, k.resource, entityName)
	})
}

func deleteBoundary[T any, P boundedRecord[T]](ctx context.Context, s *Service, k holderKind[T, P], name string) error {
	return k.modify(ctx, s, name, func(tx store.Tx, h P) error {
		entityName, _ := h.ident()
		boundary := h.boundaryPolicy()
		if *boundary == "" {
			return api.NewNoSuchEntityException("The %s %s does not have a permissions boundary.", k.resource, entityName)
		}
		err := releaseAttachments(tx, accountOf(ctx), k.resource, entityName, nil, *boundary)
		*boundary = ""
		return err
	})
}

// The operations, by holder.

func (s *Service) AttachUserPolicy(ctx context.Context, in *api.AttachUserPolicyRequest) error {
	return attachPolicy(ctx, s, userHolder, *in.UserName, *in.PolicyArn)
}

func (s *Service) AttachGroupPolicy(ctx context.Context, in *api.AttachGroupPolicyRequest) error {
	return attachPolicy(ctx, s, groupHolder, *in.GroupName, *in.PolicyArn)
}

func (s *Service) AttachRolePolicy(ctx context.Context, in *api.AttachRolePolicyRequest) error {
	return attachPolicy(ctx, s, roleHolder, *in.RoleName, *in.PolicyArn)
}

func (s *Service) DetachUserPolicy(ctx context.Context, in *api.DetachUserPolicyRequest) error {
	return detachPolicy(ctx, s, userHolder, *in.UserName, *in.PolicyArn)
}

func (s *Service) DetachGroupPolicy(ctx context.Context, in *api.DetachGroupPolicyRequest) error {
	return detachPolicy(ctx, s, groupHolder, *in.GroupName, *in.PolicyArn)
}

func (s *Service) DetachRolePolicy(ctx context.Context, in *api.DetachRolePolicyRequest) error {
	return detachPolicy(ctx, s, roleHolder, *in.RoleName, *in.PolicyArn)
}

func (s *Service) ListAttachedUserPolicies(ctx context.Context, in *api.ListAttachedUserPoliciesRequest) (*api.ListAttachedUserPoliciesResponse, error) {
	return listAttached[api.ListAttachedUserPoliciesResponse](ctx, s, userHolder, *in.UserName, in.PathPrefix, in.Marker, in.MaxItems)
}

func (s *Service) ListAttachedGroupPolicies(ctx context.Context, in *api.ListAttachedGroupPoliciesRequest) (*api.ListAttachedGroupPoliciesResponse, error) {
	return listAttached[api.ListAttachedGroupPoliciesResponse](ctx, s, groupHolder, *in.GroupName, in.PathPrefix, in.Marker, in.MaxItems)
}

func (s *Service) ListAttachedRolePolicies(ctx context.Context, in *api.ListAttachedRolePoliciesRequest) (*api.ListAttachedRolePoliciesResponse, error) {
	return listAttached[api.ListAttachedRolePoliciesResponse](ctx, s, roleHolder, *in.RoleName, in.PathPrefix, in.Marker, in.MaxItems)
}

func (s *Service) PutUserPolicy(ctx context.Context, in *api.PutUserPolicyRequest) error {
	return putInline(ctx, s, userHolder, *in.UserName, *in.PolicyName, *in.PolicyDocument)
}

func (s *Service) PutGroupPolicy(ctx context.Context, in *api.PutGroupPolicyRequest) error {
	return putInline(ctx, s, groupHolder, *in.GroupName, *in.PolicyName, *in.PolicyDocument)
}

func (s *Service) PutRolePolicy(ctx context.Context, in *api.PutRolePolicyRequest) error {
	return putInline(ctx, s, roleHolder, *in.RoleName, *in.PolicyName, *in.PolicyDocument)
}

func (s *Service) GetUserPolicy(ctx context.Context, in *api.GetUserPolicyRequest) (*api.GetUserPolicyResponse, error) {
	name, p, err := getInline(ctx, s, userHolder, *in.UserName, *in.PolicyName)
	if err != nil {
		return nil, err
	}
	return &api.GetUserPolicyResponse{UserName: new(name), PolicyName: new(p.Name), PolicyDocument: new(encodeDocument(p.Document))}, nil
}

func (s *Service) GetGroupPolicy(ctx context.Context, in *api.GetGroupPolicyRequest) (*api.GetGroupPolicyResponse, error) {
	name, p, err := getInline(ctx, s, groupHolder, *in.GroupName, *in.PolicyName)
	if err != nil {
		return nil, err
	}
	return &api.GetGroupPolicyResponse{GroupName: new(name), PolicyName: new(p.Name), PolicyDocument: new(encodeDocument(p.Document))}, nil
}

func (s *Service) GetRolePolicy(ctx context.Context, in *api.GetRolePolicyRequest) (*api.GetRolePolicyResponse, error) {
	name, p, err := getInline(ctx, s, roleHolder, *in.RoleName, *in.PolicyName)
	if err != nil {
		return nil, err
	}
	return &api.GetRolePolicyResponse{RoleName: new(name), PolicyName: new(p.Name), PolicyDocument: new(encodeDocument(p.Document))}, nil
}

func (s *Service) ListUserPolicies(ctx context.Context, in *api.ListUserPoliciesRequest) (*api.ListUserPoliciesResponse, error) {
	return listInline[api.ListUserPoliciesResponse](ctx, s, userHolder, *in.UserName, in.Marker, in.MaxItems)
}

func (s *Service) ListGroupPolicies(ctx context.Context, in *api.ListGroupPoliciesRequest) (*api.ListGroupPoliciesResponse, error) {
	return listInline[api.ListGroupPoliciesResponse](ctx, s, groupHolder, *in.GroupName, in.Marker, in.MaxItems)
}

func (s *Service) ListRolePolicies(ctx context.Context, in *api.ListRolePoliciesRequest) (*api.ListRolePoliciesResponse, error) {
	return listInline[api.ListRolePoliciesResponse](ctx, s, roleHolder, *in.RoleName, in.Marker, in.MaxItems)
}

func (s *Service) DeleteUserPolicy(ctx context.Context, in *api.DeleteUserPolicyRequest) error {
	return deleteInline(ctx, s, userHolder, *in.UserName, *in.PolicyName)
}

func (s *Service) DeleteGroupPolicy(ctx context.Context, in *api.DeleteGroupPolicyRequest) error {
	return deleteInline(ctx, s, groupHolder, *in.GroupName, *in.PolicyName)
}

func (s *Service) DeleteRolePolicy(ctx context.Context, in *api.DeleteRolePolicyRequest) error {
	return deleteInline(ctx, s, roleHolder, *in.RoleName, *in.PolicyName)
}

func (s *Service) PutUserPermissionsBoundary(ctx context.Context, in *api.PutUserPermissionsBoundaryRequest) error {
	return putBoundary(ctx, s, userHolder, *in.UserName, *in.PermissionsBoundary)
}

func (s *Service) PutRolePermissionsBoundary(ctx context.Context, in *api.PutRolePermissionsBoundaryRequest) error {
	return putBoundary(ctx, s, roleHolder, *in.RoleName, *in.PermissionsBoundary)
}

func (s *Service) DeleteUserPermissionsBoundary(ctx context.Context, in *api.DeleteUserPermissionsBoundaryRequest) error {
	return deleteBoundary(ctx, s, userHolder, *in.UserName)
}

func (s *Service) DeleteRolePermissionsBoundary(ctx context.Context, in *api.DeleteRolePermissionsBoundaryRequest) error {
	return deleteBoundary(ctx, s, roleHolder, *in.RoleName)
}
