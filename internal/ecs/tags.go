package ecs

import (
	"context"
	"strings"

	"overcast"
	api "overcast/internal/api/ecs"
	"overcast/internal/store"
)

// withTags locates the record a resource ARN names and hands fn the tags
// in it, saving what fn returns when write is set: clusters, task
// definitions, container instances, capacity providers, services and
// tasks.
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
		case "service":
			return s.tagService(tx, sc, name, write, fn)
		case "task":
			return s.tagTask(tx, sc, name, write, fn)
		}
		return invalidParameter("The ARN provided is invalid.")
	})
}

// errShortARN is ECS's answer to a tagging operation on a service or task
// ARN of the old format, which has no cluster in it.
func errShortARN() error {
	return invalidParameter("Long arn format must be used for tagging operations")
}

// tagService is withTags' case for service ARNs, "<cluster>/<name>" after
// "service/". A service that is INACTIVE is gone, its tags with it.
func (s *Service) tagService(tx store.Tx, sc scope, ref string, write bool, fn func(map[string]string) (map[string]string, error)) error {
	cluster, name, ok := strings.Cut(ref, "/")
	if !ok {
		return errShortARN()
	}
	if strings.Contains(name, "/") {
		return invalidParameter("The ARN provided is invalid.")
	}
	sv, v, err := s.readService(tx, sc, cluster, name)
	if isServiceNotFound(err) || (err == nil && sv.Status == serviceInactive) {
		return api.NewResourceNotFoundException("The specified resource could not be found.")
	}
	if err != nil {
		return err
	}
	tags, err := fn(fromTags(sv.View.Tags))
	if err != nil || !write {
		return err
	}
	sv.View.Tags = toTags(tags)
	// The service controller writes over the version it read, and looks
	// again when that changed: it does not write the old tags back.
	_, err = store.PutJSON(tx, servicesTable, serviceKey(sc, cluster, name), sv, v)
	return err
}

// tagTask is withTags' case for task ARNs, "<cluster>/<id>" after
// "task/": running tasks and the stopped ones DescribeTasks still shows.
func (s *Service) tagTask(tx store.Tx, sc scope, ref string, write bool, fn func(map[string]string) (map[string]string, error)) error {
	cluster, id, ok := strings.Cut(ref, "/")
	if !ok {
		return errShortARN()
	}
	key := taskKey(sc, cluster, id)
	t, v, err := s.readTask(tx, key)
	if isNotFound(err) {
		return api.NewResourceNotFoundException("The specified resource could not be found.")
	}
	if err != nil {
		return err
	}
	if t.Tags, err = fn(t.Tags); err != nil || !write {
		return err
	}
	// Tags are no change of the task's state: its version stays and no
	// state change is published. That is also how the task controller,
	// writing a copy it read before, tells a tag write from a change it
	// must not overwrite (saveTask).
	_, err = store.PutJSON(tx, tasksTable, key, t, v)
	return err
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
