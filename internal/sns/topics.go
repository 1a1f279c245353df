package sns

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/sns"
	"overcast/internal/policy"
	"overcast/internal/service"
	"overcast/internal/store"
)

// topic is the record of a topic.
type topic struct {
	Name  string `json:"name"`
	ARN   string `json:"arn"`
	Owner string `json:"owner"`
	// Attributes are the ones the user set (DisplayName, Policy,
	// DeliveryPolicy, FifoTopic, ...); the rest are derived when read.
	Attributes map[string]string `json:"attributes,omitempty"`
	Tags       []tag             `json:"tags,omitempty"`
	Created    time.Time         `json:"created"`
	// Sequence is the last FIFO sequence number given.
	Sequence int64 `json:"sequence,omitempty"`
}

type tag = service.Tag

func (t *topic) fifo() bool { return t.Attributes[attrFifoTopic] == "true" }

// signatureVersion is "1" (SHA1withRSA) unless the topic asks for "2".
func (t *topic) signatureVersion() string {
	if t.Attributes[attrSignatureVersion] == "2" {
		return "2"
	}
	return "1"
}

const (
	attrPolicy                    = "Policy"
	attrDisplayName               = "DisplayName"
	attrDeliveryPolicy            = "DeliveryPolicy"
	attrFifoTopic                 = "FifoTopic"
	attrContentBasedDeduplication = "ContentBasedDeduplication"
	attrSignatureVersion          = "SignatureVersion"
)

// topicAttributes are the attributes a user may set, each with its
// validation.
var topicAttributes = map[string]func(string) bool{
	attrPolicy:                    func(string) bool { return true }, // validated against the topic
	attrDisplayName:               func(v string) bool { return len(v) <= 100 },
	attrDeliveryPolicy:            validDeliveryPolicy,
	attrFifoTopic:                 isBool,
	attrContentBasedDeduplication: isBool,
	attrSignatureVersion:          func(v string) bool { return v == "1" || v == "2" },
	"KmsMasterKeyId":              func(string) bool { return true },
	"TracingConfig":               func(v string) bool { return v == "PassThrough" || v == "Active" },
	"ArchivePolicy":               func(v string) bool { return json.Valid([]byte(v)) },
	"FifoThroughputScope":         func(v string) bool { return v == "Topic" || v == "MessageGroup" },
	"DataProtectionPolicy":        func(v string) bool { return json.Valid([]byte(v)) },
}

// topicAttribute returns the check of a settable attribute. Delivery
// status logging attributes (<Protocol>SuccessFeedbackRoleArn, ...) are
// stored and reported; overcast writes no delivery logs.
func topicAttribute(name string) (func(string) bool, bool) {
	if valid, ok := topicAttributes[name]; ok {
		return valid, true
	}
	for _, proto := range []string{"Application", "Firehose", "HTTP", "Lambda", "SQS"} {
		rest, ok := strings.CutPrefix(name, proto)
		switch {
		case !ok:
		case rest == "SuccessFeedbackRoleArn" || rest == "FailureFeedbackRoleArn":
			return isRoleARN, true
		case rest == "SuccessFeedbackSampleRate":
			return func(v string) bool {
				n, err := strconv.Atoi(v)
				return err == nil && n >= 0 && n <= 100
			}, true
		}
	}
	return nil, false
}

func isRoleARN(v string) bool {
	a, ok := overcast.ParseARN(v)
	return v == "" || ok && a.Service == "iam"
}

// The attributes only CreateTopic sets.
var createOnly = []string{attrFifoTopic}

func isBool(v string) bool { return v == "true" || v == "false" }

var topicName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

