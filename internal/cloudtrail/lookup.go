package cloudtrail

import (
	"context"
	"strconv"
	"time"

	"overcast"
	api "overcast/internal/api/cloudtrail"
	"overcast/internal/store"
)

// defaultMaxResults is LookupEvents' page size when a request names none.
const defaultMaxResults = 50

// stampSlack is how far an event's key stamp may be from its time: keys
// follow the order of writing, which trails the time of the call by as
// long as the call and the writer's queue took.
const stampSlack = time.Minute

// LookupEvents searches the management events of the last 90 days in the
// caller's region, newest first.
func (s *Service) LookupEvents(ctx context.Context, in *api.LookupEventsRequest) (*api.LookupEventsResponse, error) {
	if len(in.LookupAttributes) > 1 {
		return nil, ctError("InvalidLookupAttributesException", "You cannot specify more than one lookup attribute.")
	}
	match := func(event) bool { return true }
	if len(in.LookupAttributes) == 1 {
		m, err := attributeMatcher(in.LookupAttributes[0])
		if err != nil {
			return nil, err
		}
		match = m
	}
	if in.StartTime != nil && in.EndTime != nil && in.StartTime.After(*in.EndTime) {
		return nil, ctError("InvalidTimeRangeException", "Start time must be less than end time.")
	}
	if in.EventCategory != nil && *in.EventCategory == "insight" {
		return &api.LookupEventsResponse{Events: api.EventsList{}}, nil // no Insights here
	}
	limit := defaultMaxResults
	if in.MaxResults != nil {
		limit = int(*in.MaxResults)
	}
	scope := overcast.ScopeOf(ctx)
	opt := store.ScanOptions{Prefix: scope.Prefix(), Reverse: true}
	var from *position
	if in.NextToken != nil {
		p, ok := parsePosition(*in.NextToken, scope)
		if !ok {
			return nil, ctError("InvalidNextTokenException", "Invalid NextToken.")
		}
		from = &p
	} else if in.EndTime != nil {
		opt.After = scope.Prefix() + stampKey(in.EndTime.Add(stampSlack).UnixNano())
	}
	var earliest string
	if in.StartTime != nil {
		earliest = scope.Prefix() + stampKey(in.StartTime.Add(-stampSlack).UnixNano())
	}
	s.Flush() // what the caller was answered before asking is in the history
	out := &api.LookupEventsResponse{Events: api.EventsList{}}
	var last position
	err := s.history.View(ctx, func(tx store.Tx) error {
		return scanEvents(tx, opt, from, func(p position, ev event) error {
			if earliest != "" && p.key < earliest {
				return store.ErrStop
			}
			if !ev.Management || !match(ev) || !inRange(ev.Time, in.StartTime, in.EndTime) {
				return nil
			}
			if len(out.Events) == limit {
				out.NextToken = new(last.token(scope)) // there is more: the next page starts after the last event of this one
				return store.ErrStop
			}
			out.Events = append(out.Events, ev.api())
			last = p
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func inRange(t time.Time, start, end *time.Time) bool {
	return (start == nil || !t.Before(*start)) && (end == nil || !t.After(*end))
}

// attributeMatcher is the test one lookup attribute puts to events.
func attributeMatcher(a api.LookupAttribute) (func(event) bool, error) {
	v := *a.AttributeValue
	switch *a.AttributeKey {
	case "EventId":
		return func(e event) bool { return e.ID == v }, nil
	case "EventName":
		return func(e event) bool { return e.Name == v }, nil
	case "ReadOnly":
		return func(e event) bool { return strconv.FormatBool(e.ReadOnly) == v }, nil
	case "Username":
		return func(e event) bool { return e.Username == v }, nil
	case "EventSource":
		return func(e event) bool { return e.Source == v }, nil
	case "AccessKeyId":
		return func(e event) bool { return e.AccessKeyID == v }, nil
	case "ResourceType":
		return func(e event) bool { return e.hasResource(func(r resource) bool { return r.Type == v }) }, nil
	case "ResourceName":
		return func(e event) bool { return e.hasResource(func(r resource) bool { return r.Name == v }) }, nil
	}
	return nil, ctError("InvalidLookupAttributesException", "Invalid attribute key: %s", *a.AttributeKey)
}

func (e event) hasResource(f func(resource) bool) bool {
	for _, r := range e.Resources {
		if f(r) {
			return true
		}
	}
	return false
}

// api is the event as LookupEvents lists it.
func (e event) api() api.Event {
	out := api.Event{EventId: new(e.ID), EventName: new(e.Name), ReadOnly: new(strconv.FormatBool(e.ReadOnly)),
		EventTime: new(e.Time), EventSource: new(e.Source), Resources: api.ResourceList{}, CloudTrailEvent: new(string(e.record()))}
	if e.AccessKeyID != "" {
		out.AccessKeyId = new(e.AccessKeyID)
	}
	if e.Username != "" {
		out.Username = new(e.Username)
	}
	for _, r := range e.Resources {
		out.Resources = append(out.Resources, api.Resource{ResourceType: new(r.Type), ResourceName: new(r.Name)})
	}
	return out
}
