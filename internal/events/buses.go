package events

import (
	"context"
	"errors"
	"slices"
	"strings"

	"overcast"
	api "overcast/internal/api/events"
	"overcast/internal/awsproto"
	"overcast/internal/service"
	"overcast/internal/store"
)

// CreateEventBus implements api.Server.
func (s *Service) CreateEventBus(ctx context.Context, in *api.CreateEventBusRequest) (*api.CreateEventBusResponse, error) {
	sc := overcast.ScopeOf(ctx)
	name := *in.Name
	if name == defaultBus || strings.Contains(name, "|") {
		return nil, invalid("Event bus name %s is not valid.", name)
	}
	if in.EventSourceName != nil {
		return nil, invalid("Event source %s does not exist.", *in.EventSourceName)
	}
	now := s.Now().UTC()
	b := busRecord{Name: name, ARN: busARN(sc, name), Description: service.Deref(in.Description), Created: now, Modified: now}
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		if _, err := store.PutJSON(tx, busesTable, busKey(sc, name), &b, 0); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return alreadyExists("Event bus %s already exists.", name)
			}
			return err
		}
		return putTags(tx, b.ARN, in.Tags)
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateEventBusResponse{EventBusArn: &b.ARN, Description: in.Description}, nil
}

// DescribeEventBus implements api.Server.
func (s *Service) DescribeEventBus(ctx context.Context, in *api.DescribeEventBusRequest) (*api.DescribeEventBusResponse, error) {
	sc := overcast.ScopeOf(ctx)
	name := busName(in.Name)
	var b busRecord
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		b, err = getBus(tx, sc, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &api.DescribeEventBusResponse{Name: &b.Name, Arn: &b.ARN, Description: service.OmitZero(b.Description)}
	if !b.Created.IsZero() {
		out.CreationTime, out.LastModifiedTime = &b.Created, &b.Modified
	}
	return out, nil
}

// getBus reads a bus; the default bus is always there.
func getBus(tx store.Tx, sc scope, name string) (busRecord, error) {
	if name == defaultBus {
		return busRecord{Name: defaultBus, ARN: busARN(sc, defaultBus)}, nil
	}
	var b busRecord
	_, err := store.GetJSON(tx, busesTable, busKey(sc, name), &b)
	if errors.Is(err, store.ErrNotFound) {
		return b, notFound("Event bus %s does not exist.", name)
	}
	return b, err
}

// DeleteEventBus implements api.Server. Deleting a bus that does not exist
// succeeds, as on AWS; its rules go with it.
func (s *Service) DeleteEventBus(ctx context.Context, in *api.DeleteEventBusRequest) error {
	sc := overcast.ScopeOf(ctx)
	name := busName(in.Name)
	if name == defaultBus {
		return invalid("Cannot delete event bus default.")
	}
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		err := tx.Delete(busesTable, busKey(sc, name), store.AnyVersion)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := deleteTags(tx, busARN(sc, name)); err != nil {
			return err
		}
		_, err = store.DeleteScanned(tx, rulesTable, store.ScanOptions{Prefix: rulesPrefix(sc, name)})
		return err
	})
	if err == nil {
		s.rulesChanged(sc, name)
	}
	return err
}

