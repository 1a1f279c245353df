package sqs

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/sqs"
	"overcast/internal/service"
	"overcast/internal/store"
)

var queueName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

const maxTags = 50

// saveQueue writes q's record; q.mu is held.
func (s *Service) saveQueue(ctx context.Context, q *queue) error {
	return s.Store.Update(ctx, func(tx store.Tx) error {
		_, err := store.PutJSON(tx, queuesTable, q.key, q.rec, store.AnyVersion)
		return err
	})
}

func (s *Service) CreateQueue(ctx context.Context, in *api.CreateQueueRequest) (*api.CreateQueueResult, error) {
	name := *in.QueueName
	fifo := strings.HasSuffix(name, ".fifo")
	if !queueName.MatchString(strings.TrimSuffix(name, ".fifo")) || len(name) > 80 {
		return nil, invalidParameter("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	if fifo != (in.Attributes[attrFifoQueue] == "true") {
		return nil, invalidParameter("The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.")
	}
	scope := overcast.ScopeOf(ctx)
	key := scope.Key(name)
	rec := queueRecord{Name: name, Account: scope.Account, Region: scope.Region}
	if err := s.checkAttributes(in.Attributes, fifo, true, rec.arn()); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.queues[key]; q != nil {
		q.mu.Lock()
		defer q.mu.Unlock()
		want := withDefaults(in.Attributes, fifo)
		if !fifo {
			delete(want, attrFifoQueue) // "false" names the kind every standard queue is
		}
		if differs := sameAttributes(withDefaults(q.rec.Attributes, fifo), want); differs != "" {
			return nil, api.NewQueueNameExists("A queue already exists with the same name and a different value for attribute %s", differs)
		}
		return &api.CreateQueueResult{QueueUrl: new(s.queueURL(q))}, nil
	}
	if at, ok := s.deleted[key]; ok && now.Sub(at) < time.Minute {
		return nil, api.NewQueueDeletedRecently("You must wait 60 seconds after deleting a queue before you can create another queue with the same name.")
	}
	rec.Attributes = maps.Clone(in.Attributes)
	delete(rec.Attributes, attrFifoQueue)
	rec.Tags = maps.Clone(in.Tags)
	rec.Created, rec.Modified = now, now
	q := newQueue(key, rec)
	if err := s.saveQueue(ctx, q); err != nil {
		return nil, err
	}
	s.queues[key] = q
	return &api.CreateQueueResult{QueueUrl: new(s.queueURL(q))}, nil
}

func (s *Service) GetQueueUrl(ctx context.Context, in *api.GetQueueUrlRequest) (*api.GetQueueUrlResult, error) {
	scope := overcast.ScopeOf(ctx)
	if in.QueueOwnerAWSAccountId != nil {
		scope.Account = *in.QueueOwnerAWSAccountId
	}
	q, err := s.queueByName(scope, *in.QueueName)
	if err != nil {
		return nil, err
	}
	if err := q.authorize(ctx, "GetQueueUrl", s.queueURL(q)); err != nil {
		return nil, err
	}
	return &api.GetQueueUrlResult{QueueUrl: new(s.queueURL(q))}, nil
}

// page returns the URLs of qs (sorted by name) after the token, at most
// max of them (0: up to 1,000 and no token), and the next token.
func (s *Service) page(qs []*queue, token *string, max *int32) ([]string, *string, error) {
	slices.SortFunc(qs, func(a, b *queue) int { return strings.Compare(a.key, b.key) })
	after := ""
	if token != nil {
		b, err := base64.RawURLEncoding.DecodeString(*token)
		if err != nil {
			return nil, nil, invalidParameter("Invalid NextToken value.")
		}
		after = string(b)
	}
	limit := 1000
	if max != nil {
		if *max < 1 || *max > 1000 {
			return nil, nil, invalidParameter("Value %d for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000.", *max)
		}
		limit = int(*max)
	}
	var urls []string
	for i, q := range qs {
		if q.key <= after {
			continue
		}
		if len(urls) == limit {
			if max != nil {
				return urls, new(base64.RawURLEncoding.EncodeToString([]byte(qs[i-1].key))), nil
			}
			break
		}
		urls = append(urls, s.queueURL(q))
	}
	return urls, nil, nil
}

func (s *Service) ListQueues(ctx context.Context, in *api.ListQueuesRequest) (*api.ListQueuesResult, error) {
	prefix := overcast.ScopeOf(ctx).Key(service.Deref(in.QueueNamePrefix))
	var qs []*queue
	for _, q := range s.allQueues() {
		if strings.HasPrefix(q.key, prefix) {
			qs = append(qs, q)
		}
	}
	urls, next, err := s.page(qs, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return &api.ListQueuesResult{QueueUrls: urls, NextToken: next}, nil
}

func (s *Service) ListDeadLetterSourceQueues(ctx context.Context, in *api.ListDeadLetterSourceQueuesRequest) (*api.ListDeadLetterSourceQueuesResult, error) {
	dlq, err := s.queueFor(ctx, in.QueueUrl, "ListDeadLetterSourceQueues")
	if err != nil {
		return nil, err
	}
	urls, next, err := s.page(s.sourcesOf(dlq), in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return &api.ListDeadLetterSourceQueuesResult{QueueUrls: api.QueueUrlList(urls), NextToken: next}, nil
}

// sourcesOf returns the queues whose dead-letter queue dlq is.
func (s *Service) sourcesOf(dlq *queue) []*queue {
	arn := dlq.rec.arn()
	var sources []*queue
	for _, q := range s.allQueues() {
		q.mu.Lock()
		p, err := parseRedrivePolicy(q.rec.Attributes[attrRedrivePolicy])
		q.mu.Unlock()
		if err == nil && p.DeadLetterTargetArn == arn {
			sources = append(sources, q)
		}
	}
	return sources
}

func (s *Service) DeleteQueue(ctx context.Context, in *api.DeleteQueueRequest) error {
	q, err := s.queueFor(ctx, in.QueueUrl, "DeleteQueue")
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q.mu.Lock()
	defer q.mu.Unlock()
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.Delete(queuesTable, q.key, store.AnyVersion); err != nil {
			return err
		}
		if err := q.dropExpiredDedup(tx, time.Time{}, true); err != nil {
			return err
		}
		return q.dropMessages(tx)
	})
	if err != nil {
		return err
	}
	delete(s.queues, q.key)
	s.deleted[q.key] = s.Now()
	q.clear()
	q.wake()
	return nil
}

func (s *Service) GetQueueAttributes(ctx context.Context, in *api.GetQueueAttributesRequest) (*api.GetQueueAttributesResult, error) {
	q, err := s.queueFor(ctx, in.QueueUrl, "GetQueueAttributes")
	if err != nil {
		return nil, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	all := withDefaults(q.rec.Attributes, q.fifo())
	now := s.Now()
	visible, notVisible, delayed, _ := q.depth(now)
	all[attrApproximateNumberOfMessages] = strconv.Itoa(visible)
	all[attrApproximateNumberOfMessagesNotVisible] = strconv.Itoa(notVisible)
	all[attrApproximateNumberOfMessagesDelayed] = strconv.Itoa(delayed)
	all[attrCreatedTimestamp] = strconv.FormatInt(q.rec.Created.Unix(), 10)
	all[attrLastModifiedTimestamp] = strconv.FormatInt(q.rec.Modified.Unix(), 10)
	all[attrQueueArn] = q.rec.arn()
	out := map[string]string{}
	for _, name := range in.AttributeNames {
		if name == "All" {
			out = all
			break
		}
		if _, known := all[name]; known {
			out[name] = all[name]
			continue
		}
		if !knownAttribute(name) {
			return nil, invalidAttributeName(name)
		}
	}
	if len(out) == 0 {
		out = nil
	}
	return &api.GetQueueAttributesResult{Attributes: out}, nil
}

// knownAttribute reports whether name is an attribute some queue has.
func knownAttribute(name string) bool {
	_, isInt := intAttributes[name]
	_, isFIFO := fifoDefaults[name]
	return isInt || isFIFO || slices.Contains(readOnly, name) || name == attrPolicy || name == attrRedrivePolicy ||
		name == attrRedriveAllowPolicy || name == attrKmsMasterKeyID || name == attrSqsManagedSseEnabled
}

func (s *Service) SetQueueAttributes(ctx context.Context, in *api.SetQueueAttributesRequest) error {
	q, err := s.queueFor(ctx, in.QueueUrl, "SetQueueAttributes")
	if err != nil {
		return err
	}
	q.mu.Lock()
	fifo, arn := q.fifo(), q.rec.arn()
	q.mu.Unlock()
	if err := s.checkAttributes(in.Attributes, fifo, false, arn); err != nil {
		return err
	}
	return s.updateQueue(ctx, in.QueueUrl, "SetQueueAttributes", func(q *queue, rec *queueRecord) error {
		maps.Copy(rec.Attributes, in.Attributes)
		rec.Modified = s.Now()
		q.wake() // a shorter delay may have made messages available
		return nil
	})
}

func (s *Service) PurgeQueue(ctx context.Context, in *api.PurgeQueueRequest) error {
	q, err := s.queueFor(ctx, in.QueueUrl, "PurgeQueue")
	if err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	now := s.Now()
	if !q.rec.PurgedAt.IsZero() && now.Sub(q.rec.PurgedAt) < time.Minute {
		return api.NewPurgeQueueInProgress("Only one PurgeQueue operation on %s is allowed every 60 seconds.", q.rec.Name)
	}
	q.rec.PurgedAt = now
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		if _, err := store.PutJSON(tx, queuesTable, q.key, q.rec, store.AnyVersion); err != nil {
			return err
		}
		return q.dropMessages(tx)
	})
	if err == nil {
		q.clear()
	}
	return err
}

