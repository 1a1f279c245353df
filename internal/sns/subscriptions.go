package sns

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"strconv"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/sns"
	"overcast/internal/store"
)

// subscription is the record of a subscription, keyed by its ARN.
type subscription struct {
	ARN      string `json:"arn"`
	TopicARN string `json:"topicArn"`
	Owner    string `json:"owner"`
	Protocol string `json:"protocol"`
	Endpoint string `json:"endpoint"`
	// Attributes are the ones the user set (RawMessageDelivery,
	// FilterPolicy, FilterPolicyScope, RedrivePolicy, DeliveryPolicy).
	Attributes map[string]string `json:"attributes,omitempty"`
	Confirmed  bool              `json:"confirmed"`
	// Authenticated is ConfirmationWasAuthenticated: confirmed by a signed
	// ConfirmSubscription call rather than the SubscribeURL.
	Authenticated bool `json:"authenticated,omitempty"`
	// Token confirms a pending subscription.
	Token   string    `json:"token,omitempty"`
	Created time.Time `json:"created"`
}

const (
	attrRawMessageDelivery = "RawMessageDelivery"
	attrFilterPolicy       = "FilterPolicy"
	attrFilterPolicyScope  = "FilterPolicyScope"
	attrRedrivePolicy      = "RedrivePolicy"

	scopeAttributes = "MessageAttributes"
	scopeBody       = "MessageBody"
)

const (
	protoSQS       = "sqs"
	protoHTTP      = "http"
	protoHTTPS     = "https"
	protoEmail     = "email"
	protoEmailJSON = "email-json"
)

// subscriptionAttributes are the attributes a user may set, each with its
// check of the value (given the subscription's protocol).
var subscriptionAttributes = map[string]func(sub *subscription, v string) error{
	attrRawMessageDelivery: func(sub *subscription, v string) error {
		if !isBool(v) {
			return errInvalid("RawMessageDelivery: Invalid value [%s]. Must be true or false.", v)
		}
		if v == "true" && (sub.Protocol == protoEmail || sub.Protocol == protoEmailJSON) {
			return errInvalid("Delivery protocol [%s] does not support raw message delivery.", sub.Protocol)
		}
		return nil
	},
	attrFilterPolicy: func(sub *subscription, v string) error {
		if v == "" {
			return nil
		}
		_, err := parseFilterPolicy(v, sub.Attributes[attrFilterPolicyScope] == scopeBody)
		return err
	},
	attrFilterPolicyScope: func(sub *subscription, v string) error {
		if v != scopeAttributes && v != scopeBody {
			return errInvalid("FilterPolicyScope: Invalid value [%s]. Please use either MessageBody or MessageAttributes", v)
		}
		if p := sub.Attributes[attrFilterPolicy]; p != "" {
			_, err := parseFilterPolicy(p, v == scopeBody)
			return err
		}
		return nil
	},
	attrRedrivePolicy: func(sub *subscription, v string) error {
		if v == "" {
			return nil
		}
		p, err := parseRedrivePolicy(v)
		if err == nil && strings.HasSuffix(sub.TopicARN, ".fifo") && strings.HasSuffix(sub.Endpoint, ".fifo") &&
			!strings.HasSuffix(p.DeadLetterTargetArn, ".fifo") {
			return errInvalid("RedrivePolicy: must use a FIFO queue as DLQ for a FIFO Subscription to a FIFO Topic.")
		}
		return err
	},
	attrDeliveryPolicy: func(sub *subscription, v string) error {
		if v != "" && !validDeliveryPolicy(v) {
			return errInvalid("DeliveryPolicy: Invalid value")
		}
		return nil
	},
}

// redrivePolicy is a subscription's RedrivePolicy.
type redrivePolicy struct {
	DeadLetterTargetArn string `json:"deadLetterTargetArn"`
}

func parseRedrivePolicy(v string) (redrivePolicy, error) {
	var p redrivePolicy
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return p, errInvalid("RedrivePolicy: failed to parse JSON.")
	}
	a, ok := overcast.ParseARN(p.DeadLetterTargetArn)
	if !ok || a.Service != "sqs" {
		return p, errInvalid("RedrivePolicy: deadLetterTargetArn is an invalid arn")
	}
	return p, nil
}