func (s *Service) CreateTopic(ctx context.Context, in *api.CreateTopicInput) (*api.CreateTopicResponse, error) {
	sc := overcast.ScopeOf(ctx)
	name := *in.Name
	attrs := maps.Clone(in.Attributes)
	if attrs == nil {
		attrs = map[string]string{}
	}
	fifo := attrs[attrFifoTopic] == "true"
	base, isFifoName := strings.CutSuffix(name, ".fifo")
	switch {
	case fifo && (!isFifoName || !topicName.MatchString(base)):
		return nil, errInvalid("Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.")
	case !fifo && !topicName.MatchString(name):
		return nil, errInvalid("Topic Name")
	}
	if attrs[attrFifoTopic] == "false" {
		delete(attrs, attrFifoTopic)
	}
	arn := topicARN(sc, name)
	for k, v := range attrs {
		if err := checkTopicAttribute(k, v, arn, fifo); err != nil {
			return nil, err
		}
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		var old topic
		_, err := store.GetJSON(tx, topicsTable, sc.Key(name), &old)
		if err == nil {
			return sameTopic(&old, attrs, tags)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		t := topic{Name: name, ARN: arn, Owner: sc.Account, Attributes: attrs, Tags: tags, Created: s.Now()}
		_, err = store.PutJSON(tx, topicsTable, sc.Key(name), t, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateTopicResponse{TopicArn: &arn}, nil
}

// sameTopic answers a CreateTopic for an existing name: the same call
// again returns the topic, a different one is refused.
func sameTopic(old *topic, attrs map[string]string, tags []tag) error {
	for k, v := range attrs {
		if old.Attributes[k] != v {
			return errInvalid("Attributes Reason: Topic already exists with different attributes")
		}
	}
	if len(tags) > 0 && !slices.Equal(old.Tags, tags) {
		return errInvalid("Tags Reason: Topic already exists with different tags")
	}
	return nil
}

func checkTopicAttribute(name, value, arn string, fifo bool) error {
	valid, ok := topicAttribute(name)
	if !ok {
		return errInvalid("Attributes Reason: Unknown attribute %s", name)
	}
	if name == attrContentBasedDeduplication && !fifo && value == "true" {
		return errInvalid("Attributes Reason: Content-based deduplication can only be set for FIFO topics")
	}
	if name == attrPolicy {
		_, err := checkTopicPolicy(value, arn)
		return err
	}
	if !valid(value) {
		return errInvalid("Attributes Reason: Invalid value for %s", name)
	}
	return nil
}

// checkTopicPolicy validates a topic policy: SNS actions on the topic.
func checkTopicPolicy(doc, arn string) (*policy.Document, error) {
	p, err := policy.ValidateResource(doc, policy.Scope{Vendor: "sns"})
	var pe *policy.Error
	if errors.As(err, &pe) {
		return nil, errInvalid("Policy Error: %s", pe.Message)
	}
	return p, err
}

func checkTags(in []api.Tag) ([]tag, error) {
	tags := make([]tag, 0, len(in))
	seen := map[string]bool{}
	for _, t := range in {
		if seen[*t.Key] {
			return nil, errInvalid("Duplicated keys are not allowed.")
		}
		seen[*t.Key] = true
		tags = append(tags, tag{Key: *t.Key, Value: *t.Value})
	}
	if len(tags) > maxTags {
		return nil, api.NewTagLimitExceededException("Could not complete request: tag quota of per resource exceeded")
	}
	return tags, nil
}

func (s *Service) DeleteTopic(ctx context.Context, in *api.DeleteTopicInput) error {
	sc, name, err := topicKey(*in.TopicArn)
	if err != nil {
		return err
	}
	return s.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.Delete(topicsTable, sc.Key(name), store.AnyVersion); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		_, err := store.DeleteScanned(tx, subscriptionsTable, store.ScanOptions{Prefix: *in.TopicArn + ":"})
		return err
	})
}

// topicKey splits a topic ARN into the scope and name its record is kept
// under; only the caller's own topics are reachable by the API.
func topicKey(arn string) (scope, string, error) {
	a, ok := overcast.ParseARN(arn)
	if !ok || a.Service != "sns" || a.Resource == "" || strings.Contains(a.Resource, ":") {
		return scope{}, "", errInvalid("TopicArn")
	}
	return scope{Account: a.AccountID, Region: a.Region}, a.Resource, nil
}

// getTopic reads the topic arn names.
func getTopic(tx store.Tx, arn string) (*topic, int64, error) {
	sc, name, err := topicKey(arn)
	if err != nil {
		return nil, 0, err
	}
	var t topic
	v, err := store.GetJSON(tx, topicsTable, sc.Key(name), &t)
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, errTopicNotFound()
	}
	return &t, v, err
}