func checkTags(tags map[string]string) error {
	if len(tags) > maxTags {
		return invalidParameter("Too many tags added for queue. Maximum number of tags allowed is %d.", maxTags)
	}
	for k := range tags {
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return invalidParameter("Tag keys must not start with the reserved prefix aws:.")
		}
	}
	return nil
}

// updateQueue changes q's record with change and saves it.
func (s *Service) updateQueue(ctx context.Context, queueURL *string, action string, change func(q *queue, rec *queueRecord) error) error {
	q, err := s.queueFor(ctx, queueURL, action)
	if err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	rec := q.rec
	rec.Tags, rec.Attributes = maps.Clone(rec.Tags), maps.Clone(rec.Attributes)
	if rec.Tags == nil {
		rec.Tags = map[string]string{}
	}
	if rec.Attributes == nil {
		rec.Attributes = map[string]string{}
	}
	if err := change(q, &rec); err != nil {
		return err
	}
	old := q.rec
	q.rec = rec
	if err := s.saveQueue(ctx, q); err != nil {
		q.rec = old
		return err
	}
	return nil
}

func (s *Service) TagQueue(ctx context.Context, in *api.TagQueueRequest) error {
	return s.updateQueue(ctx, in.QueueUrl, "TagQueue", func(_ *queue, rec *queueRecord) error {
		maps.Copy(rec.Tags, in.Tags)
		return checkTags(rec.Tags)
	})
}