// checkEndpoint validates a subscription's endpoint for its protocol on t.
// FIFO topics deliver to queues only (standard or FIFO); standard topics
// do not deliver to FIFO queues.
func checkEndpoint(t *topic, protocol, endpoint string) error {
	switch protocol {
	case protoSQS:
		a, ok := overcast.ParseARN(endpoint)
		if !ok || a.Service != "sqs" || a.Resource == "" {
			return errInvalid("SQS endpoint ARN")
		}
		if !t.fifo() && strings.HasSuffix(a.Resource, ".fifo") {
			return errInvalid("Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics")
		}
		return nil
	case protoHTTP, protoHTTPS, protoEmail, protoEmailJSON:
	case "lambda", "firehose", "application", "sms":
		// AWS's protocols that overcast has nothing to deliver to yet:
		// refused, rather than accepted and never delivered.
		return errInvalid("Protocol Reason: overcast does not deliver to %s subscriptions", protocol)
	default:
		return errInvalid("Amazon SNS does not support this protocol string: %s", protocol)
	}
	if t.fifo() {
		return errInvalid("Invalid protocol type: %s", protocol)
	}
	if protocol == protoHTTP || protocol == protoHTTPS {
		if !strings.HasPrefix(strings.ToLower(endpoint), protocol+"://") {
			return errInvalid("Endpoint must match the specified protocol")
		}
		return nil
	}
	at := strings.IndexByte(endpoint, '@')
	if at <= 0 || at == len(endpoint)-1 {
		return errInvalid("Email address")
	}
	return nil
}

