package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"overcast/internal/clock"
	"overcast/internal/ids"
	"overcast/internal/store"
)

// Store tables of the bus.
const (
	tableOutbox = "events.outbox" // %020d sequence → Event
	tableCursor = "events.cursor" // subscription name → last sequence handled
	tableMeta   = "events.meta"   // "seq": its version is the last sequence assigned
	// seqName is the store.Sequencer sequence numbering the outbox, on
	// stores that have one (and then tableMeta is unused).
	seqName = "events"
)

// Event is something that happened, shaped like an EventBridge event so
// EventBridge can forward it unchanged; Detail holds the service's own
// record (for S3, an S3 event notification record).
type Event struct {
	// ID is unique per event; Publish assigns one when empty. Handlers use
	// it to recognize a re-delivery.
	ID string `json:"id"`
	// Seq is the event's position in the outbox, assigned by Publish.
	Seq     uint64    `json:"seq"`
	Source  string    `json:"source"` // "aws.s3"
	Type    string    `json:"type"`   // "ObjectCreated:Put"
	Time    time.Time `json:"time"`
	Account string    `json:"account"`
	Region  string    `json:"region"`
	// Resources are the ARNs the event concerns.
	Resources []string        `json:"resources,omitempty"`
	Detail    json.RawMessage `json:"detail,omitempty"`
}

// Pattern selects events. Empty fields match anything; Types are
// path.Match patterns ("ObjectCreated:*").
type Pattern struct {
	Source string
	Types  []string
}

// Match reports whether ev is selected by p.
func (p Pattern) Match(ev Event) bool {
	if p.Source != "" && p.Source != ev.Source {
		return false
	}
	if len(p.Types) == 0 {
		return true
	}
	for _, t := range p.Types {
		if ok, _ := path.Match(t, ev.Type); ok {
			return true
		}
	}
	return false
}

// Handler handles one event. An error makes the bus retry the same event
// (later, with backoff); the subscription does not move past it until it
// succeeds or the bus closes.
type Handler func(ctx context.Context, ev Event) error

// Options tune a Bus; zero values get defaults.
type Options struct {
	Clock  clock.Clock
	IDs    *ids.Source
	Logger *slog.Logger
	// PollInterval bounds how late a subscriber notices events whose
	// publisher did not call Notify. Default 1s, of the clock.
	PollInterval time.Duration
	// Retention is how long an event is kept for subscriptions that have
	// not handled it. Default 24h.
	Retention time.Duration
	// MaxBackoff caps the wait between retries of a failing handler.
	// Default 30s.
	MaxBackoff time.Duration
}

// Publisher is what a service that reports its changes needs of the bus:
// events written in the transaction of the change they report, then the
// subscribers woken once it commits.
type Publisher interface {
	Publish(ctx context.Context, tx store.Tx, evs ...Event) error
	Notify()
}

var _ Publisher = (*Bus)(nil)

// Bus is the event bus; see the package comment.
type Bus struct {
	st   store.Store
	opts Options
	// seq, when the store offers it, numbers events instead of the counter
	// item in tableMeta, which every publisher would write: on a store that
	// runs Updates concurrently, that makes concurrent publishers conflict.
	seq store.Sequencer
	// seqRaised is set once this bus has made the Sequencer's numbers
	// follow those of the counter, which a database written by an older
	// overcast may hold.
	seqRaised atomic.Bool

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex
	subs map[string]*Subscription
}

