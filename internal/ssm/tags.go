package ssm

import (
	"context"
	"slices"

	"overcast"
	api "overcast/internal/api/ssm"
	"overcast/internal/store"
)

// setTag adds a tag or replaces the value of the tag with the same key.
func setTag(tags []tag, key, value string) []tag {
	if i := slices.IndexFunc(tags, func(t tag) bool { return t.Key == key }); i >= 0 {
		tags = slices.Clone(tags)
		tags[i].Value = value
		return tags
	}
	return append(tags, tag{Key: key, Value: value})
}

// taggedParameter resolves a tagging request's resource: only parameters
// are taggable here, named by name or ARN.
func (s *Service) taggedParameter(tx store.Tx, sc scope, resourceType, resourceID string) (parameter, int64, error) {
	if resourceType != api.ResourceTypeForTaggingParameter {
		return parameter{}, 0, &api.InvalidResourceType{}
	}
	r, ok := localRef(sc, resourceID)
	if ok && r.selector == "" {
		for _, name := range r.names {
			p, ver, err := getParameter(tx, sc, name)
			if err == nil || !isNotFound(err) {
				return p, ver, err
			}
		}
	}
	return parameter{}, 0, &api.InvalidResourceId{}
}

// AddTagsToResource adds or overwrites a parameter's tags.
func (s *Service) AddTagsToResource(ctx context.Context, in *api.AddTagsToResourceRequest) (*api.AddTagsToResourceResult, error) {
	sc := overcast.ScopeOf(ctx)
	err := store.UpdateRetry(ctx, s.db, updateAttempts, func(tx store.Tx) error {
		p, ver, err := s.taggedParameter(tx, sc, *in.ResourceType, *in.ResourceId)
		if err != nil {
			return err
		}
		for _, t := range in.Tags {
			p.Tags = setTag(p.Tags, *t.Key, *t.Value)
		}
		if len(p.Tags) > maxTags {
			return &api.TooManyTagsError{}
		}
		_, err = store.PutJSON(tx, parametersTable, sc.Key(p.Name), p, ver)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.AddTagsToResourceResult{}, nil
}

// RemoveTagsFromResource removes tags by key; absent keys are ignored.
func (s *Service) RemoveTagsFromResource(ctx context.Context, in *api.RemoveTagsFromResourceRequest) (*api.RemoveTagsFromResourceResult, error) {
	sc := overcast.ScopeOf(ctx)
	err := store.UpdateRetry(ctx, s.db, updateAttempts, func(tx store.Tx) error {
		p, ver, err := s.taggedParameter(tx, sc, *in.ResourceType, *in.ResourceId)
		if err != nil {
			return err
		}
		p.Tags = slices.DeleteFunc(slices.Clone(p.Tags), func(t tag) bool { return slices.Contains(in.TagKeys, t.Key) })
		_, err = store.PutJSON(tx, parametersTable, sc.Key(p.Name), p, ver)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.RemoveTagsFromResourceResult{}, nil
}

// ListTagsForResource lists a parameter's tags.
func (s *Service) ListTagsForResource(ctx context.Context, in *api.ListTagsForResourceRequest) (*api.ListTagsForResourceResult, error) {
	sc := overcast.ScopeOf(ctx)
	var p parameter
	err := s.db.View(ctx, func(tx store.Tx) (err error) {
		p, _, err = s.taggedParameter(tx, sc, *in.ResourceType, *in.ResourceId)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &api.ListTagsForResourceResult{TagList: api.TagList{}}
	for _, t := range p.Tags {
		out.TagList = append(out.TagList, api.Tag{Key: new(t.Key), Value: new(t.Value)})
	}
	return out, nil
}