// viewTopic reads a topic the caller may act on with action.
func (s *Service) viewTopic(ctx context.Context, arn, action string) (*topic, error) {
	var t *topic
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		t, _, err = getTopic(tx, arn)
		return err
	})
	if err != nil {
		return nil, err
	}
	if !s.callerMay(ctx, t, action) {
		return nil, errAuthorization(action)
	}
	return t, nil
}

// updateTopic changes a topic the caller may act on with action.
func (s *Service) updateTopic(ctx context.Context, arn, action string, change func(*topic) error) error {
	return store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		t, v, err := getTopic(tx, arn)
		if err != nil {
			return err
		}
		if !s.callerMay(ctx, t, action) {
			return errAuthorization(action)
		}
		if err := change(t); err != nil {
			return err
		}
		sc, name, _ := topicKey(arn)
		_, err = store.PutJSON(tx, topicsTable, sc.Key(name), t, v)
		return err
	})
}

func (s *Service) ListTopics(ctx context.Context, in *api.ListTopicsInput) (*api.ListTopicsResponse, error) {
	sc := overcast.ScopeOf(ctx)
	out := &api.ListTopicsResponse{Topics: []api.Topic{}}
	var last string
	err := s.Store.View(ctx, func(tx store.Tx) error {
		opt := store.ScanOptions{Prefix: sc.Prefix(), Limit: pageSize + 1}
		if in.NextToken != nil {
			opt.After = sc.Key(*in.NextToken)
		}
		return store.ScanJSON(tx, topicsTable, opt, func(_ string, t topic, _ int64) error {
			if len(out.Topics) == pageSize {
				out.NextToken = &last
				return store.ErrStop
			}
			last = t.Name
			out.Topics = append(out.Topics, api.Topic{TopicArn: &t.ARN})
			return nil
		})
	})
	return out, err
}

func (s *Service) GetTopicAttributes(ctx context.Context, in *api.GetTopicAttributesInput) (*api.GetTopicAttributesResponse, error) {
	t, err := s.viewTopic(ctx, *in.TopicArn, "GetTopicAttributes")
	if err != nil {
		return nil, err
	}
	attrs := map[string]string{
		"TopicArn":                t.ARN,
		"Owner":                   t.Owner,
		attrPolicy:                defaultPolicy(t),
		attrDisplayName:           "",
		"EffectiveDeliveryPolicy": effectiveDeliveryPolicy(t.Attributes[attrDeliveryPolicy]),
	}
	if t.fifo() {
		attrs[attrContentBasedDeduplication] = "false"
	}
	maps.Copy(attrs, t.Attributes)
	counts, err := s.subscriptionCounts(ctx, t.ARN)
	if err != nil {
		return nil, err
	}
	maps.Copy(attrs, counts)
	return &api.GetTopicAttributesResponse{Attributes: attrs}, nil
}

