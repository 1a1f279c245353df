// Package sns implements Amazon Simple Notification Service: standard and
// FIFO topics, subscriptions (SQS queues, HTTP/HTTPS endpoints with the
// confirmation handshake, email and email-json recorded rather than sent),
// filter policies on attributes and bodies, raw delivery, Publish and
// PublishBatch, topic policies, and publishing by other AWS services
// (PublishAs).
//
// An accepted Publish is durable: in the same transaction it writes one
// delivery record per matching subscription, and a controller drives each
// record until it is delivered, or moved to the subscription's dead-letter
// queue, or, failing both, kept as a failed delivery and logged. Nothing is
// dropped silently.
//
// Messages are signed as AWS signs them (SignatureVersion 1: SHA1withRSA,
// 2: SHA256withRSA) with a key made once per data dir and sealed at rest;
// its certificate is served at SigningCertURL, under /_overcast/sns/,
// along with the SubscribeURL and UnsubscribeURL endpoints and the list of
// recorded emails (GET /_overcast/sns/email) and the deliveries that
// failed with no dead-letter queue to take them (GET
// /_overcast/sns/failed).
package sns

import (
	"context"
	"errors"
	"net/http"
	"time"

	"overcast"
	api "overcast/internal/api/sns"
	"overcast/internal/controller"
	"overcast/internal/service"
	"overcast/internal/store"
)

// Queues is how SNS delivers to SQS: as the service principal
// sns.amazonaws.com on behalf of the topic, which the queue's policy must
// allow. The app adapts SQS to it.
type Queues interface {
	// SendAs sends m to the queue queueARN names. An error wrapping
	// ErrRejected is final (no such queue, the policy denies SNS): SNS does
	// not retry it, as AWS does not retry client-side errors.
	SendAs(ctx context.Context, principal, sourceARN, queueARN string, m QueueMessage) (messageID string, err error)
}

// ErrRejected marks a delivery the endpoint refused for good.
var ErrRejected = errors.New("sns: delivery rejected")

// QueueMessage is a message SNS sends to a queue.
type QueueMessage struct {
	Body       string
	Attributes map[string]Attribute
	// GroupID and DeduplicationID are set for FIFO queues.
	GroupID, DeduplicationID string
}

// Attribute is a message attribute: DataType is String, Number, Binary or
// String.Array, possibly with a custom suffix ("Number.int").
type Attribute struct {
	DataType    string
	StringValue string
	BinaryValue []byte
}

// Message is what another service publishes through PublishAs.
type Message struct {
	Message, Subject         string
	Attributes               map[string]Attribute
	GroupID, DeduplicationID string
}

// ServicePrincipal is how SNS names itself to the queues it delivers to.
const ServicePrincipal = "sns.amazonaws.com"

// PlanePrefix is where SNS's public endpoints live on the gateway: the
// signing certificate, SubscribeURL, UnsubscribeURL and recorded emails.
const PlanePrefix = "/_overcast/sns/"

// Service is the SNS API.
type Service struct {
	api.UnimplementedServer
	service.Base
	queues  Queues
	signer  *signer
	baseURL string
	client  *http.Client

	deliveries *controller.Controller
}

var _ api.Server = (*Service)(nil)

// New returns the service; queues delivers to SQS.
func New(env *service.Env, queues Queues) *Service {
	b := env.Base()
	s := &Service{Base: b, queues: queues, baseURL: env.Addresses.URL(),
		signer: &signer{store: env.Store, sealer: env.Sealer, now: b.Now},
		client: &http.Client{Timeout: httpTimeout}}
	s.deliveries = env.Controllers.Add(controller.Config{
		Name:       "sns-deliveries",
		Reconciler: controller.ReconcilerFunc(s.reconcileDelivery),
		Keys:       store.TableKeysFunc(s.Store, deliveriesTable),
		Workers:    4,
	})
	env.Controllers.Every("sns-dedup-sweep", dedupWindow, s.sweepDedup)
	return s
}

// sweepDedup forgets FIFO deduplication IDs whose window has passed.
func (s *Service) sweepDedup(ctx context.Context) error {
	now := s.Now()
	return s.Store.Update(ctx, func(tx store.Tx) error {
		var expired []string
		err := store.ScanJSON(tx, dedupTable, store.ScanOptions{}, func(key string, d dedupRecord, _ int64) error {
			if !now.Before(d.Expires) {
				expired = append(expired, key)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return store.DeleteKeys(tx, dedupTable, expired)
	})
}

// API is SNS's API for the gateway.
func (s *Service) API() service.API { return service.API{Binding: api.Bind(s), Authz: authzTable} }

// Planes serve what SNS's messages point subscribers at; none needs a
// signature, as on AWS.
func (s *Service) Planes() []service.Plane {
	return []service.Plane{{Name: "sns", Match: service.PathPrefix(PlanePrefix), Handler: http.HandlerFunc(s.servePlane)}}
}

const (
	// topicsTable holds one record per topic, keyed by scope and name.
	topicsTable = "sns.topics"
	// subscriptionsTable holds one record per subscription, keyed by its
	// ARN: the topic's ARN and a colon are the prefix of its subscriptions.
	subscriptionsTable = "sns.subscriptions"
	// deliveriesTable holds each message still to deliver to one
	// subscription, keyed by message ID and subscription ID.
	deliveriesTable = "sns.deliveries"
	// failedTable keeps deliveries that exhausted their retries and had no
	// dead-letter queue to go to.
	failedTable = "sns.failed"
	// dedupTable remembers FIFO deduplication IDs for five minutes, keyed
	// by topic ARN and ID.
	dedupTable = "sns.dedup"
	// emailsTable records what email subscriptions were "sent", by time.
	emailsTable = "sns.emails"
)

const (
	maxTags          = 50
	pageSize         = 100
	maxMessageBytes  = 256 * 1024
	maxBatchEntries  = 10
	dedupWindow      = 5 * time.Minute
	httpTimeout      = 15 * time.Second
	updateAttempts   = 10
	pendingARN       = "pending confirmation"
	pendingListedARN = "PendingConfirmation"
	timestampLayout  = "2006-01-02T15:04:05.000Z"
)

type scope = overcast.Scope

func errTopicNotFound() error { return api.NewNotFoundException("Topic does not exist") }
func errSubscriptionNotFound() error {
	return api.NewNotFoundException("Subscription does not exist")
}

func errInvalid(format string, args ...any) error {
	return api.NewInvalidParameterException("Invalid parameter: "+format, args...)
}

func errAuthorization(action string) error {
	return api.NewAuthorizationErrorException("User is not authorized to perform: SNS:%s", action)
}
