package ecs

import (
	"context"
	"strings"

	"overcast"
	api "overcast/internal/api/ecs"
	"overcast/internal/store"
)

// taggable locates the record a resource ARN names and the tags in it.
// ECS tags clusters, task definitions and container instances here;
// services and tasks join when they land.
func (s *Service) withTags(ctx context.Context, arn string, write bool, fn func(tags map[string]string) (map[string]string, error)) error {
	return s.withTagsIn(ctx, overcast.ScopeOf(ctx), arn, write, fn)
}

// withTagsIn is withTags in scope sc, whoever the caller is.
func (s *Service) withTagsIn(ctx context.Context, sc scope, arn string, write bool, fn func(tags map[string]string) (map[string]string, error)) error {
	a, ok := overcast.ParseARN(arn)
	if !ok || a.Service != "ecs" {
		return invalidParameter("The ARN provided is invalid.")
	}
	kind, name, _ := strings.Cut(a.Resource, "/")
	run := s.Store.View
	if write {
		run = func(ctx context.Context, fn func(store.Tx) error) error { return s.update(ctx, fn) }
	}
	notFound := api.NewResourceNotFoundException("The specified resource could not be found.")
	return run(ctx, func(tx store.Tx) error {
		switch kind {
		case "cluster":
			c, v, err := s.readCluster(tx, sc, name)
			if isNotFound(err) || (err == nil && c.Status != statusActive) {
				return notFound
			}
			if err != nil {
				return err
			}
			if c.Tags, err = fn(c.Tags); err != nil || !write {
				return err
			}
			_, err = store.PutJSON(tx, clustersTable, sc.Key(c.Name), c, v)
			return err
		case "task-definition":
			ref, ok := parseTaskDefRef(name)
			if !ok || ref.rev == 0 {
				return invalidParameter("The ARN provided is invalid.")
			}
			td, v, err := readTaskDef(tx, sc, ref)
			if isNotFound(err) {
				return notFound
			}
			if err != nil {
				return err
			}
			if td.Tags, err = fn(td.Tags); err != nil || !write {
				return err
			}
			_, err = store.PutJSON(tx, taskDefsTable, revisionKey(sc, ref.family, ref.rev), td, v)
			return err
		case "container-instance":
			ci, v, err := s.readInstance(tx, sc, nil, arn)
			if isNotFound(err) || (err == nil && ci.Status == statusInactive) {
				return notFound
			}
			if err != nil {
				return err
			}
			if ci.Tags, err = fn(ci.Tags); err != nil || !write {
				return err
			}
			return s.putInstance(tx, sc, &ci, v)
		case "capacity-provider":
			return s.tagProvider(tx, sc, name, write, fn)
		}
		return invalidParameter("The ARN provided is invalid.")
	})
}

func (s *Service) TagResource(ctx context.Context, in *api.TagResourceRequest) (*api.TagResourceResponse, error) {
	err := s.withTags(ctx, deref(in.ResourceArn), true, func(tags map[string]string) (map[string]string, error) {
		if err := checkTags(tags, in.Tags); err != nil {
			return nil, err
		}
		if tags == nil {
			tags = map[string]string{}
		}
		for k, v := range fromTags(in.Tags) {
			tags[k] = v
		}
		return tags, nil
	})
	if err != nil {
		return nil, err
	}
	return &api.TagResourceResponse{}, nil
}

func (s *Service) UntagResource(ctx context.Context, in *api.UntagResourceRequest) (*api.UntagResourceResponse, error) {
	err := s.withTags(ctx, deref(in.ResourceArn), true, func(tags map[string]string) (map[string]string, error) {
		for _, k := range in.TagKeys {
			delete(tags, k)
		}
		return tags, nil
	})
	if err != nil {
		return nil, err
	}
	return &api.UntagResourceResponse{}, nil
}

func (s *Service) ListTagsForResource(ctx context.Context, in *api.ListTagsForResourceRequest) (*api.ListTagsForResourceResponse, error) {
	var out api.Tags
	err := s.withTags(ctx, deref(in.ResourceArn), false, func(tags map[string]string) (map[string]string, error) {
		out = toTags(tags)
		return tags, nil
	})
	if err != nil {
		return nil, err
	}
	return &api.ListTagsForResourceResponse{Tags: out}, nil
}