// defaultPolicy is the topic's policy: the one it was given, or the one
// AWS gives every new topic (the owner's account may do everything).
func defaultPolicy(t *topic) string {
	if p, ok := t.Attributes[attrPolicy]; ok {
		return p
	}
	doc := map[string]any{
		"Version": "2008-10-17",
		"Id":      "__default_policy_ID",
		"Statement": []any{map[string]any{
			"Sid":       "__default_statement_ID",
			"Effect":    "Allow",
			"Principal": map[string]any{"AWS": "*"},
			"Action": []string{"SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
				"SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"},
			"Resource":  t.ARN,
			"Condition": map[string]any{"StringEquals": map[string]any{"AWS:SourceOwner": t.Owner}},
		}},
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

func (s *Service) SetTopicAttributes(ctx context.Context, in *api.SetTopicAttributesInput) error {
	name, value := *in.AttributeName, ""
	if in.AttributeValue != nil {
		value = *in.AttributeValue
	}
	if slices.Contains(createOnly, name) {
		return errInvalid("AttributeName")
	}
	return s.updateTopic(ctx, *in.TopicArn, "SetTopicAttributes", func(t *topic) error {
		if _, ok := topicAttribute(name); !ok {
			return errInvalid("AttributeName")
		}
		if err := checkTopicAttribute(name, value, t.ARN, t.fifo()); err != nil {
			return err
		}
		if t.Attributes == nil {
			t.Attributes = map[string]string{}
		}
		t.Attributes[name] = value
		if name == attrPolicy && value == "" {
			delete(t.Attributes, name)
		}
		return nil
	})
}

// AddPermission adds a statement letting accounts perform actions on the
// topic, named by its label.
func (s *Service) AddPermission(ctx context.Context, in *api.AddPermissionInput) error {
	return s.updateTopic(ctx, *in.TopicArn, "AddPermission", func(t *topic) error {
		doc, err := policyStatements(defaultPolicy(t))
		if err != nil {
			return err
		}
		for _, st := range doc.Statement {
			if st["Sid"] == *in.Label {
				return errInvalid("Statement already exists")
			}
		}
		var principals, actions []string
		for _, a := range in.AWSAccountId {
			if overcast.IsAccountID(a) {
				a = "arn:aws:iam::" + a + ":root"
			}
			principals = append(principals, a)
		}
		for _, a := range in.ActionName {
			actions = append(actions, "SNS:"+a)
		}
		doc.Statement = append(doc.Statement, map[string]any{"Sid": *in.Label, "Effect": "Allow",
			"Principal": map[string]any{"AWS": principals}, "Action": actions, "Resource": t.ARN})
		return setPolicy(t, doc)
	})
}

func (s *Service) RemovePermission(ctx context.Context, in *api.RemovePermissionInput) error {
	return s.updateTopic(ctx, *in.TopicArn, "RemovePermission", func(t *topic) error {
		doc, err := policyStatements(defaultPolicy(t))
		if err != nil {
			return err
		}
		n := len(doc.Statement)
		doc.Statement = slices.DeleteFunc(doc.Statement, func(st map[string]any) bool { return st["Sid"] == *in.Label })
		if len(doc.Statement) == n {
			return errInvalid("Statement with label %s does not exist", *in.Label)
		}
		return setPolicy(t, doc)
	})
}

// statements is a policy document as AddPermission edits it.
type statements struct {
	Version   string           `json:"Version"`
	ID        string           `json:"Id,omitempty"`
	Statement []map[string]any `json:"Statement"`
}

func policyStatements(doc string) (*statements, error) {
	var p statements
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return nil, errInvalid("Policy Error: the topic's policy cannot be edited: %v", err)
	}
	return &p, nil
}

func setPolicy(t *topic, doc *statements) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	if t.Attributes == nil {
		t.Attributes = map[string]string{}
	}
	t.Attributes[attrPolicy] = string(b)
	return nil
}

// callerMay reports whether the API's caller may perform action on t: the
// owner's account may do what the topic policy does not deny; anyone else
// needs an Allow.
func (s *Service) callerMay(ctx context.Context, t *topic, action string) bool {
	c := overcast.CallerFrom(ctx)
	owner := c.AccountID == t.Owner
	if _, ok := t.Attributes[attrPolicy]; !ok {
		return owner
	}
	pol, err := policy.Parse(t.Attributes[attrPolicy])
	if err != nil {
		return owner
	}
	req := policy.Request{Principal: policy.PrincipalOf(c), Action: "sns:" + action, Resource: t.ARN,
		Context: map[string][]string{"aws:SourceOwner": {c.AccountID}}}
	switch policy.Evaluate(req, pol) {
	case policy.Denied:
		return false
	case policy.Allowed:
		return true
	}
	return owner
}

// sourceOwnerServices name the account they act for as AWS:SourceOwner,
// which the default topic policy lets publish ("AWS": "*" on the owner's
// account): CloudWatch alarms and CodeCommit triggers reach their
// account's topics without a policy of their own. Other services
// (EventBridge, S3) need the topic policy to name them.
var sourceOwnerServices = []string{"cloudwatch.amazonaws.com", "codecommit.amazonaws.com"}

