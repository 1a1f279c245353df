package postgres

import (
	"context"
	"sync"
	"testing"

	"overcast/internal/store"
	"overcast/internal/store/postgres/pgtest"
)

// TestSequenceSettles holds a transaction that took a number open while a
// later number commits: SettledSeq must not pass the open one's number
// until it ends, then must reach the later one.
func TestSequenceSettles(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Start(t).NewDatabase(t)
	db := openTest(t, url)
	defer db.Close()
	// Another replica: Updates in one process take turns, so only another
	// process's can take a number while one holds an earlier number.
	replica := openTest(t, url)
	defer replica.Close()

	if n, err := db.SettledSeq(ctx, "s"); err != nil || n != 0 {
		t.Fatalf("SettledSeq of a new sequence: %d, %v; want 0", n, err)
	}
	took, release := make(chan uint64), make(chan struct{})
	held := make(chan error, 1)
	go func() {
		held <- db.Update(ctx, func(tx store.Tx) error {
			n, err := db.NextSeq(tx, "s")
			if err != nil {
				return err
			}
			took <- n
			<-release
			_, err = tx.Put("t", "held", nil, store.AnyVersion)
			return err
		})
	}()
	first := <-took
	var second uint64
	if err := replica.Update(ctx, func(tx store.Tx) (err error) {
		second, err = replica.NextSeq(tx, "s")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if second <= first {
		t.Fatalf("numbers %d then %d; want increasing", first, second)
	}
	// However often it is asked, nothing from the open transaction on.
	for range 5 {
		n, err := db.SettledSeq(ctx, "s")
		if err != nil {
			t.Fatal(err)
		}
		if n >= first {
			t.Fatalf("SettledSeq = %d while the transaction holding %d is open", n, first)
		}
	}
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	for {
		n, err := db.SettledSeq(ctx, "s")
		if err != nil {
			t.Fatal(err)
		}
		if n >= second {
			break
		}
	}
}

// TestNextSeqConcurrent: writers taking numbers at once never conflict,
// and no number is handed out twice.
func TestNextSeqConcurrent(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, pgtest.Start(t).NewDatabase(t))
	defer db.Close()

	var (
		mu   sync.Mutex
		seen = map[uint64]bool{}
		wg   sync.WaitGroup
	)
	for range 16 {
		wg.Go(func() {
			for range 20 {
				var n uint64
				err := db.Update(ctx, func(tx store.Tx) (err error) {
					n, err = db.NextSeq(tx, "s")
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[n] {
					t.Errorf("number %d handed out twice", n)
				}
				seen[n] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 16*20 {
		t.Errorf("%d numbers; want %d", len(seen), 16*20)
	}
	if err := db.View(ctx, func(tx store.Tx) error {
		_, err := db.NextSeq(tx, "s")
		if err == nil {
			t.Error("NextSeq in a View succeeded")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
