package cloudtrail

import (
	"context"
	"slices"

	api "overcast/internal/api/cloudtrail"
)

// maxTags is AWS's limit of tags on a trail.
const maxTags = 50

// addTags adds or replaces tags, held to CloudTrail's limit.
func addTags(tags []tag, add api.TagsList) ([]tag, error) {
	out := slices.Clone(tags)
	for _, t := range add {
		nt := tag{Key: *t.Key, Value: t.Value}
		if i := slices.IndexFunc(out, func(x tag) bool { return x.Key == nt.Key }); i >= 0 {
			out[i] = nt
		} else {
			out = append(out, nt)
		}
	}
	if len(out) > maxTags {
		return nil, ctError("TagsLimitExceededException", "The number of tags per trail has exceeded the permitted amount. Currently, the limit is %d.", maxTags)
	}
	return out, nil
}

// AddTags adds tags to a trail.
func (s *Service) AddTags(ctx context.Context, in *api.AddTagsRequest) (*api.AddTagsResponse, error) {
	_, err := s.updateTrail(ctx, *in.ResourceId, func(t *trail) (err error) {
		t.Tags, err = addTags(t.Tags, in.TagsList)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.AddTagsResponse{}, nil
}

// RemoveTags removes tags from a trail: by key, and by value too when the
// request gives one.
func (s *Service) RemoveTags(ctx context.Context, in *api.RemoveTagsRequest) (*api.RemoveTagsResponse, error) {
	_, err := s.updateTrail(ctx, *in.ResourceId, func(t *trail) error {
		for _, r := range in.TagsList {
			t.Tags = slices.DeleteFunc(t.Tags, func(x tag) bool {
				return x.Key == *r.Key && (r.Value == nil || (x.Value != nil && *x.Value == *r.Value))
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.RemoveTagsResponse{}, nil
}

// ListTags lists the tags of the trails named.
func (s *Service) ListTags(ctx context.Context, in *api.ListTagsRequest) (*api.ListTagsResponse, error) {
	out := &api.ListTagsResponse{ResourceTagList: api.ResourceTagList{}}
	for _, id := range in.ResourceIdList {
		t, err := s.trailNamed(ctx, id)
		if err != nil {
			return nil, err
		}
		rt := api.ResourceTag{ResourceId: new(t.ARN), TagsList: api.TagsList{}}
		for _, tg := range t.Tags {
			rt.TagsList = append(rt.TagsList, api.Tag{Key: new(tg.Key), Value: tg.Value})
		}
		out.ResourceTagList = append(out.ResourceTagList, rt)
	}
	return out, nil
}
