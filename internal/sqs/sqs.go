// Package sqs implements Amazon SQS: standard and FIFO queues, durable
// messages with visibility timeouts, delays, retention, dead-letter queues
// and redrive, long polling, queue policies and tags, and the AWS/SQS
// metrics other services scale on.
//
// Every queue's messages live in the store (an acknowledged send survives
// a crash) and, for speed, in memory: the store is read once at Start and
// written on every change, under the queue's lock, before the change is
// acknowledged.
package sqs

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"overcast"
	api "overcast/internal/api/sqs"
	"overcast/internal/awsproto"
	"overcast/internal/clock"
	"overcast/internal/controller"
	"overcast/internal/policy"
	"overcast/internal/service"
	"overcast/internal/store"
)

// Service is the SQS API, and the queue other services deliver to
// (SendAs).
type Service struct {
	api.UnimplementedServer
	service.Base
	clock   clock.Clock
	baseURL string
	metrics Metrics

	mu     sync.RWMutex
	queues map[string]*queue // by queue key: account/region/name
	// deleted remembers when a queue name was deleted: AWS refuses to
	// create it again for 60 seconds.
	deleted map[string]time.Time
	seq     atomic.Uint64 // the last message sequence number, every queue's

	moves *controller.Controller
}

var _ api.Server = (*Service)(nil)

// Options are what SQS takes from other services.
type Options struct {
	// Metrics receives the AWS/SQS metrics every minute; nil drops them.
	Metrics Metrics
}

// New returns the service.
func New(env *service.Env, opts Options) *Service {
	s := &Service{Base: env.Base(), clock: env.Clock, baseURL: env.Addresses.URL(), metrics: opts.Metrics,
		queues: map[string]*queue{}, deleted: map[string]time.Time{}}
	s.moves = env.Controllers.AddFunc("sqs-message-moves", s.reconcileMove, s.runningMoves)
	env.Controllers.Every("sqs-retention", time.Minute, s.expireMessages)
	env.Controllers.Every("sqs-metrics", time.Minute, s.publishMetrics)
	return s
}

// API is SQS's API for the gateway.
func (s *Service) API() service.API { return service.API{Binding: api.Bind(s), Authz: authzTable} }

const (
	// queuesTable holds one record per queue, keyed by scope and name.
	queuesTable = "sqs.queues"
	// messagesTable holds every message not deleted, keyed by its queue's
	// key and its sequence number, so a queue's messages scan in order.
	messagesTable = "sqs.messages"
	// movesTable holds message move tasks, keyed by task handle.
	movesTable = "sqs.moves"
	// dedupTable holds FIFO queues' deduplication IDs for their 5 minutes,
	// keyed by queue key and the hex of the ID.
	dedupTable = "sqs.dedup"
)

