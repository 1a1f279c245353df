package iam

import (
	"context"
	"slices"
	"strings"

	api "overcast/internal/api/iam"
	"overcast/internal/service"
	"overcast/internal/store"
)

const maxTags = 50

func toTags(in api.TagListType) []tag {
	return service.Map(in, func(t api.Tag) tag { return tag{Key: *t.Key, Value: *t.Value} })
}

// apiTags is nil for no tags: an entity without tags is answered without
// a Tags member.
func apiTags(ts []tag) api.TagListType {
	if len(ts) == 0 {
		return nil
	}
	return service.Map(ts, apiTag)
}

func apiTag(t tag) api.Tag { return api.Tag{Key: new(t.Key), Value: new(t.Value)} }

// checkTagKeys rejects a request naming one key twice: IAM tag keys are
// case-insensitive.
func checkTagKeys(in api.TagListType) error {
	seen := map[string]bool{}
	for _, t := range in {
		k := strings.ToLower(*t.Key)
		if seen[k] {
			return api.NewInvalidInputException("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[k] = true
	}
	return nil
}

// addTags adds or overwrites tags, matching keys regardless of case.
func addTags(ts *[]tag, add api.TagListType) error {
	out := slices.Clone(*ts)
	for _, t := range toTags(add) {
		i := indexTag(out, t.Key)
		if i >= 0 {
			out[i] = t
		} else {
			out = append(out, t)
		}
	}
	if len(out) > maxTags {
		return api.NewLimitExceededException("The number of tags has reached the maximum limit.")
	}
	*ts = out
	return nil
}

// removeTags drops the tags with keys, matching regardless of case.
func removeTags(ts *[]tag, keys []string) {
	*ts = slices.DeleteFunc(slices.Clone(*ts), func(t tag) bool {
		return slices.ContainsFunc(keys, func(k string) bool { return strings.EqualFold(k, t.Key) })
	})
}

func indexTag(ts []tag, key string) int {
	return slices.IndexFunc(ts, func(t tag) bool { return strings.EqualFold(t.Key, key) })
}

// tagsResponse is the one shape of the List*Tags responses.
type tagsResponse interface {
	api.ListUserTagsResponse | api.ListRoleTagsResponse | api.ListPolicyTagsResponse | api.ListInstanceProfileTagsResponse |
		api.ListOpenIDConnectProviderTagsResponse | api.ListSAMLProviderTagsResponse
}

// tagsPage answers the List*Tags operations.
func tagsPage[R tagsResponse](ts []tag, marker *string, maxItems *int32) (*R, error) {
	pg, err := newPage(marker, maxItems)
	if err != nil {
		return nil, err
	}
	items, next := pageSlice(ts, func(t tag) string { return strings.ToLower(t.Key) }, pg)
	more, m := truncated(next)
	out := R(api.ListUserTagsResponse{Tags: service.Map(items, apiTag), IsTruncated: more, Marker: m})
	return &out, nil
}

// Users, roles and instance profiles are tagged by name, through their
// entityKind; customer managed policies by ARN, through modifyPolicy.

// taggedRecord is a pointer to the record of an entity with tags.
type taggedRecord[T any] interface {
	record[T]
	tagList() *[]tag
}

func (u *userRec) tagList() *[]tag            { return &u.Tags }
func (r *roleRec) tagList() *[]tag            { return &r.Tags }
func (p *instanceProfileRec) tagList() *[]tag { return &p.Tags }

func tagEntity[T any, P taggedRecord[T]](ctx context.Context, s *Service, k entityKind[T, P], name string, add api.TagListType) error {
	if err := checkTagKeys(add); err != nil {
		return err
	}
	return k.modify(ctx, s, name, func(_ store.Tx, v P) error { return addTags(v.tagList(), add) })
}

func untagEntity[T any, P taggedRecord[T]](ctx context.Context, s *Service, k entityKind[T, P], name string, keys []string) error {
	return k.modify(ctx, s, name, func(_ store.Tx, v P) error {
		removeTags(v.tagList(), keys)
		return nil
	})
}

func listEntityTags[R tagsResponse, T any, P taggedRecord[T]](ctx context.Context, s *Service, k entityKind[T, P],
	name string, marker *string, maxItems *int32) (*R, error) {
	v, err := k.read(ctx, s, name)
	if err != nil {
		return nil, err
	}
	return tagsPage[R](*P(&v).tagList(), marker, maxItems)
}

func (s *Service) TagUser(ctx context.Context, in *api.TagUserRequest) error {
	return tagEntity(ctx, s, users, *in.UserName, in.Tags)
}

func (s *Service) TagRole(ctx context.Context, in *api.TagRoleRequest) error {
	return tagEntity(ctx, s, roles, *in.RoleName, in.Tags)
}

func (s *Service) TagInstanceProfile(ctx context.Context, in *api.TagInstanceProfileRequest) error {
	return tagEntity(ctx, s, instanceProfiles, *in.InstanceProfileName, in.Tags)
}

func (s *Service) TagPolicy(ctx context.Context, in *api.TagPolicyRequest) error {
	if err := checkTagKeys(in.Tags); err != nil {
		return err
	}
	return s.modifyPolicy(ctx, "TagPolicy", *in.PolicyArn, func(mp *managedPolicy) error { return addTags(&mp.rec.Tags, in.Tags) })
}

func (s *Service) UntagUser(ctx context.Context, in *api.UntagUserRequest) error {
	return untagEntity(ctx, s, users, *in.UserName, in.TagKeys)
}

func (s *Service) UntagRole(ctx context.Context, in *api.UntagRoleRequest) error {
	return untagEntity(ctx, s, roles, *in.RoleName, in.TagKeys)
}

func (s *Service) UntagInstanceProfile(ctx context.Context, in *api.UntagInstanceProfileRequest) error {
	return untagEntity(ctx, s, instanceProfiles, *in.InstanceProfileName, in.TagKeys)
}

func (s *Service) UntagPolicy(ctx context.Context, in *api.UntagPolicyRequest) error {
	return s.modifyPolicy(ctx, "UntagPolicy", *in.PolicyArn, func(mp *managedPolicy) error {
		removeTags(&mp.rec.Tags, in.TagKeys)
		return nil
	})
}

func (s *Service) ListUserTags(ctx context.Context, in *api.ListUserTagsRequest) (*api.ListUserTagsResponse, error) {
	return listEntityTags[api.ListUserTagsResponse](ctx, s, users, *in.UserName, in.Marker, in.MaxItems)
}

func (s *Service) ListRoleTags(ctx context.Context, in *api.ListRoleTagsRequest) (*api.ListRoleTagsResponse, error) {
	return listEntityTags[api.ListRoleTagsResponse](ctx, s, roles, *in.RoleName, in.Marker, in.MaxItems)
}

func (s *Service) ListInstanceProfileTags(ctx context.Context, in *api.ListInstanceProfileTagsRequest) (*api.ListInstanceProfileTagsResponse, error) {
	return listEntityTags[api.ListInstanceProfileTagsResponse](ctx, s, instanceProfiles, *in.InstanceProfileName, in.Marker, in.MaxItems)
}

func (s *Service) ListPolicyTags(ctx context.Context, in *api.ListPolicyTagsRequest) (*api.ListPolicyTagsResponse, error) {
	mp, err := s.readPolicy(ctx, *in.PolicyArn)
	if err != nil {
		return nil, err
	}
	return tagsPage[api.ListPolicyTagsResponse](mp.rec.Tags, in.Marker, in.MaxItems)
}