func (s *Service) Subscribe(ctx context.Context, in *api.SubscribeInput) (*api.SubscribeResponse, error) {
	protocol, endpoint := strings.ToLower(*in.Protocol), ""
	if in.Endpoint != nil {
		endpoint = *in.Endpoint
	}
	t, err := s.viewTopic(ctx, *in.TopicArn, "Subscribe")
	if err != nil {
		return nil, err
	}
	if err := checkEndpoint(t, protocol, endpoint); err != nil {
		return nil, err
	}
	sub := &subscription{TopicARN: t.ARN, Owner: overcast.CallerFrom(ctx).AccountID, Protocol: protocol, Endpoint: endpoint,
		Attributes: map[string]string{}, Created: s.Now()}
	if err := setSubscriptionAttributes(sub, in.Attributes); err != nil {
		return nil, err
	}
	// A queue of the subscriber's own account is confirmed at once; an
	// endpoint, or another account's queue, must prove it asked.
	sub.Confirmed = protocol == protoSQS && queueAccount(endpoint) == sub.Owner
	sub.Authenticated = sub.Confirmed
	if !sub.Confirmed {
		sub.Token = s.IDs.Hex(64)
	}
	sub.ARN = t.ARN + ":" + s.IDs.UUID()
	existing := false
	err = store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		existing = false
		var found *subscription
		err := store.ScanJSON(tx, subscriptionsTable, store.ScanOptions{Prefix: t.ARN + ":"}, func(_ string, o subscription, _ int64) error {
			if o.Protocol == protocol && o.Endpoint == endpoint {
				found = &o
				return store.ErrStop
			}
			return nil
		})
		if err != nil {
			return err
		}
		if found != nil {
			if !maps.Equal(found.Attributes, sub.Attributes) && len(in.Attributes) > 0 {
				return errInvalid("Attributes Reason: Subscription already exists with different attributes")
			}
			existing, sub = true, found
			return nil
		}
		if _, err := store.PutJSON(tx, subscriptionsTable, sub.ARN, sub, 0); err != nil {
			return err
		}
		if !sub.Confirmed {
			return s.queueConfirmation(tx, t, sub)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !existing && !sub.Confirmed {
		s.deliveries.Enqueue(confirmationKey(sub))
	}
	arn := sub.ARN
	if !sub.Confirmed && !isTrue(in.ReturnSubscriptionArn) {
		arn = pendingARN
	}
	return &api.SubscribeResponse{SubscriptionArn: &arn}, nil
}

func isTrue(b *bool) bool { return b != nil && *b }

func queueAccount(queueARN string) string {
	a, _ := overcast.ParseARN(queueARN)
	return a.AccountID
}

// setSubscriptionAttributes checks and applies attrs to sub.
func setSubscriptionAttributes(sub *subscription, attrs map[string]string) error {
	// The scope first: the policy is read in it.
	if v, ok := attrs[attrFilterPolicyScope]; ok {
		if err := subscribeAttribute(sub, attrFilterPolicyScope, v); err != nil {
			return err
		}
	}
	for k, v := range attrs {
		if err := subscribeAttribute(sub, k, v); err != nil {
			return err
		}
	}
	return nil
}

func setSubscriptionAttribute(sub *subscription, name, value string) error {
	check, ok := subscriptionAttributes[name]
	if !ok {
		return errInvalid("AttributeName")
	}
	if err := check(sub, value); err != nil {
		return err
	}
	return applySubscriptionAttribute(sub, name, value)
}

// subscribeAttribute is setSubscriptionAttribute for Subscribe, whose
// faults SNS words as about its Attributes.
func subscribeAttribute(sub *subscription, name, value string) error {
	err := setSubscriptionAttribute(sub, name, value)
	var ip *api.InvalidParameterException
	if errors.As(err, &ip) && ip.Message != nil {
		return errInvalid("Attributes Reason: %s", strings.TrimPrefix(*ip.Message, "Invalid parameter: "))
	}
	return err
}

func applySubscriptionAttribute(sub *subscription, name, value string) error {
	if value == "" {
		delete(sub.Attributes, name)
		return nil
	}
	sub.Attributes[name] = value
	if name == attrFilterPolicy && sub.Attributes[attrFilterPolicyScope] == "" {
		sub.Attributes[attrFilterPolicyScope] = scopeAttributes
	}
	return nil
}

func (s *Service) ConfirmSubscription(ctx context.Context, in *api.ConfirmSubscriptionInput) (*api.ConfirmSubscriptionResponse, error) {
	arn, err := s.confirm(ctx, *in.TopicArn, *in.Token, true)
	if err != nil {
		return nil, err
	}
	return &api.ConfirmSubscriptionResponse{SubscriptionArn: &arn}, nil
}

// confirm confirms the subscription of topicARN whose token is token.
func (s *Service) confirm(ctx context.Context, topicARN, token string, authenticated bool) (string, error) {
	if _, _, err := topicKey(topicARN); err != nil {
		return "", err
	}
	var arn string
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		if _, _, err := getTopic(tx, topicARN); err != nil {
			return err
		}
		var found *subscription
		var version int64
		err := store.ScanJSON(tx, subscriptionsTable, store.ScanOptions{Prefix: topicARN + ":"}, func(_ string, o subscription, v int64) error {
			if o.Token != "" && o.Token == token {
				found, version = &o, v
				return store.ErrStop
			}
			return nil
		})
		if err != nil {
			return err
		}
		if found == nil {
			return errInvalid("Token")
		}
		arn = found.ARN
		if found.Confirmed {
			return nil
		}
		found.Confirmed, found.Authenticated = true, authenticated
		_, err = store.PutJSON(tx, subscriptionsTable, found.ARN, found, version)
		return err
	})
	return arn, err
}

