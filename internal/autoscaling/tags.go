package autoscaling

import (
	"context"
	"slices"
	"strconv"

	api "overcast/internal/api/autoscaling"
	"overcast/internal/service"
	"overcast/internal/store"
)

// tagsByGroup groups a request's tags by the group they name.
func tagsByGroup(tags api.Tags) ([]string, map[string][]tag, error) {
	var names []string
	byGroup := map[string][]tag{}
	for _, t := range tags {
		if rt := service.Deref(t.ResourceType); rt != "" && rt != "auto-scaling-group" {
			return nil, nil, validationError("Invalid resource type: %s", rt)
		}
		name := service.Deref(t.ResourceId)
		if name == "" {
			return nil, nil, validationError("ResourceId is required for each tag")
		}
		if _, seen := byGroup[name]; !seen {
			names = append(names, name)
		}
		byGroup[name] = append(byGroup[name], tag{Key: service.Deref(t.Key), Value: service.Deref(t.Value), PropagateAtLaunch: service.Deref(t.PropagateAtLaunch)})
	}
	return names, byGroup, nil
}

// editTags applies edit to each named group's tags.
func (s *Service) editTags(ctx context.Context, tags api.Tags, edit func(have []tag, t tag) []tag) error {
	names, byGroup, err := tagsByGroup(tags)
	if err != nil {
		return err
	}
	for _, name := range names {
		err := s.updateGroup(ctx, name, func(_ store.Tx, g *group) error {
			for _, t := range byGroup[name] {
				g.Tags = edit(slices.DeleteFunc(g.Tags, func(have tag) bool { return have.Key == t.Key }), t)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// CreateOrUpdateTags sets tags of groups.
func (s *Service) CreateOrUpdateTags(ctx context.Context, in *api.CreateOrUpdateTagsType) error {
	return s.editTags(ctx, in.Tags, func(have []tag, t tag) []tag { return append(have, t) })
}

// DeleteTags removes tags of groups by key.
func (s *Service) DeleteTags(ctx context.Context, in *api.DeleteTagsType) error {
	return s.editTags(ctx, in.Tags, func(have []tag, _ tag) []tag { return have })
}

// DescribeTags lists the tags of every group, narrowed by the filters
// auto-scaling-group, key, value and propagate-at-launch.
func (s *Service) DescribeTags(ctx context.Context, in *api.DescribeTagsType) (*api.TagsType, error) {
	fields := map[string]func(g group, t tag) string{
		"auto-scaling-group":  func(g group, _ tag) string { return g.Name },
		"key":                 func(_ group, t tag) string { return t.Key },
		"value":               func(_ group, t tag) string { return t.Value },
		"propagate-at-launch": func(_ group, t tag) string { return strconv.FormatBool(t.PropagateAtLaunch) },
	}
	for _, f := range in.Filters {
		if fields[service.Deref(f.Name)] == nil {
			return nil, validationError("Filter type %s is not correct. Allowed Filter types are: auto-scaling-group key value propagate-at-launch", service.Deref(f.Name))
		}
	}
	out := &api.TagsType{Tags: api.TagDescriptionList{}}
	err := eachInScope(ctx, s.Store, groupsTable, func(g group) {
		for _, t := range g.Tags {
			if !slices.ContainsFunc(in.Filters, func(f api.Filter) bool { return !slices.Contains(f.Values, fields[*f.Name](g, t)) }) {
				out.Tags = append(out.Tags, tagView(g, t))
			}
		}
	})
	return out, err
}

func tagView(g group, t tag) api.TagDescription {
	return api.TagDescription{ResourceId: new(g.Name), ResourceType: new("auto-scaling-group"),
		Key: new(t.Key), Value: new(t.Value), PropagateAtLaunch: new(t.PropagateAtLaunch)}
}
