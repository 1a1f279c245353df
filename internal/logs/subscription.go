package logs

import (
	"context"
	"encoding/json"
	"strings"

	"overcast"
	api "overcast/internal/api/logs"
	"overcast/internal/awsproto"
	"overcast/internal/bus"
	"overcast/internal/store"
)

// Subscription filters deliver the events they match on the event bus, a
// bus event per filter and PutLogEvents (or Append), published in the
// transaction that stores the events: the services they name (Kinesis,
// Firehose, Lambda, a logs destination) consume them from there.

// maxSubscriptionFilters is AWS's quota of subscription filters per group.
const maxSubscriptionFilters = 2

// subscriptionFilter is a subscription filter's record, keyed by
// filterKey.
type subscriptionFilter struct {
	Name          string   `json:"name"`
	Group         string   `json:"group"`
	Pattern       string   `json:"pattern"`
	Destination   string   `json:"destination"`
	Role          string   `json:"role,omitempty"`
	Distribution  string   `json:"distribution"`
	Created       int64    `json:"created"`
	OnTransformed bool     `json:"onTransformed,omitempty"`
	SelectionCrit string   `json:"selection,omitempty"`
	SystemFields  []string `json:"systemFields,omitempty"`
}

// PutSubscriptionFilter implements api.Server: it creates or replaces the
// filter. The destination's ARN must have the shape of one AWS delivers
// to; the destination itself is not checked, no such service running here.
func (s *Service) PutSubscriptionFilter(ctx context.Context, in *api.PutSubscriptionFilterRequest) error {
	ref := groupFromName(ctx, *in.LogGroupName)
	if _, err := compilePattern(*in.FilterPattern); err != nil {
		return err
	}
	kind, err := checkDestination(ctx, *in.DestinationArn)
	if err != nil {
		return err
	}
	role := deref(in.RoleArn)
	if role != "" && !isRoleARN(role) {
		return invalidParameter("Invalid roleArn: %s is not an IAM role ARN.", role)
	}
	if role == "" && (kind == "kinesis" || kind == "firehose") {
		return invalidParameter("A roleArn is required to deliver to %s.", *in.DestinationArn)
	}
	f := subscriptionFilter{Name: *in.FilterName, Group: ref.Name, Pattern: *in.FilterPattern, Destination: *in.DestinationArn,
		Role: role, Distribution: "ByLogStream", Created: s.nowMillis(),
		OnTransformed: in.ApplyOnTransformedLogs != nil && *in.ApplyOnTransformedLogs,
		SelectionCrit: deref(in.FieldSelectionCriteria), SystemFields: in.EmitSystemFields}
	if in.Distribution != nil {
		f.Distribution = *in.Distribution
	}
	return s.putFilter(ctx, ref, subscriptionsTable, f.Name, &f, func(g *group) *int32 { return &g.Subscriptions }, maxSubscriptionFilters)
}

// checkDestination returns the kind of a subscription destination ARN:
// a Kinesis data stream, a Firehose delivery stream or a Lambda function of
// the caller's account and region, or a CloudWatch Logs destination of
// any account in the region.
func checkDestination(ctx context.Context, arn string) (string, error) {
	a, ok := overcast.ParseARN(arn)
	scope := overcast.ScopeOf(ctx)
	if ok && a.Region == scope.Region && overcast.IsAccountID(a.AccountID) {
		sameAccount := a.AccountID == scope.Account
		var name string
		switch a.Service {
		case "kinesis":
			name, ok = strings.CutPrefix(a.Resource, "stream/")
		case "firehose":
			name, ok = strings.CutPrefix(a.Resource, "deliverystream/")
		case "lambda":
			name, ok = strings.CutPrefix(a.Resource, "function:")
		case "logs":
			name, ok = strings.CutPrefix(a.Resource, "destination:")
			sameAccount = true // cross-account delivery goes through destinations
		default:
			ok = false
		}
		if ok && name != "" && sameAccount {
			return a.Service, nil
		}
	}
	return "", invalidParameter("Invalid destinationArn %s: a subscription filter delivers to a Kinesis data stream, "+
		"a Firehose delivery stream or a Lambda function of the same account and region, or to a CloudWatch Logs destination.", arn)
}

func isRoleARN(s string) bool {
	a, ok := overcast.ParseARN(s)
	return ok && a.Service == "iam" && overcast.IsAccountID(a.AccountID) && strings.HasPrefix(a.Resource, "role/")
}

// DeleteSubscriptionFilter implements api.Server.
func (s *Service) DeleteSubscriptionFilter(ctx context.Context, in *api.DeleteSubscriptionFilterRequest) error {
	return s.deleteFilter(ctx, groupFromName(ctx, *in.LogGroupName), subscriptionsTable, *in.FilterName,
		func(g *group) *int32 { return &g.Subscriptions },
		&awsproto.Error{Code: "ResourceNotFoundException", Status: 400, Message: "The specified subscription filter does not exist."})
}

