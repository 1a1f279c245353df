package sqs

import (
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"overcast/internal/store"
)

// queueRecord is a queue as the store keeps it.
type queueRecord struct {
	Name, Account, Region string
	Attributes            map[string]string // set ones over the defaults
	Tags                  map[string]string
	Created, Modified     time.Time
	// PurgedAt is when PurgeQueue last ran: another waits 60 seconds.
	PurgedAt time.Time
}

func (r *queueRecord) arn() string {
	return "arn:aws:sqs:" + r.Region + ":" + r.Account + ":" + r.Name
}

// attributeValue is a message attribute.
type attributeValue struct {
	DataType    string
	StringValue string `json:",omitempty"`
	BinaryValue []byte `json:",omitempty"`
}

// message is a message as the store keeps it.
type message struct {
	Seq                                           uint64
	ID                                            string
	Body                                          string
	Attributes                                    map[string]attributeValue `json:",omitempty"`
	SystemAttributes                              map[string]attributeValue `json:",omitempty"`
	MD5OfBody, MD5OfAttributes, MD5OfSystemAttrs  string
	SentAt                                        time.Time
	VisibleAt                                     time.Time // delayed or in flight until then
	ReceiveCount                                  int
	FirstReceiveAt                                time.Time
	ReceivedAt                                    time.Time // the current receive: 12 hours hidden at most from it
	GroupID, DeduplicationID, SenderID, SourceARN string    `json:",omitempty"`
	// Token is the current receipt's: ChangeMessageVisibility needs it.
	Token string `json:",omitempty"`

	deleted bool
}

// inFlight reports whether m has been received and is hidden now.
func (m *message) inFlight(now time.Time) bool { return m.ReceiveCount > 0 && now.Before(m.VisibleAt) }

// queue is a queue and its messages in memory; mu guards everything.
type queue struct {
	key string
	mu  sync.Mutex
	rec queueRecord
	// messages in sequence order; deleted ones are dropped lazily.
	messages []*message
	byID     map[string]*message
	live     int // messages not deleted
	// dedup holds when each deduplication ID was last accepted (FIFO).
	dedup map[string]dedupEntry
	// arrived is closed, and replaced, when a message may have become
	// available: long polls wait on it.
	arrived chan struct{}
	counts  activity
	// attempts are FIFO receives by ReceiveRequestAttemptId.
	attempts map[string]receiveAttempt
}

// receiveAttempt is what one FIFO receive returned.
type receiveAttempt struct {
	at          time.Time
	ids, tokens []string
}

// dedupEntry is an accepted deduplication ID, kept in the store too so
// that a restart does not let a duplicate through.
type dedupEntry struct {
	At        time.Time
	MessageID string
	Seq       uint64
}

// dedupKey is where the store keeps a queue's deduplication ID (id may
// hold any punctuation).
func dedupKey(queueKey, id string) string { return queueKey + "/" + hex.EncodeToString([]byte(id)) }

// activity counts what happened to a queue since the last metrics pass.
type activity struct {
	sent, received, deleted, emptyReceives int
	sentBytes                              int
}

func newQueue(key string, rec queueRecord) *queue {
	return &queue{key: key, rec: rec, byID: map[string]*message{}, dedup: map[string]dedupEntry{}, arrived: make(chan struct{}),
		attempts: map[string]receiveAttempt{}}
}

// loadDedup adds a deduplication ID read from the store at start.
func (q *queue) loadDedup(key string, e dedupEntry) {
	id, err := hex.DecodeString(key[len(q.key)+1:])
	if err == nil {
		q.dedup[string(id)] = e
	}
}

// insert adds m in sequence order (a dead letter may be older than the
// queue's newest message).
func (q *queue) insert(m *message) {
	i := len(q.messages)
	for i > 0 && q.messages[i-1].Seq > m.Seq {
		i--
	}
	q.messages = slices.Insert(q.messages, i, m)
	q.byID[m.ID] = m
	q.live++
}

// remove drops m.
func (q *queue) remove(m *message) {
	m.deleted = true
	delete(q.byID, m.ID)
	q.live--
	if len(q.messages) > 64 && q.live < len(q.messages)/2 {
		q.messages = slices.DeleteFunc(q.messages, func(m *message) bool { return m.deleted })
	}
}

// dropMessages deletes every message of q from the store, in tx.
func (q *queue) dropMessages(tx store.Tx) error {
	_, err := store.DeleteScanned(tx, messagesTable, store.ScanOptions{Prefix: q.key + "/"})
	return err
}

// dropExpiredDedup deletes from the store, in tx, q's deduplication IDs
// older than the interval (all of them when all is set).
func (q *queue) dropExpiredDedup(tx store.Tx, now time.Time, all bool) error {
	var expired []string
	err := store.ScanJSON(tx, dedupTable, store.ScanOptions{Prefix: q.key + "/"}, func(key string, e dedupEntry, _ int64) error {
		if all || now.Sub(e.At) >= dedupInterval {
			expired = append(expired, key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return store.DeleteKeys(tx, dedupTable, expired)
}

// clear forgets every message of q, once dropMessages committed; q.mu is
// held.
func (q *queue) clear() { q.messages, q.byID, q.live = nil, map[string]*message{}, 0 }

// wake tells long polls a message may be available.
func (q *queue) wake() {
	close(q.arrived)
	q.arrived = make(chan struct{})
}

func (q *queue) fifo() bool { return strings.HasSuffix(q.rec.Name, ".fifo") }

// attr returns an attribute's value, the default when not set.
func (q *queue) attr(name string) string {
	if v, ok := q.rec.Attributes[name]; ok {
		return v
	}
	if q.fifo() {
		if v, ok := fifoDefaults[name]; ok {
			return v
		}
	}
	return defaults[name]
}

func (q *queue) seconds(name string) time.Duration {
	n, _ := strconv.Atoi(q.attr(name))
	return time.Duration(n) * time.Second
}

// expired reports whether m outlived the queue's retention period.
func (q *queue) expired(m *message, now time.Time) bool {
	return !now.Before(m.SentAt.Add(q.seconds(attrMessageRetentionPeriod)))
}

// depth counts the messages available, in flight and delayed.
func (q *queue) depth(now time.Time) (visible, notVisible, delayed int, oldest time.Time) {
	for _, m := range q.messages {
		switch {
		case m.deleted || q.expired(m, now):
		case m.inFlight(now):
			notVisible++
		case now.Before(m.VisibleAt):
			delayed++
		default:
			visible++
		}
		if !m.deleted && (oldest.IsZero() || m.SentAt.Before(oldest)) {
			oldest = m.SentAt
		}
	}
	return visible, notVisible, delayed, oldest
}

// forgetDedup drops deduplication IDs older than SQS's 5-minute interval.
func (q *queue) forgetDedup(now time.Time) {
	for id, e := range q.dedup {
		if now.Sub(e.At) >= dedupInterval {
			delete(q.dedup, id)
		}
	}
}

const dedupInterval = 5 * time.Minute