// serviceMay reports whether the AWS service principal may publish to t
// for the resource sourceARN: only an Allow in the topic policy lets it,
// even in the topic owner's account.
func serviceMay(t *topic, principal, sourceARN string) bool {
	pol, err := policy.Parse(defaultPolicy(t))
	if err != nil {
		return false
	}
	account := ""
	if a, ok := overcast.ParseARN(sourceARN); ok {
		account = a.AccountID
	}
	req := policy.Request{Principal: policy.Principal{Service: principal}, Action: "sns:Publish", Resource: t.ARN,
		Context: map[string][]string{"aws:SourceArn": {sourceARN}, "aws:SourceAccount": {account}}}
	switch policy.Evaluate(req, pol) {
	case policy.Allowed:
		return true
	case policy.Denied:
		return false
	}
	if !slices.Contains(sourceOwnerServices, principal) {
		return false
	}
	// As a statement for everyone sees it: the principal policy.Principal{}
	// matches "AWS": "*" alone.
	req.Principal, req.Context["aws:SourceOwner"] = policy.Principal{}, []string{account}
	return policy.Evaluate(req, pol) == policy.Allowed
}

func (s *Service) TagResource(ctx context.Context, in *api.TagResourceRequest) (*api.TagResourceResponse, error) {
	add, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	err = s.updateTaggable(ctx, *in.ResourceArn, "TagResource", func(t *topic) error {
		for _, nt := range add {
			i := slices.IndexFunc(t.Tags, func(o tag) bool { return o.Key == nt.Key })
			if i >= 0 {
				t.Tags[i] = nt
			} else {
				t.Tags = append(t.Tags, nt)
			}
		}
		if len(t.Tags) > maxTags {
			return api.NewTagLimitExceededException("Could not complete request: tag quota of per resource exceeded")
		}
		return nil
	})
	return &api.TagResourceResponse{}, err
}

func (s *Service) UntagResource(ctx context.Context, in *api.UntagResourceRequest) (*api.UntagResourceResponse, error) {
	err := s.updateTaggable(ctx, *in.ResourceArn, "UntagResource", func(t *topic) error {
		t.Tags = slices.DeleteFunc(t.Tags, func(o tag) bool { return slices.Contains(in.TagKeys, o.Key) })
		return nil
	})
	return &api.UntagResourceResponse{}, err
}

func (s *Service) ListTagsForResource(ctx context.Context, in *api.ListTagsForResourceRequest) (*api.ListTagsForResourceResponse, error) {
	if _, _, err := topicKey(*in.ResourceArn); err != nil {
		return nil, errNoResource()
	}
	t, err := s.viewTopic(ctx, *in.ResourceArn, "ListTagsForResource")
	if err != nil {
		return nil, asNoResource(err)
	}
	out := &api.ListTagsForResourceResponse{Tags: []api.Tag{}}
	for _, tg := range t.Tags {
		out.Tags = append(out.Tags, api.Tag{Key: &tg.Key, Value: &tg.Value})
	}
	return out, nil
}

// updateTaggable changes the tags of the topic a tagging call names,
// answering a missing one as the tagging API does.
func (s *Service) updateTaggable(ctx context.Context, arn, action string, change func(*topic) error) error {
	if _, _, err := topicKey(arn); err != nil {
		return errNoResource()
	}
	return asNoResource(s.updateTopic(ctx, arn, action, change))
}

func errNoResource() error { return api.NewResourceNotFoundException("Resource does not exist") }

// asNoResource words a missing topic as the tagging API does.
func asNoResource(err error) error {
	var nf *api.NotFoundException
	if errors.As(err, &nf) {
		return errNoResource()
	}
	return err
}

// subscriptionCounts are the topic's Subscriptions* attributes.
func (s *Service) subscriptionCounts(ctx context.Context, topicARN string) (map[string]string, error) {
	var confirmed, pending int
	err := s.Store.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, subscriptionsTable, store.ScanOptions{Prefix: topicARN + ":"}, func(_ string, sub subscription, _ int64) error {
			if sub.Confirmed {
				confirmed++
			} else {
				pending++
			}
			return nil
		})
	})
	return map[string]string{"SubscriptionsConfirmed": strconv.Itoa(confirmed), "SubscriptionsPending": strconv.Itoa(pending),
		"SubscriptionsDeleted": "0"}, err
}

// topicARN is the ARN of the topic name.
func topicARN(sc scope, name string) string { return sc.ARN("sns", name) }