// ListEventBuses implements api.Server.
func (s *Service) ListEventBuses(ctx context.Context, in *api.ListEventBusesRequest) (*api.ListEventBusesResponse, error) {
	sc := overcast.ScopeOf(ctx)
	prefix := service.Deref(in.NamePrefix)
	after, err := awsproto.PageAfter(in.NextToken, invalid("The nextToken provided is invalid."))
	if err != nil {
		return nil, err
	}
	// The default bus comes first; a page ending with it resumes at the
	// first custom bus (none can be named default).
	var buses []busRecord
	if strings.HasPrefix(defaultBus, prefix) && after == "" {
		buses = append(buses, busRecord{Name: defaultBus, ARN: busARN(sc, defaultBus)})
	}
	if after == defaultBus {
		after = ""
	}
	err = s.Store.View(ctx, func(tx store.Tx) error {
		custom, err := store.FilterJSON[busRecord](tx, busesTable, store.ScanOptions{Prefix: sc.Key(prefix), After: afterKey(sc.Prefix(), after)}, nil)
		buses = append(buses, custom...)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &api.ListEventBusesResponse{}
	limit := awsproto.PageSize(in.Limit, 100)
	if len(buses) > limit {
		buses = buses[:limit]
		out.NextToken = awsproto.PageToken(buses[limit-1].Name)
	}
	for _, b := range buses {
		e := api.EventBus{Name: &b.Name, Arn: &b.ARN, Description: service.OmitZero(b.Description)}
		if !b.Created.IsZero() {
			e.CreationTime, e.LastModifiedTime = &b.Created, &b.Modified
		}
		out.EventBuses = append(out.EventBuses, e)
	}
	return out, nil
}

// afterKey is the store key a listing resumes after, for a page token's
// name; none when the listing starts from the beginning.
func afterKey(prefix, after string) string {
	if after == "" {
		return ""
	}
	return prefix + after
}

// tag is one tag of a bus or rule.
type tag = service.Tag

// putTags merges tags into the resource's.
func putTags(tx store.Tx, arn string, tags api.TagList) error {
	if len(tags) == 0 {
		return nil
	}
	var have []tag
	if _, err := store.GetJSON(tx, tagsTable, arn, &have); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	for _, t := range tags {
		have = service.SetTag(have, *t.Key, *t.Value)
	}
	if len(have) > 50 {
		return limitExceeded("The requested resource exceeds the maximum number allowed.")
	}
	_, err := store.PutJSON(tx, tagsTable, arn, have, store.AnyVersion)
	return err
}

func deleteTags(tx store.Tx, arn string) error {
	err := tx.Delete(tagsTable, arn, store.AnyVersion)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// taggable checks that arn names an existing bus or rule of the caller.
func taggable(tx store.Tx, sc scope, arn string) error {
	a, ok := overcast.ParseARN(arn)
	if !ok || a.Service != "events" || a.AccountID != sc.Account || a.Region != sc.Region {
		return notFound("Resource %s does not exist.", arn)
	}
	if name, ok := strings.CutPrefix(a.Resource, "event-bus/"); ok {
		_, err := getBus(tx, sc, name)
		return err
	}
	if path, ok := strings.CutPrefix(a.Resource, "rule/"); ok {
		bus, name := defaultBus, path
		if i := strings.LastIndex(path, "/"); i >= 0 {
			bus, name = path[:i], path[i+1:]
		}
		_, _, err := getRule(tx, sc, bus, name)
		return err
	}
	return notFound("Resource %s does not exist.", arn)
}

// TagResource implements api.Server.
func (s *Service) TagResource(ctx context.Context, in *api.TagResourceRequest) (*api.TagResourceResponse, error) {
	sc := overcast.ScopeOf(ctx)
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		if err := taggable(tx, sc, *in.ResourceARN); err != nil {
			return err
		}
		return putTags(tx, *in.ResourceARN, in.Tags)
	})
	if err != nil {
		return nil, err
	}
	return &api.TagResourceResponse{}, nil
}

// UntagResource implements api.Server.
func (s *Service) UntagResource(ctx context.Context, in *api.UntagResourceRequest) (*api.UntagResourceResponse, error) {
	sc := overcast.ScopeOf(ctx)
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		if err := taggable(tx, sc, *in.ResourceARN); err != nil {
			return err
		}
		var have []tag
		if _, err := store.GetJSON(tx, tagsTable, *in.ResourceARN, &have); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			return err
		}
		have = slices.DeleteFunc(have, func(t tag) bool { return slices.Contains(in.TagKeys, t.Key) })
		_, err := store.PutJSON(tx, tagsTable, *in.ResourceARN, have, store.AnyVersion)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.UntagResourceResponse{}, nil
}

// ListTagsForResource implements api.Server.
func (s *Service) ListTagsForResource(ctx context.Context, in *api.ListTagsForResourceRequest) (*api.ListTagsForResourceResponse, error) {
	sc := overcast.ScopeOf(ctx)
	var have []tag
	err := s.Store.View(ctx, func(tx store.Tx) error {
		if err := taggable(tx, sc, *in.ResourceARN); err != nil {
			return err
		}
		_, err := store.GetJSON(tx, tagsTable, *in.ResourceARN, &have)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &api.ListTagsForResourceResponse{Tags: api.TagList{}}
	for _, t := range have {
		out.Tags = append(out.Tags, api.Tag{Key: &t.Key, Value: &t.Value})
	}
	return out, nil
}
