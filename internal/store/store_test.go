package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// conflictStore is a Store whose every Update fails with ErrConflict, to
// test UpdateRetry without a real implementation; the conformance suite in
// storetest covers UpdateRetry against real stores.
type conflictStore struct{ updates int }

func (s *conflictStore) View(ctx context.Context, fn func(Tx) error) error { return nil }
func (s *conflictStore) Close() error                                      { return nil }
func (s *conflictStore) Update(ctx context.Context, fn func(Tx) error) error {
	s.updates++
	return ErrConflict
}

func TestUpdateRetryStopsOnContext(t *testing.T) {
	s := &conflictStore{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	err := UpdateRetry(ctx, s, 1_000_000, func(Tx) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want context.DeadlineExceeded", err)
	}
	if s.updates < 2 {
		t.Errorf("got %d attempts before the deadline, want several", s.updates)
	}
}

func TestRetryBackoff(t *testing.T) {
	for attempt := 1; attempt < 100; attempt++ {
		for range 100 {
			if d := retryBackoff(attempt); d < 0 || d > 100*time.Millisecond {
				t.Fatalf("retryBackoff(%d): got %v, want within [0, 100ms]", attempt, d)
			}
		}
	}
}

// encodeTx fails the test if Put is reached: an unencodable value must be
// rejected before touching the store.
type encodeTx struct {
	Tx
	t *testing.T
}

func (tx encodeTx) Put(table, key string, value []byte, ifVersion int64) (int64, error) {
	tx.t.Error("Put called with a value that failed to encode")
	return 0, nil
}

func TestPutJSONEncodeError(t *testing.T) {
	_, err := PutJSON(encodeTx{t: t}, "t", "k", make(chan int), AnyVersion)
	if err == nil {
		t.Fatal("got nil error for an unencodable value")
	}
	if want := "store: encode t/k: "; len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
		t.Errorf("got %q, want it to start with %q", err, want)
	}
}
