package bus_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"overcast/internal/bus"
	"overcast/internal/store"
	"overcast/internal/store/postgres"
	"overcast/internal/store/postgres/pgtest"
)

// watchedDB is a PostgreSQL store that reports each SettledSeq call, so a
// test can tell that a subscription has looked at the outbox.
type watchedDB struct {
	*postgres.DB
	looked chan struct{}
	url    string
}

func (w *watchedDB) SettledSeq(ctx context.Context, name string) (uint64, error) {
	n, err := w.DB.SettledSeq(ctx, name)

	select {
	case w.looked <- struct{}{}:
	default:
	}
	return n, err
}

func openPostgres(t *testing.T) *watchedDB {
	t.Helper()
	url := pgtest.Start(t).NewDatabase(t)
	return &watchedDB{DB: openURL(t, url), looked: make(chan struct{}, 1), url: url}
}

// replica opens w's database again, as another overcast process would:
// Updates in one process take turns, so transactions that overlap must
// come from different ones.
func (w *watchedDB) replica(t *testing.T) *postgres.DB { return openURL(t, w.url) }

func openURL(t *testing.T, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// seqRecorder remembers the sequence numbers of the events it handles.
type seqRecorder struct {
	mu   sync.Mutex
	seqs []uint64
	ids  []string
	ch   chan struct{}
}

func (r *seqRecorder) handle(_ context.Context, ev bus.Event) error {
	r.mu.Lock()
	r.seqs = append(r.seqs, ev.Seq)
	r.ids = append(r.ids, ev.ID)
	r.mu.Unlock()
	r.ch <- struct{}{}
	return nil
}

func (r *seqRecorder) wait(t *testing.T, n int) ([]uint64, []string) {
	t.Helper()
	deadline := time.After(30 * time.Second) // a hang, not a measurement
	for range n {
		select {
		case <-r.ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %d events; got %d: %v", n, len(r.seqs), r.seqs)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seqs), slices.Clone(r.ids)
}

// TestConcurrentPublishersPostgres: publishers in concurrent transactions
// (of four processes) never conflict over the sequence, and the subscriber
// gets every event once, in sequence order.
func TestConcurrentPublishersPostgres(t *testing.T) {
	ctx := context.Background()
	st := openPostgres(t)
	b := bus.New(st, bus.Options{PollInterval: 10 * time.Millisecond, Logger: quiet})
	defer b.Close()
	rec := &seqRecorder{ch: make(chan struct{}, 1000)}
	if _, err := b.Subscribe(ctx, "test", bus.Pattern{}, rec.handle); err != nil {
		t.Fatal(err)
	}
	const writers, each = 16, 25
	var (
		publishers []*bus.Bus
		stores     []store.Store
	)
	for range 4 {
		pst := st.replica(t)
		pb := bus.New(pst, bus.Options{Logger: quiet})
		defer pb.Close()
		publishers, stores = append(publishers, pb), append(stores, pst)
	}
	want := make(chan string, writers*each+len(publishers))
	// A bus's first Publish reads the outbox once (to carry on above an
	// older counter); done at once, those reads would conflict.
	for i, pb := range publishers {
		id := fmt.Sprintf("first-%d", i)
		if err := pb.Publish(ctx, nil, bus.Event{ID: id, Source: "aws.s3", Type: "ObjectCreated:Put"}); err != nil {
			t.Fatal(err)
		}
		want <- id
	}
	var wg sync.WaitGroup
	for w := range writers {
		pb, pst := publishers[w%len(publishers)], stores[w%len(stores)]
		wg.Go(func() {
			for i := range each {
				ev := bus.Event{ID: fmt.Sprintf("%d-%d", w, i), Source: "aws.s3", Type: "ObjectCreated:Put"}
				// One attempt: publishers must not conflict with each other.
				if err := pst.Update(ctx, func(tx store.Tx) error { return pb.Publish(ctx, tx, ev) }); err != nil {
					t.Errorf("publish: %v", err)
					return
				}
				want <- ev.ID
				b.Notify()
			}
		})
	}
	wg.Wait()
	close(want)
	if t.Failed() {
		return
	}
	seqs, ids := rec.wait(t, cap(want))
	if !slices.IsSorted(seqs) || len(slices.Compact(slices.Clone(seqs))) != len(seqs) {
		t.Errorf("delivered out of order or twice: %v", seqs)
	}
	var wantIDs []string
	for id := range want {
		wantIDs = append(wantIDs, id)
	}
	slices.Sort(wantIDs)
	slices.Sort(ids)
	if !slices.Equal(ids, wantIDs) {
		t.Errorf("delivered %d events, want %d", len(ids), len(wantIDs))
	}
}

// TestLateCommitDeliveredPostgres: an event whose transaction took its
// number first but commits after a later one is still delivered, and
// before it.
func TestLateCommitDeliveredPostgres(t *testing.T) {
	ctx := context.Background()
	st := openPostgres(t)
	b := bus.New(st, bus.Options{PollInterval: 10 * time.Millisecond, Logger: quiet})
	defer b.Close()
	rec := &seqRecorder{ch: make(chan struct{}, 10)}
	if _, err := b.Subscribe(ctx, "test", bus.Pattern{}, rec.handle); err != nil {
		t.Fatal(err)
	}
	// "early" is published by another process.
	other := st.replica(t)
	ob := bus.New(other, bus.Options{Logger: quiet})
	defer ob.Close()
	published, release := make(chan struct{}), make(chan struct{})
	held := make(chan error, 1)
	go func() {
		held <- other.Update(ctx, func(tx store.Tx) error {
			if err := ob.Publish(ctx, tx, bus.Event{ID: "early", Source: "test", Type: "T"}); err != nil {
				return err
			}
			close(published)
			<-release
			return nil
		})
	}()
	<-published
	if err := b.Publish(ctx, nil, bus.Event{ID: "late", Source: "test", Type: "T"}); err != nil {
		t.Fatal(err)
	}
	// The subscription looks at the outbox (at least twice, so at least
	// once after "late" committed) while "early" is still open.
	for range 3 {
		<-st.looked
	}
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	b.Notify()
	if _, ids := rec.wait(t, 2); !slices.Equal(ids, []string{"early", "late"}) {
		t.Errorf("delivered %v; want [early late]", ids)
	}
}

// TestSequenceFollowsCounterPostgres: on a database whose outbox an older
// overcast numbered with the counter item, the sequence carries on above it.
func TestSequenceFollowsCounterPostgres(t *testing.T) {
	ctx := context.Background()
	st := openPostgres(t)
	if err := st.Update(ctx, func(tx store.Tx) error {
		for range 5 {
			if _, err := tx.Put("events.meta", "seq", nil, store.AnyVersion); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	b := bus.New(st, bus.Options{Logger: quiet})
	defer b.Close()
	evs := []bus.Event{{Source: "test", Type: "T"}}
	if err := b.Publish(ctx, nil, evs...); err != nil {
		t.Fatal(err)
	}
	if evs[0].Seq != 6 {
		t.Errorf("first event numbered %d after the counter's 5; want 6", evs[0].Seq)
	}
}