// Unsubscribe is idempotent: a subscription already gone is no error.
func (s *Service) Unsubscribe(ctx context.Context, in *api.UnsubscribeInput) error {
	arn := *in.SubscriptionArn
	if _, err := s.getSubscription(ctx, arn); err != nil {
		var nf *api.NotFoundException
		if errors.As(err, &nf) {
			return nil
		}
		return err
	}
	return s.Store.Update(ctx, func(tx store.Tx) error {
		err := tx.Delete(subscriptionsTable, arn, store.AnyVersion)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
}

// getSubscription reads the subscription arn names.
func (s *Service) getSubscription(ctx context.Context, arn string) (*subscription, error) {
	a, ok := overcast.ParseARN(arn)
	if !ok || a.Service != "sns" || strings.Count(a.Resource, ":") != 1 {
		return nil, errInvalid("SubscriptionArn")
	}
	var sub subscription
	err := s.Store.View(ctx, func(tx store.Tx) error {
		_, err := store.GetJSON(tx, subscriptionsTable, arn, &sub)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, errSubscriptionNotFound()
	}
	return &sub, err
}

func (s *Service) ListSubscriptions(ctx context.Context, in *api.ListSubscriptionsInput) (*api.ListSubscriptionsResponse, error) {
	sc := overcast.ScopeOf(ctx)
	list, next, err := s.listSubscriptions(ctx, "arn:aws:sns:"+sc.Region+":"+sc.Account+":", in.NextToken)
	return &api.ListSubscriptionsResponse{Subscriptions: list, NextToken: next}, err
}

func (s *Service) ListSubscriptionsByTopic(ctx context.Context, in *api.ListSubscriptionsByTopicInput) (*api.ListSubscriptionsByTopicResponse, error) {
	t, err := s.viewTopic(ctx, *in.TopicArn, "ListSubscriptionsByTopic")
	if err != nil {
		return nil, err
	}
	list, next, err := s.listSubscriptions(ctx, t.ARN+":", in.NextToken)
	return &api.ListSubscriptionsByTopicResponse{Subscriptions: list, NextToken: next}, err
}

// listSubscriptions lists a page of the subscriptions under prefix; the
// token is the last ARN of the previous page.
func (s *Service) listSubscriptions(ctx context.Context, prefix string, token *string) ([]api.Subscription, *string, error) {
	list := []api.Subscription{}
	var next *string
	err := s.Store.View(ctx, func(tx store.Tx) error {
		opt := store.ScanOptions{Prefix: prefix}
		if token != nil {
			opt.After = *token
		}
		var last string
		return store.ScanJSON(tx, subscriptionsTable, opt, func(key string, sub subscription, _ int64) error {
			if len(list) == pageSize {
				next = &last
				return store.ErrStop
			}
			last = key
			arn := sub.ARN
			if !sub.Confirmed {
				arn = pendingListedARN
			}
			list = append(list, api.Subscription{SubscriptionArn: &arn, Owner: &sub.Owner, Protocol: &sub.Protocol,
				Endpoint: &sub.Endpoint, TopicArn: &sub.TopicARN})
			return nil
		})
	})
	return list, next, err
}

func (s *Service) GetSubscriptionAttributes(ctx context.Context, in *api.GetSubscriptionAttributesInput) (*api.GetSubscriptionAttributesResponse, error) {
	sub, err := s.getSubscription(ctx, *in.SubscriptionArn)
	if err != nil {
		return nil, err
	}
	attrs := map[string]string{
		"SubscriptionArn":              sub.ARN,
		"TopicArn":                     sub.TopicARN,
		"Owner":                        sub.Owner,
		"Protocol":                     sub.Protocol,
		"Endpoint":                     sub.Endpoint,
		"ConfirmationWasAuthenticated": strconv.FormatBool(sub.Authenticated),
		"PendingConfirmation":          strconv.FormatBool(!sub.Confirmed),
		attrRawMessageDelivery:         "false",
		"SubscriptionPrincipal":        "arn:aws:iam::" + sub.Owner + ":root",
	}
	if sub.Protocol == protoHTTP || sub.Protocol == protoHTTPS {
		attrs["EffectiveDeliveryPolicy"] = effectiveDeliveryPolicy(sub.Attributes[attrDeliveryPolicy])
	}
	maps.Copy(attrs, sub.Attributes)
	return &api.GetSubscriptionAttributesResponse{Attributes: attrs}, nil
}

func (s *Service) SetSubscriptionAttributes(ctx context.Context, in *api.SetSubscriptionAttributesInput) error {
	value := ""
	if in.AttributeValue != nil {
		value = *in.AttributeValue
	}
	if _, err := s.getSubscription(ctx, *in.SubscriptionArn); err != nil {
		return err
	}
	return store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		var sub subscription
		v, err := store.GetJSON(tx, subscriptionsTable, *in.SubscriptionArn, &sub)
		if errors.Is(err, store.ErrNotFound) {
			return errSubscriptionNotFound()
		}
		if err != nil {
			return err
		}
		if sub.Attributes == nil {
			sub.Attributes = map[string]string{}
		}
		if err := setSubscriptionAttribute(&sub, *in.AttributeName, value); err != nil {
			return err
		}
		_, err = store.PutJSON(tx, subscriptionsTable, sub.ARN, sub, v)
		return err
	})
}