// New returns a bus keeping its outbox in st. Close stops it. Prune is
// for its owner to run now and then (internal/app runs it every minute on
// the controller manager).
func New(st store.Store, opts Options) *Bus {
	if opts.Clock == nil {
		opts.Clock = clock.Real()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.Retention <= 0 {
		opts.Retention = 24 * time.Hour
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	seq, _ := st.(store.Sequencer)
	return &Bus{st: st, opts: opts, seq: seq, ctx: ctx, cancel: cancel, subs: map[string]*Subscription{}}
}

// Close stops every subscription, waiting for handlers that are running.
func (b *Bus) Close() error {
	b.cancel()
	b.wg.Wait()
	return nil
}

func seqKey(seq uint64) string { return fmt.Sprintf("%020d", seq) }

// lastSeq returns the sequence number of the newest event. The counter is
// the version of one store item, which the store bumps atomically on every
// Put: one statement per event, and serialized like any conflicting write
// on stores that run transactions concurrently.
func lastSeq(tx store.Tx) (uint64, error) {
	it, err := tx.Get(tableMeta, "seq")
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return uint64(it.Version), nil
}

// nextSeq takes the sequence number of a new event in tx.
func (b *Bus) nextSeq(tx store.Tx) (uint64, error) {
	if b.seq != nil {
		if !b.seqRaised.Load() {
			last, err := lastSeq(tx) // a point read of an item no one writes now
			if err != nil {
				return 0, err
			}
			if err := b.seq.RaiseSeq(tx, seqName, last); err != nil {
				return 0, err
			}
			b.seqRaised.Store(true)
		}
		return b.seq.NextSeq(tx, seqName)
	}
	v, err := tx.Put(tableMeta, "seq", nil, store.AnyVersion)
	return uint64(v), err
}

// settled returns, with a Sequencer, the sequence number up to which no
// event can still appear in the outbox: numbers are taken in one order and
// committed in another, and a subscription moving past a number taken by a
// transaction not yet committed would never see its event. The View
// reading the outbox must start after the call. Without a Sequencer,
// numbers are taken in commit order and every one read is settled:
// settled returns the largest number.
func (b *Bus) settled(ctx context.Context) (uint64, error) {
	if b.seq == nil {
		return math.MaxUint64, nil
	}
	return b.seq.SettledSeq(ctx, seqName)
}

// lastSettled is the sequence number a new subscription starts after.
func lastSettled(tx store.Tx, settled uint64) (uint64, error) {
	if settled != math.MaxUint64 {
		return settled, nil
	}
	return lastSeq(tx)
}

// Publish appends events to the outbox within tx, so they exist exactly
// when tx commits; call Notify after the commit. With a nil tx Publish runs
// its own transaction and notifies. It fills in ID, Seq and Time.
func (b *Bus) Publish(ctx context.Context, tx store.Tx, evs ...Event) error {
	if len(evs) == 0 {
		return nil
	}
	if tx == nil {
		if err := b.st.Update(ctx, func(tx store.Tx) error { return b.Publish(ctx, tx, evs...) }); err != nil {
			return err
		}
		b.Notify()
		return nil
	}
	for i := range evs {
		ev := &evs[i]
		seq, err := b.nextSeq(tx)
		if err != nil {
			return fmt.Errorf("bus: %w", err)
		}
		ev.Seq = seq
		if ev.ID == "" {
			ev.ID = b.opts.IDs.UUID()
		}
		if ev.Time.IsZero() {
			ev.Time = b.opts.Clock.Now().UTC()
		}
		if _, err := store.PutJSON(tx, tableOutbox, seqKey(ev.Seq), ev, 0); err != nil {
			return fmt.Errorf("bus: %w", err)
		}
	}
	return nil
}

// Notify wakes every subscription to read the outbox now.
func (b *Bus) Notify() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.subs {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
}

// Subscription is a durable, named subscription.
type Subscription struct {
	b       *Bus
	name    string
	pattern Pattern
	handler Handler
	kick    chan struct{}
	cancel  context.CancelFunc
	done    chan struct{}
}

// Subscribe starts delivering the events pattern selects to h, one at a
// time, in order. name identifies the subscription across restarts: a new
// name starts at the end of the outbox, a known one resumes after the last
// event it handled. A name can have one live subscription at a time.
func (b *Bus) Subscribe(ctx context.Context, name string, pattern Pattern, h Handler) (*Subscription, error) {
	if name == "" {
		return nil, errors.New("bus: a subscription needs a name")
	}
	settled, err := b.settled(ctx)
	if err != nil {
		return nil, fmt.Errorf("bus: subscribe %s: %w", name, err)
	}
	var cursor uint64
	err = b.st.Update(ctx, func(tx store.Tx) error {
		it, err := tx.Get(tableCursor, name)
		if err == nil {
			cursor, err = strconv.ParseUint(string(it.Value), 10, 64)
			return err
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if cursor, err = lastSettled(tx, settled); err != nil {
			return err
		}
		_, err = tx.Put(tableCursor, name, []byte(strconv.FormatUint(cursor, 10)), 0)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bus: subscribe %s: %w", name, err)
	}
	sctx, cancel := context.WithCancel(b.ctx)
	s := &Subscription{b: b, name: name, pattern: pattern, handler: h, kick: make(chan struct{}, 1),
		cancel: cancel, done: make(chan struct{})}
	b.mu.Lock()
	if _, dup := b.subs[name]; dup {
		b.mu.Unlock()
		cancel()
		return nil, fmt.Errorf("bus: subscription %s is already live", name)
	}
	b.subs[name] = s
	b.mu.Unlock()
	b.wg.Go(func() { s.run(sctx, cursor) })
	return s, nil
}

// Close stops the subscription; its cursor stays, so subscribing again
// under the same name resumes.
func (s *Subscription) Close() {
	s.cancel()
	<-s.done
	s.b.mu.Lock()
	if s.b.subs[s.name] == s {
		delete(s.b.subs, s.name)
	}
	s.b.mu.Unlock()
}

// Unsubscribe closes the subscription and forgets its cursor.
func (s *Subscription) Unsubscribe(ctx context.Context) error {
	s.Close()
	return s.b.st.Update(ctx, func(tx store.Tx) error {
		err := tx.Delete(tableCursor, s.name, store.AnyVersion)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
}

const batchSize = 100

func (s *Subscription) run(ctx context.Context, cursor uint64) {
	defer close(s.done)
	poll := s.b.opts.Clock.NewTicker(s.b.opts.PollInterval)
	defer poll.Stop()
	for {
		next, err := s.deliverBatch(ctx, cursor)
		if next != cursor {
			cursor = next
			// Saved even when closing, so a clean stop re-delivers nothing.
			if err := s.saveCursor(context.WithoutCancel(ctx), cursor); err != nil {
				s.b.opts.Logger.Error("bus: saving cursor", "subscription", s.name, "err", err)
			}
			if ctx.Err() == nil {
				continue // there may be more
			}
		}
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.b.opts.Logger.Error("bus: reading the outbox", "subscription", s.name, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		case <-poll.C():
		}
	}
}

// deliverBatch hands the events after cursor to the handler and returns
// the new cursor. It reads no event past what is settled, and, having
// read all up to there, moves the cursor there: past the gaps a Sequencer
// leaves where transactions rolled back.
func (s *Subscription) deliverBatch(ctx context.Context, cursor uint64) (uint64, error) {
	settled, err := s.b.settled(ctx)
	if err != nil || settled <= cursor {
		return cursor, err
	}
	var batch []Event
	err = s.b.st.View(ctx, func(tx store.Tx) error {
		batch = batch[:0]
		return store.ScanJSON(tx, tableOutbox, store.ScanOptions{After: seqKey(cursor), Limit: batchSize},
			func(_ string, ev Event, _ int64) error {
				if ev.Seq > settled {
					return store.ErrStop
				}
				batch = append(batch, ev)
				return nil
			})
	})
	if err != nil {
		return cursor, err
	}
	for _, ev := range batch {
		if s.pattern.Match(ev) {
			if err := s.handle(ctx, ev); err != nil {
				return cursor, nil // closing: what was handled counts
			}
		}
		cursor = ev.Seq
	}
	if len(batch) < batchSize && settled != math.MaxUint64 {
		cursor = max(cursor, settled)
	}
	return cursor, nil
}

// handle calls the handler until it succeeds or ctx ends.
func (s *Subscription) handle(ctx context.Context, ev Event) error {
	backoff := 10 * time.Millisecond
	for {
		err := s.call(ctx, ev)
		if err == nil {
			return nil
		}
		s.b.opts.Logger.Warn("bus: handler failed; retrying", "subscription", s.name, "event", ev.ID,
			"type", ev.Type, "err", err, "retryIn", backoff)
		if err := clock.Sleep(ctx, s.b.opts.Clock, backoff); err != nil {
			return err
		}
		backoff = min(backoff*2, s.b.opts.MaxBackoff)
	}
}

// call runs the handler, turning a panic into an error to retry.
func (s *Subscription) call(ctx context.Context, ev Event) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return s.handler(ctx, ev)
}

func (s *Subscription) saveCursor(ctx context.Context, cursor uint64) error {
	return s.b.st.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Put(tableCursor, s.name, []byte(strconv.FormatUint(cursor, 10)), store.AnyVersion)
		return err
	})
}

// Prune deletes the events every subscription has handled, and those
// older than the retention period.
func (b *Bus) Prune(ctx context.Context) error {
	settled, err := b.settled(ctx)
	if err != nil {
		return err
	}
	var upTo uint64
	err = b.st.View(ctx, func(tx store.Tx) error {
		last, err := lastSettled(tx, settled)
		if err != nil {
			return err
		}
		upTo = last
		return tx.Scan(tableCursor, store.ScanOptions{}, func(it store.Item) error {
			n, err := strconv.ParseUint(string(it.Value), 10, 64)
			if err != nil {
				return err
			}
			upTo = min(upTo, n)
			return nil
		})
	})
	if err != nil {
		return err
	}
	expired := b.opts.Clock.Now().Add(-b.opts.Retention)
	for {
		deleted := 0
		err := b.st.Update(ctx, func(tx store.Tx) error {
			deleted = 0
			return store.ScanJSON(tx, tableOutbox, store.ScanOptions{Limit: 1000}, func(key string, ev Event, _ int64) error {
				if ev.Seq > upTo && !ev.Time.Before(expired) {
					return store.ErrStop
				}
				deleted++
				return tx.Delete(tableOutbox, key, store.AnyVersion)
			})
		})
		if err != nil || deleted < 1000 {
			return err
		}
	}
}
