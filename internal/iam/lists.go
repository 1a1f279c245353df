package iam

import (
	"context"

	api "overcast/internal/api/iam"
	"overcast/internal/store"
)

// The List operations over a kind of entity: those under a path prefix,
// and those another entity refers to. What each kind adds is how it
// describes one entity in a list (userSummary, roleSummary...).

// pageOf is one page of a List operation's answer.
type pageOf[O any] struct {
	items       []O // never nil: an empty page is an empty list, not none
	isTruncated *bool
	marker      *string
}

// summary describes an entity in acct as a list shows it, reading what
// else it needs in tx.
type summary[T, O any] func(tx store.Tx, acct string, v T) (O, error)

func describeAll[T, O any](tx store.Tx, acct string, vs []T, describe summary[T, O]) ([]O, error) {
	out := make([]O, 0, len(vs))
	for _, v := range vs {
		o, err := describe(tx, acct, v)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// describedPage reads one page of entities with find and describes them,
// in one read transaction in the caller's account.
func describedPage[T, O any](ctx context.Context, s *Service, marker *string, maxItems *int32,
	find func(tx store.Tx, acct string, pg page) ([]T, string, error), describe summary[T, O]) (pageOf[O], error) {
	pg, err := newPage(marker, maxItems)
	if err != nil {
		return pageOf[O]{}, err
	}
	acct := accountOf(ctx)
	var out []O
	var next string
	err = s.Store.View(ctx, func(tx store.Tx) error {
		found, n, err := find(tx, acct, pg)
		if err != nil {
			return err
		}
		next = n
		out, err = describeAll(tx, acct, found, describe)
		return err
	})
	if err != nil {
		return pageOf[O]{}, err
	}
	more, m := truncated(next)
	return pageOf[O]{items: out, isTruncated: more, marker: m}, nil
}

// listByPath pages over the caller's entities of kind k whose path starts
// with pathPrefix (by default "/", all of them).
func listByPath[T any, P record[T], O any](ctx context.Context, s *Service, k entityKind[T, P],
	pathPrefix, marker *string, maxItems *int32, describe summary[T, O]) (pageOf[O], error) {
	return describedPage(ctx, s, marker, maxItems, func(tx store.Tx, acct string, pg page) ([]T, string, error) {
		return k.list(tx, acct, orDefault(pathPrefix, "/"), pg)
	}, describe)
}

// listRelated pages over the entities of kind k that the owner, an entity
// of kind owners, refers to by (lowercased) name, in name order.
func listRelated[OT any, OP record[OT], T any, P record[T], O any](ctx context.Context, s *Service,
	owners entityKind[OT, OP], owner string, refs func(OT) []string, k entityKind[T, P],
	marker *string, maxItems *int32, describe summary[T, O]) (pageOf[O], error) {
	return describedPage(ctx, s, marker, maxItems, func(tx store.Tx, acct string, pg page) ([]T, string, error) {
		o, _, err := owners.load(tx, acct, owner)
		if err != nil {
			return nil, "", err
		}
		names, next := pageSlice(refs(o), func(n string) string { return n }, pg)
		found, err := k.loadAll(tx, acct, names)
		return found, next, err
	}, describe)
}

// ListUsers lists the account's users, optionally under a path prefix.
func (s *Service) ListUsers(ctx context.Context, in *api.ListUsersRequest) (*api.ListUsersResponse, error) {
	page, err := listByPath(ctx, s, users, in.PathPrefix, in.Marker, in.MaxItems, userSummary)
	if err != nil {
		return nil, err
	}
	return &api.ListUsersResponse{Users: page.items, IsTruncated: page.isTruncated, Marker: page.marker}, nil
}

func (s *Service) ListGroups(ctx context.Context, in *api.ListGroupsRequest) (*api.ListGroupsResponse, error) {
	page, err := listByPath(ctx, s, groups, in.PathPrefix, in.Marker, in.MaxItems, groupSummary)
	if err != nil {
		return nil, err
	}
	return &api.ListGroupsResponse{Groups: page.items, IsTruncated: page.isTruncated, Marker: page.marker}, nil
}

func (s *Service) ListRoles(ctx context.Context, in *api.ListRolesRequest) (*api.ListRolesResponse, error) {
	page, err := listByPath(ctx, s, roles, in.PathPrefix, in.Marker, in.MaxItems, roleSummary)
	if err != nil {
		return nil, err
	}
	return &api.ListRolesResponse{Roles: page.items, IsTruncated: page.isTruncated, Marker: page.marker}, nil
}

func (s *Service) ListInstanceProfiles(ctx context.Context, in *api.ListInstanceProfilesRequest) (*api.ListInstanceProfilesResponse, error) {
	page, err := listByPath(ctx, s, instanceProfiles, in.PathPrefix, in.Marker, in.MaxItems, instanceProfileSummary)
	if err != nil {
		return nil, err
	}
	return &api.ListInstanceProfilesResponse{InstanceProfiles: page.items, IsTruncated: page.isTruncated, Marker: page.marker}, nil
}

func (s *Service) ListGroupsForUser(ctx context.Context, in *api.ListGroupsForUserRequest) (*api.ListGroupsForUserResponse, error) {
	page, err := listRelated(ctx, s, users, *in.UserName, func(u userRec) []string { return u.Groups },
		groups, in.Marker, in.MaxItems, groupSummary)
	if err != nil {
		return nil, err
	}
	return &api.ListGroupsForUserResponse{Groups: page.items, IsTruncated: page.isTruncated, Marker: page.marker}, nil
}

func (s *Service) ListInstanceProfilesForRole(ctx context.Context, in *api.ListInstanceProfilesForRoleRequest) (*api.ListInstanceProfilesForRoleResponse, error) {
	page, err := listRelated(ctx, s, roles, *in.RoleName, func(r roleRec) []string { return r.InstanceProfiles },
		instanceProfiles, in.Marker, in.MaxItems, instanceProfileSummary)
	if err != nil {
		return nil, err
	}
	return &api.ListInstanceProfilesForRoleResponse{InstanceProfiles: page.items, IsTruncated: page.isTruncated, Marker: page.marker}, nil
}