// DescribeSubscriptionFilters implements api.Server: a group's filters in
// name order.
func (s *Service) DescribeSubscriptionFilters(ctx context.Context, in *api.DescribeSubscriptionFiltersRequest) (*api.DescribeSubscriptionFiltersResponse, error) {
	page, next, err := listFilters(ctx, s, subscriptionsTable, in.LogGroupName, in.FilterNamePrefix, in.NextToken,
		awsproto.PageSize(in.Limit, describeFiltersMax), func(*subscriptionFilter) bool { return true },
		func(f *subscriptionFilter) string { return f.Name })
	if err != nil {
		return nil, err
	}
	out := &api.DescribeSubscriptionFiltersResponse{SubscriptionFilters: api.SubscriptionFilters{}, NextToken: next}
	for _, f := range page {
		sf := api.SubscriptionFilter{FilterName: new(f.Name), LogGroupName: new(f.Group), FilterPattern: new(f.Pattern),
			DestinationArn: new(f.Destination), Distribution: new(f.Distribution), CreationTime: new(f.Created),
			EmitSystemFields: f.SystemFields}
		if f.Role != "" {
			sf.RoleArn = new(f.Role)
		}
		if f.OnTransformed {
			sf.ApplyOnTransformedLogs = new(true)
		}
		if f.SelectionCrit != "" {
			sf.FieldSelectionCriteria = new(f.SelectionCrit)
		}
		out.SubscriptionFilters = append(out.SubscriptionFilters, sf)
	}
	return out, nil
}

// deliver publishes, in the transaction that stored them, the events of
// one stream each of the group's subscription filters matches; it reports
// whether it published anything (the bus is then to be notified).
func (s *Service) deliver(ctx context.Context, tx store.Tx, g *group, st *stream, events []storedEvent) (bool, error) {
	if g.Subscriptions == 0 || len(events) == 0 || s.Bus == nil {
		return false, nil
	}
	ref := groupRef{Account: g.Account, Region: g.Region, Name: g.Name}
	var evs []bus.Event
	err := store.ScanJSON(tx, subscriptionsTable, store.ScanOptions{Prefix: filterPrefix(ref)}, func(_ string, f subscriptionFilter, _ int64) error {
		pat, err := s.patterns.compile(f.Pattern)
		if err != nil {
			return nil // stored before the pattern language changed: it matches nothing
		}
		d := Delivery{DestinationARN: f.Destination, RoleARN: f.Role, Distribution: f.Distribution,
			Data: DeliveryData{MessageType: "DATA_MESSAGE", Owner: g.Account, LogGroup: g.Name, LogStream: st.Name,
				SubscriptionFilters: []string{f.Name}}}
		for _, e := range events {
			if pat.match(e.Message) {
				d.Data.LogEvents = append(d.Data.LogEvents, DeliveredEvent{
					ID: mergePos{TS: e.Pos.TS, Stream: st.ID, Seq: e.Pos.Seq}.eventID(), Timestamp: e.Pos.TS, Message: e.Message})
			}
		}
		if len(d.Data.LogEvents) == 0 {
			return nil
		}
		detail, err := json.Marshal(d)
		if err != nil {
			return err
		}
		evs = append(evs, bus.Event{Source: EventSource, Type: DeliveryEventType, Time: s.Now(), Account: g.Account, Region: g.Region,
			Resources: []string{g.arn(), f.Destination}, Detail: detail})
		return nil
	})
	if err != nil || len(evs) == 0 {
		return false, err
	}
	return true, s.Bus.Publish(ctx, tx, evs...)
}

// Delivery is one batch a subscription filter delivers: where to, and
// the data in the form CloudWatch Logs sends it (the JSON that it gzips,
// and that Kinesis and Firehose records carry base64-encoded).
type Delivery struct {
	DestinationARN string       `json:"destinationArn"`
	RoleARN        string       `json:"roleArn,omitempty"`
	Distribution   string       `json:"distribution"`
	Data           DeliveryData `json:"data"`
}

// DeliveryData is CloudWatch Logs' subscription payload.
type DeliveryData struct {
	MessageType         string           `json:"messageType"` // DATA_MESSAGE
	Owner               string           `json:"owner"`
	LogGroup            string           `json:"logGroup"`
	LogStream           string           `json:"logStream"`
	SubscriptionFilters []string         `json:"subscriptionFilters"`
	LogEvents           []DeliveredEvent `json:"logEvents"`
}

// DeliveredEvent is a log event in a DeliveryData.
type DeliveredEvent struct {
	ID        string `json:"id"`
	Timestamp int64  `json:"timestamp"`
	Message   string `json:"message"`
}

// The bus event of a subscription filter's delivery; its Detail is a
// Delivery.
const (
	EventSource       = "aws.logs"
	DeliveryEventType = "Subscription Filter Delivery"
)