// Start loads the queues and their messages.
func (s *Service) Start(ctx context.Context) error {
	// Sequence numbers grow across restarts even when every message is
	// gone: they start from the clock's microseconds.
	s.seq.Store(uint64(s.Now().UnixMicro()))
	return s.Store.View(ctx, func(tx store.Tx) error {
		err := store.ScanJSON(tx, queuesTable, store.ScanOptions{}, func(key string, rec queueRecord, _ int64) error {
			s.queues[key] = newQueue(key, rec)
			return nil
		})
		if err != nil {
			return err
		}
		err = store.ScanJSON(tx, messagesTable, store.ScanOptions{}, func(key string, m message, _ int64) error {
			qkey := key[:strings.LastIndexByte(key, '/')]
			if q := s.queues[qkey]; q != nil {
				q.insert(&m)
			}
			if m.Seq > s.seq.Load() {
				s.seq.Store(m.Seq)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return store.ScanJSON(tx, dedupTable, store.ScanOptions{}, func(key string, e dedupEntry, _ int64) error {
			if q := s.queues[key[:strings.LastIndexByte(key, '/')]]; q != nil {
				q.loadDedup(key, e)
			}
			return nil
		})
	})
}

func messageKey(queueKey string, seq uint64) string { return fmt.Sprintf("%s/%020d", queueKey, seq) }

// queueURL is the URL clients address the queue by: the account and the
// name as its path, as AWS's are.
func (s *Service) queueURL(q *queue) string {
	return s.baseURL + "/" + q.rec.Account + "/" + q.rec.Name
}

// errNoQueue is SQS's error for a queue that does not exist.
func errNoQueue() error { return api.NewQueueDoesNotExist("The specified queue does not exist.") }

// queueByURL finds the queue a request's QueueUrl names.
func (s *Service) queueByURL(ctx context.Context, queueURL *string) (*queue, error) {
	if queueURL == nil {
		return nil, errNoQueue()
	}
	scope, name, ok := queueOfURL(overcast.ScopeOf(ctx), *queueURL)
	if !ok {
		return nil, errNoQueue()
	}
	return s.queueByName(scope, name)
}

// queueOfURL is the scope and name of the queue a QueueUrl names: the
// account and name are the URL's path (any host: AWS's own form works
// too); a bare name is a queue of the caller's scope.
func queueOfURL(scope overcast.Scope, queueURL string) (overcast.Scope, string, bool) {
	path := queueURL
	if u, err := url.Parse(path); err == nil && u.Host != "" {
		path = u.Path
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	account, name := scope.Account, parts[len(parts)-1]
	switch {
	case len(parts) == 2 && overcast.IsAccountID(parts[0]):
		account = parts[0]
	case len(parts) != 1:
		return scope, "", false
	}
	return overcast.Scope{Account: account, Region: scope.Region}, name, true
}

// queueFor finds the queue a request names and checks that the caller
// may do action (SendMessage) on it.
func (s *Service) queueFor(ctx context.Context, queueURL *string, action string) (*queue, error) {
	q, err := s.queueByURL(ctx, queueURL)
	if err != nil {
		return nil, err
	}
	if err := q.authorize(ctx, action, s.queueURL(q)); err != nil {
		return nil, err
	}
	return q, nil
}

// authorize lets the queue owner's account do anything (IAM identity
// policies are not enforced yet, as in S3); other accounts need an Allow
// of sqs:<action> in the queue's policy, as on AWS.
func (q *queue) authorize(ctx context.Context, action, url string) error {
	c := overcast.CallerFrom(ctx)
	if c.AccountID == q.rec.Account || q.allows(policy.PrincipalOf(c), action, nil) {
		return nil
	}
	return &awsproto.Error{Code: "AccessDenied", Status: http.StatusForbidden, Message: "Access to the resource " + url + " is denied."}
}

// allows reports whether the queue policy allows principal sqs:<action>,
// with the condition keys given.
func (q *queue) allows(principal policy.Principal, action string, conditions map[string][]string) bool {
	q.mu.Lock()
	doc := q.rec.Attributes[attrPolicy]
	arn := q.rec.arn()
	q.mu.Unlock()
	pol, _ := policy.Parse(doc) // validated when set; nil when none
	req := policy.Request{Principal: principal, Action: "sqs:" + action, Resource: arn, Context: conditions}
	return policy.Evaluate(req, pol) == policy.Allowed
}

func (s *Service) queueByName(scope overcast.Scope, name string) (*queue, error) {
	s.mu.RLock()
	q := s.queues[scope.Key(name)]
	s.mu.RUnlock()
	if q == nil {
		return nil, errNoQueue()
	}
	return q, nil
}

// queueByARN finds the queue arn names, or nil.
func (s *Service) queueByARN(arn string) *queue {
	a, ok := overcast.ParseARN(arn)
	if !ok || a.Service != "sqs" {
		return nil
	}
	q, _ := s.queueByName(overcast.Scope{Account: a.AccountID, Region: a.Region}, a.Resource)
	return q
}

// allQueues returns every queue, in no order.
func (s *Service) allQueues() []*queue {
	s.mu.RLock()
	defer s.mu.RUnlock()
	qs := make([]*queue, 0, len(s.queues))
	for _, q := range s.queues {
		qs = append(qs, q)
	}
	return qs
}

func millis(t time.Time) string { return fmt.Sprint(t.UnixMilli()) }
