package cloudtrail

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
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
	after := ""
	if in.NextToken != nil {
		var ok bool
		if after, ok = decodeToken(*in.NextToken, scope); !ok {
			return nil, ctError("InvalidNextTokenException", "Invalid NextToken.")
		}
	} else if in.EndTime != nil {
		after = scope.Prefix() + stampKey(in.EndTime.Add(stampSlack).UnixNano())
	}
	var earliest string
	if in.StartTime != nil {
		earliest = scope.Prefix() + stampKey(in.StartTime.Add(-stampSlack).UnixNano())
	}
	s.Flush() // what the caller was answered before asking is in the history
	out := &api.LookupEventsResponse{Events: api.EventsList{}}
	err := s.Store.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, eventsTable, store.ScanOptions{Prefix: scope.Prefix(), After: after, Reverse: true},
			func(key string, ev event, _ int64) error {
				if earliest != "" && key < earliest {
					return store.ErrStop
				}
				if !ev.Management || !match(ev) || !inRange(ev.Time, in.StartTime, in.EndTime) {
					return nil
				}
				if len(out.Events) == limit {
					out.NextToken = new(encodeToken(key, scope)) // the page ends after the event before this one
					return store.ErrStop
				}
				out.Events = append(out.Events, ev.api())
				after = key
				return nil
			})
	})
	if err != nil {
		return nil, err
	}
	if out.NextToken != nil {
		out.NextToken = new(encodeToken(after, scope))
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
		EventTime: new(e.Time), EventSource: new(e.Source), Resources: api.ResourceList{}, CloudTrailEvent: new(string(e.Record))}
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

// A NextToken is the key of the last event of a page, without its
// scope's prefix: a token is good only in the scope that made it.
func encodeToken(key string, scope overcast.Scope) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strings.TrimPrefix(key, scope.Prefix())))
}

func decodeToken(token string, scope overcast.Scope) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) < 21 || b[20] != '/' {
		return "", false
	}
	return scope.Prefix() + string(b), true
}