func (s *Service) UntagQueue(ctx context.Context, in *api.UntagQueueRequest) error {
	return s.updateQueue(ctx, in.QueueUrl, "UntagQueue", func(_ *queue, rec *queueRecord) error {
		for _, k := range in.TagKeys {
			delete(rec.Tags, k)
		}
		return nil
	})
}

func (s *Service) ListQueueTags(ctx context.Context, in *api.ListQueueTagsRequest) (*api.ListQueueTagsResult, error) {
	q, err := s.queueFor(ctx, in.QueueUrl, "ListQueueTags")
	if err != nil {
		return nil, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.rec.Tags) == 0 {
		return &api.ListQueueTagsResult{}, nil
	}
	return &api.ListQueueTagsResult{Tags: maps.Clone(q.rec.Tags)}, nil
}

// policyDocument is the part of a queue policy Add/RemovePermission edit.
type policyDocument struct {
	Version   string            `json:"Version"`
	ID        string            `json:"Id,omitempty"`
	Statement []json.RawMessage `json:"Statement"`
}

type permissionStatement struct {
	Sid       string              `json:"Sid"`
	Effect    string              `json:"Effect"`
	Principal map[string][]string `json:"Principal"`
	Action    []string            `json:"Action"`
	Resource  string              `json:"Resource"`
}

// statementSid reads a statement's Sid.
func statementSid(raw json.RawMessage) string {
	var st struct{ Sid string }
	json.Unmarshal(raw, &st)
	return st.Sid
}

func (s *Service) AddPermission(ctx context.Context, in *api.AddPermissionRequest) error {
	return s.updateQueue(ctx, in.QueueUrl, "AddPermission", func(_ *queue, rec *queueRecord) error {
		doc := policyDocument{Version: "2012-10-17", ID: rec.arn() + "/SQSDefaultPolicy"}
		if p := rec.Attributes[attrPolicy]; p != "" {
			json.Unmarshal([]byte(p), &doc)
		}
		for _, st := range doc.Statement {
			if statementSid(st) == *in.Label {
				return invalidParameter("Value %s for parameter Label is invalid. Reason: Already exists.", *in.Label)
			}
		}
		st := permissionStatement{Sid: *in.Label, Effect: "Allow", Principal: map[string][]string{}, Resource: rec.arn()}
		for _, a := range in.AWSAccountIds {
			st.Principal["AWS"] = append(st.Principal["AWS"], "arn:aws:iam::"+a+":root")
		}
		for _, a := range in.Actions {
			st.Action = append(st.Action, "SQS:"+a)
		}
		raw, _ := json.Marshal(st)
		doc.Statement = append(doc.Statement, raw)
		b, _ := json.Marshal(doc)
		rec.Attributes[attrPolicy] = string(b)
		return nil
	})
}

func (s *Service) RemovePermission(ctx context.Context, in *api.RemovePermissionRequest) error {
	return s.updateQueue(ctx, in.QueueUrl, "RemovePermission", func(_ *queue, rec *queueRecord) error {
		var doc policyDocument
		json.Unmarshal([]byte(rec.Attributes[attrPolicy]), &doc)
		i := slices.IndexFunc(doc.Statement, func(st json.RawMessage) bool { return statementSid(st) == *in.Label })
		if i < 0 {
			return invalidParameter("Value %s for parameter Label is invalid. Reason: can't find label on existing policy.", *in.Label)
		}
		doc.Statement = slices.Delete(doc.Statement, i, i+1)
		if len(doc.Statement) == 0 {
			delete(rec.Attributes, attrPolicy)
			return nil
		}
		b, _ := json.Marshal(doc)
		rec.Attributes[attrPolicy] = string(b)
		return nil
	})
}
