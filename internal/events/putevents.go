package events

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/events"
	"overcast/internal/service"
	"overcast/internal/store"
)

// event is an EventBridge event, its members in AWS's order.
type event struct {
	envelope
	Detail json.RawMessage `json:"detail"`
}

const eventTimeFormat = "2006-01-02T15:04:05Z"

func (s *Service) newEvent(sc scope, source, detailType string, at time.Time, resources []string, detail []byte) event {
	if resources == nil {
		resources = []string{}
	}
	return event{envelope{Version: "0", ID: s.IDs.UUID(), DetailType: detailType, Source: source, Account: sc.Account,
		Time: at.UTC().Format(eventTimeFormat), Region: sc.Region, Resources: resources}, detail}
}

// maxEntrySize is the largest event PutEvents takes (1 MB since 2025).
const maxEntrySize = 1 << 20

// PutEvents implements api.Server. Every accepted entry is matched against
// its bus's rules, and its deliveries written, in one transaction: once
// PutEvents answers, the deliveries survive a crash.
func (s *Service) PutEvents(ctx context.Context, in *api.PutEventsRequest) (*api.PutEventsResponse, error) {
	sc := overcast.ScopeOf(ctx)
	now := s.Now().UTC()
	results := make([]api.PutEventsResultEntry, len(in.Entries))
	var failed int32
	var deliveries []string
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		failed, deliveries = 0, nil
		for i, e := range in.Entries {
			ev, bus, code, msg := s.acceptEntry(sc, &e, now)
			if code == "" {
				if err := checkBus(tx, sc, bus); err != nil {
					code, msg = "NotAuthorizedForDestination", fmt.Sprintf("Event bus %s does not exist.", bus)
				}
			}
			if code != "" {
				results[i] = api.PutEventsResultEntry{ErrorCode: &code, ErrorMessage: &msg}
				failed++
				continue
			}
			keys, err := s.route(tx, sc, bus, ev)
			if err != nil {
				return err
			}
			deliveries = append(deliveries, keys...)
			results[i] = api.PutEventsResultEntry{EventId: &ev.ID}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.deliveries.Enqueue(deliveries...)
	return &api.PutEventsResponse{FailedEntryCount: &failed, Entries: results}, nil
}

// acceptEntry checks a PutEvents entry, returning its event and bus, or
// the error code and message of the entry's result.
func (s *Service) acceptEntry(sc scope, e *api.PutEventsRequestEntry, now time.Time) (event, string, string, string) {
	required := func(name string) (event, string, string, string) {
		return event{}, "", "InvalidArgument", fmt.Sprintf("Parameter %s is not valid. Reason: %s is a required argument.", name, name)
	}
	source, detailType, detail := service.Deref(e.Source), service.Deref(e.DetailType), service.Deref(e.Detail)
	switch {
	case source == "":
		return required("Source")
	case detailType == "":
		return required("DetailType")
	case detail == "":
		return required("Detail")
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal([]byte(detail), &obj) != nil || obj == nil {
		return event{}, "", "MalformedDetail", "Detail is malformed."
	}
	if strings.HasPrefix(source, "aws.") {
		return event{}, "", "NotAuthorizedForSourceException", "Not authorized for the source."
	}
	at := now
	if e.Time != nil {
		at = *e.Time
	}
	ev := s.newEvent(sc, source, detailType, at, e.Resources, []byte(detail))
	if size := len(source) + len(detailType) + len(detail) + len(strings.Join(e.Resources, "")); size > maxEntrySize {
		return event{}, "", "InvalidArgument", "Total size of the entries in the request is over the limit."
	}
	return ev, busName(e.EventBusName), "", ""
}

// route matches ev against the bus's enabled rules and writes a delivery
// for each target of each matching rule, within tx; it returns the
// deliveries' keys, to enqueue once tx commits.
func (s *Service) route(tx store.Tx, sc scope, bus string, ev event) ([]string, error) {
	raw, names, err := s.matchingRules(tx, sc, bus, ev)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, name := range names {
		r, _, err := getRule(tx, sc, bus, name)
		if err != nil {
			continue // deleted since the rule set was compiled
		}
		if !r.enabled() {
			continue
		}
		k, err := s.writeDeliveries(tx, sc, r, ev.ID, raw)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k...)
	}
	return keys, nil
}

// matchingRules returns the event's JSON and the names of the bus's
// enabled rules it matches.
func (s *Service) matchingRules(tx store.Tx, sc scope, bus string, ev event) ([]byte, []string, error) {
	raw, err := json.Marshal(ev)
	if err != nil {
		return nil, nil, err
	}
	rs, err := s.ruleSetOf(tx, sc, bus)
	if err != nil {
		return nil, nil, err
	}
	names, err := rs.matchEvent(raw)
	return raw, names, err
}

// deliverToRule writes the deliveries of ev to one rule's targets (a
// scheduled rule firing).
func (s *Service) deliverToRule(tx store.Tx, sc scope, r ruleRecord, ev event) ([]string, error) {
	raw, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	return s.writeDeliveries(tx, sc, r, ev.ID, raw)
}

func (s *Service) writeDeliveries(tx store.Tx, sc scope, r ruleRecord, eventID string, raw []byte) ([]string, error) {
	now := s.Now().UTC()
	var keys []string
	for _, t := range r.Targets {
		d := delivery{Account: sc.Account, Region: sc.Region, RuleARN: r.ARN, RuleName: r.Name, Target: t,
			Event: raw, Ingested: now, Next: now}
		key := eventID + "/" + r.ARN + "/" + *t.Id
		if _, err := store.PutJSON(tx, deliveriesTable, key, &d, store.AnyVersion); err != nil {
			return nil, err
		}
		keys = append(keys, key)
	}
	return keys, nil
}
