package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"overcast/internal/store"
	"overcast/internal/tabletest"
)

// Run runs the suite. open must return a new, empty store each time it is
// called; Run closes it when the subtest ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	closing := func(t *testing.T) store.Store {
		s := open(t)
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	}
	tabletest.Suite(t, closing, map[string]func(*testing.T, store.Store){
		"CRUD":                    testCRUD,
		"Values":                  testValues,
		"Versions":                testVersions,
		"ConflictKeepsTxUsable":   testConflictKeepsTxUsable,
		"InvalidArguments":        testInvalidArguments,
		"TablesAreSeparate":       testTablesAreSeparate,
		"ScanOrderAndOptions":     testScanOrderAndOptions,
		"ScanStop":                testScanStop,
		"ScanWithTxUseInCallback": testScanWithTxUseInCallback,
		"ReadYourWrites":          testReadYourWrites,
		"RollbackOnError":         testRollbackOnError,
		"RollbackOnPanic":         testRollbackOnPanic,
		"ViewIsReadOnly":          testViewIsReadOnly,
		"TxDoneAfterReturn":       testTxDoneAfterReturn,
		"SnapshotIsolation":       testSnapshotIsolation,
		"UncommittedInvisible":    testUncommittedInvisible,
		"ConcurrentTransactions":  testConcurrentTransactions,
		"ConcurrentCounter":       testConcurrentCounter,
		"LargeValues":             testLargeValues,
		"ManyItems":               testManyItems,
		"ContextCancellation":     testContextCancellation,
		"JSON":                    testJSON,
		"KeysAndDeleteScanned":    testKeysAndDeleteScanned,
		"UpdateRetry":             testUpdateRetry,
		"Close":                   testClose,
	})
}

var errBoom = errors.New("storetest: boom")

func update(t testing.TB, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func view(t testing.TB, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func put(t testing.TB, s store.Store, table, key, value string) int64 {
	t.Helper()
	var v int64
	update(t, s, func(tx store.Tx) (err error) {
		v, err = tx.Put(table, key, []byte(value), store.AnyVersion)
		return err
	})
	return v
}

// holdWrite starts an Update that puts value at each of keys in table "t"
// and then stays open, for a test of what others see or wait for
// meanwhile; it returns once the writes are made. commit lets the Update
// finish and checks that the first key then reads value.
func holdWrite(t *testing.T, s store.Store, value string, keys ...string) (commit func()) {
	written := make(chan struct{})
	finish := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- s.Update(context.Background(), func(tx store.Tx) error {
			var err error
			for _, k := range keys {
				if _, err = tx.Put("t", k, []byte(value), store.AnyVersion); err != nil {
					break
				}
			}
			close(written)
			if err != nil {
				return err
			}
			<-finish
			return nil
		})
	}()
	<-written
	return func() {
		t.Helper()
		close(finish)
		if err := <-errc; err != nil {
			t.Fatalf("held Update: %v", err)
		}
		if got := get(t, s, "t", keys[0]); string(got.Value) != value {
			t.Errorf("after commit: got %q, want %s", got.Value, value)
		}
	}
}

// get returns the item, or an Item with Version 0 if it does not exist.
func get(t testing.TB, s store.Store, table, key string) store.Item {
	t.Helper()
	var it store.Item
	view(t, s, func(tx store.Tx) (err error) {
		it, err = tx.Get(table, key)
		if errors.Is(err, store.ErrNotFound) {
			it, err = store.Item{}, nil
		}
		return err
	})
	return it
}

func scanAll(t testing.TB, tx store.Tx, table string, opt store.ScanOptions) []store.Item {
	t.Helper()
	var got []store.Item
	if err := tx.Scan(table, opt, func(it store.Item) error {
		got = append(got, it)
		return nil
	}); err != nil {
		t.Fatalf("Scan(%q, %+v): %v", table, opt, err)
	}
	return got
}

func keysOf(items []store.Item) []string {
	keys := make([]string, len(items))
	for i, it := range items {
		keys[i] = it.Key
	}
	return keys
}

func testCRUD(t *testing.T, s store.Store) {
	view(t, s, func(tx store.Tx) error {
		if _, err := tx.Get("t", "k"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get of missing item: got %v, want ErrNotFound", err)
		}
		return nil
	})
	if v := put(t, s, "t", "k", "one"); v != 1 {
		t.Errorf("first Put: got version %d, want 1", v)
	}
	want := store.Item{Key: "k", Value: []byte("one"), Version: 1}
	if diff := cmp.Diff(want, get(t, s, "t", "k")); diff != "" {
		t.Errorf("Get after Put (-want +got):\n%s", diff)
	}
	if v := put(t, s, "t", "k", "two"); v != 2 {
		t.Errorf("second Put: got version %d, want 2", v)
	}
	want = store.Item{Key: "k", Value: []byte("two"), Version: 2}
	if diff := cmp.Diff(want, get(t, s, "t", "k")); diff != "" {
		t.Errorf("Get after second Put (-want +got):\n%s", diff)
	}
	update(t, s, func(tx store.Tx) error { return tx.Delete("t", "k", store.AnyVersion) })
	if got := get(t, s, "t", "k"); got.Version != 0 {
		t.Errorf("Get after Delete: got %+v, want ErrNotFound", got)
	}
	update(t, s, func(tx store.Tx) error {
		if err := tx.Delete("t", "k", store.AnyVersion); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Delete of missing item: got %v, want ErrNotFound", err)
		}
		return nil
	})
	if v := put(t, s, "t", "k", "again"); v != 1 {
		t.Errorf("Put after Delete: got version %d, want 1", v)
	}
}

func testValues(t *testing.T, s store.Store) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	tests := []struct {
		name  string
		key   string
		value []byte
		want  []byte
	}{
		{"nil value reads back empty", "nil", nil, []byte{}},
		{"empty value", "empty", []byte{}, []byte{}},
		{"every byte", "bytes", all, all},
		{"NUL in key", "a\x00b", []byte("nul"), []byte("nul")},
		{"invalid UTF-8 key", "\xff\xfe", []byte("ff"), []byte("ff")},
		{"unicode key", "日本/\U0001F600", []byte("emoji"), []byte("emoji")},
		{"long key", strings.Repeat("k", 2048), []byte("long"), []byte("long")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			update(t, s, func(tx store.Tx) error {
				_, err := tx.Put("values", tt.key, tt.value, store.AnyVersion)
				return err
			})
			got := get(t, s, "values", tt.key)
			if got.Key != tt.key || got.Version != 1 {
				t.Errorf("got key %q version %d, want %q version 1", got.Key, got.Version, tt.key)
			}
			if got.Value == nil || !bytes.Equal(got.Value, tt.want) {
				t.Errorf("got value %q (nil: %t), want %q (never nil)", got.Value, got.Value == nil, tt.want)
			}
		})
	}
}

func testVersions(t *testing.T, s store.Store) {
	// One item through a sequence of conditional operations.
	type op struct {
		name      string
		del       bool
		ifVersion int64
		want      int64 // version after a successful Put
		wantErr   error
	}
	ops := []op{
		{name: "update missing", ifVersion: 1, wantErr: store.ErrConflict},
		{name: "delete missing", del: true, ifVersion: store.AnyVersion, wantErr: store.ErrNotFound},
		{name: "delete missing at version", del: true, ifVersion: 3, wantErr: store.ErrNotFound},
		{name: "create", ifVersion: 0, want: 1},
		{name: "create existing", ifVersion: 0, wantErr: store.ErrConflict},
		{name: "update current", ifVersion: 1, want: 2},
		{name: "update stale", ifVersion: 1, wantErr: store.ErrConflict},
		{name: "update future", ifVersion: 7, wantErr: store.ErrConflict},
		{name: "put any", ifVersion: store.AnyVersion, want: 3},
		{name: "delete stale", del: true, ifVersion: 2, wantErr: store.ErrConflict},
		{name: "delete if absent", del: true, ifVersion: 0, wantErr: store.ErrConflict},
		{name: "update after failed delete", ifVersion: 3, want: 4},
		{name: "delete current", del: true, ifVersion: 4},
		{name: "update deleted", ifVersion: 4, wantErr: store.ErrConflict},
		{name: "recreate", ifVersion: 0, want: 1},
		{name: "delete any", del: true, ifVersion: store.AnyVersion},
		{name: "recreate any", ifVersion: store.AnyVersion, want: 1},
	}
	current := int64(0)
	for i, o := range ops {
		value := fmt.Sprintf("value %d", i)
		var got int64
		err := s.Update(context.Background(), func(tx store.Tx) (err error) {
			if o.del {
				return tx.Delete("t", "k", o.ifVersion)
			}
			got, err = tx.Put("t", "k", []byte(value), o.ifVersion)
			return err
		})
		if !errors.Is(err, o.wantErr) {
			t.Fatalf("%s: got error %v, want %v", o.name, err, o.wantErr)
		}
		if err == nil {
			switch {
			case o.del:
				current = 0
			case got != o.want:
				t.Fatalf("%s: got version %d, want %d", o.name, got, o.want)
			default:
				current = got
			}
		}
		if it := get(t, s, "t", "k"); it.Version != current {
			t.Fatalf("%s: stored version is %d, want %d", o.name, it.Version, current)
		} else if current != 0 && err == nil && !o.del && string(it.Value) != value {
			t.Fatalf("%s: stored value %q, want %q", o.name, it.Value, value)
		}
	}
}

func testConflictKeepsTxUsable(t *testing.T, s store.Store) {
	put(t, s, "t", "exists", "x")
	update(t, s, func(tx store.Tx) error {
		if _, err := tx.Put("t", "exists", []byte("y"), 0); !errors.Is(err, store.ErrConflict) {
			t.Errorf("Put(ifVersion 0) of existing item: got %v, want ErrConflict", err)
		}
		if err := tx.Delete("t", "missing", store.AnyVersion); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Delete of missing item: got %v, want ErrNotFound", err)
		}
		if _, err := tx.Get("t", "missing"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get of missing item: got %v, want ErrNotFound", err)
		}
		_, err := tx.Put("t", "new", []byte("n"), 0)
		return err
	})
	if got := get(t, s, "t", "new"); string(got.Value) != "n" {
		t.Errorf("item written after failed operations: got %+v, want it committed", got)
	}
	if got := get(t, s, "t", "exists"); string(got.Value) != "x" || got.Version != 1 {
		t.Errorf("item of failed Put: got %+v, want unchanged", got)
	}
}

func testInvalidArguments(t *testing.T, s store.Store) {
	tests := []struct {
		name string
		fn   func(tx store.Tx) error
	}{
		{"Get empty table", func(tx store.Tx) error { _, err := tx.Get("", "k"); return err }},
		{"Get empty key", func(tx store.Tx) error { _, err := tx.Get("t", ""); return err }},
		{"Put empty table", func(tx store.Tx) error { _, err := tx.Put("", "k", nil, store.AnyVersion); return err }},
		{"Put empty key", func(tx store.Tx) error { _, err := tx.Put("t", "", nil, store.AnyVersion); return err }},
		{"Put version -2", func(tx store.Tx) error { _, err := tx.Put("t", "k", nil, -2); return err }},
		{"Delete empty key", func(tx store.Tx) error { return tx.Delete("t", "", store.AnyVersion) }},
		{"Delete version -2", func(tx store.Tx) error { return tx.Delete("t", "k", -2) }},
		{"Scan empty table", func(tx store.Tx) error {
			return tx.Scan("", store.ScanOptions{}, func(store.Item) error { return nil })
		}},
		{"Scan negative limit", func(tx store.Tx) error {
			return tx.Scan("t", store.ScanOptions{Limit: -1}, func(store.Item) error { return nil })
		}},
		{"Count empty table", func(tx store.Tx) error { _, err := tx.Count("", ""); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			update(t, s, func(tx store.Tx) error {
				if err := tt.fn(tx); !errors.Is(err, store.ErrInvalid) {
					t.Errorf("got %v, want ErrInvalid", err)
				}
				return nil
			})
		})
	}
}

func testTablesAreSeparate(t *testing.T, s store.Store) {
	tables := []string{"t", "t2", "tt", "t/", "tábla/ü"}
	for i, table := range tables {
		for j := range i + 1 {
			put(t, s, table, fmt.Sprintf("k%d", j), table)
		}
	}
	view(t, s, func(tx store.Tx) error {
		for i, table := range tables {
			items := scanAll(t, tx, table, store.ScanOptions{})
			if len(items) != i+1 {
				t.Errorf("Scan(%q): got %d items, want %d", table, len(items), i+1)
			}
			for _, it := range items {
				if string(it.Value) != table {
					t.Errorf("Scan(%q): got item %q of table %q", table, it.Key, it.Value)
				}
			}
			if n, err := tx.Count(table, ""); err != nil || n != i+1 {
				t.Errorf("Count(%q): got %d, %v, want %d", table, n, err, i+1)
			}
		}
		if n, err := tx.Count("none", ""); err != nil || n != 0 {
			t.Errorf("Count of empty table: got %d, %v, want 0", n, err)
		}
		return nil
	})
}

// scanKeys exercise byte-wise ordering: prefixes of each other, NUL and
// 0xFF bytes, invalid UTF-8, and code points whose UTF-8 encodings sort
// differently from their UTF-16 ones (U+FFFD vs U+1F600).
var scanKeys = []string{
	"a", "a/", "a/b", "a/b/c", "a0", "ab", "abc", "a\x00", "a\x00b", "b", "B", "Z", "~", " ",
	"é", "ée", "e\u0301", "日本", "日本語", "\U0001F600", "\uFFFD", "\uFFFF", "\x7f", "\x80",
	"\xc0\x80", "\xff", "\xff\x00", "\xff\xff", "\xff\xff\xff", "z",
}

// refScan is the specification of Scan as a straightforward model.
func refScan(keys []string, opt store.ScanOptions) []string {
	var got []string
	for _, k := range keys {
		if !strings.HasPrefix(k, opt.Prefix) {
			continue
		}
		if opt.After != "" && (!opt.Reverse && k <= opt.After || opt.Reverse && k >= opt.After) {
			continue
		}
		got = append(got, k)
	}
	slices.Sort(got)
	if opt.Reverse {
		slices.Reverse(got)
	}
	if opt.Limit > 0 && len(got) > opt.Limit {
		got = got[:opt.Limit]
	}
	return got
}

func testScanOrderAndOptions(t *testing.T, s store.Store) {
	// Insert in a shuffled order, and give items different versions, so that
	// neither insertion order nor version can pass for key order.
	keys := slices.Clone(scanKeys)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	want := map[string]store.Item{}
	update(t, s, func(tx store.Tx) error {
		for i, k := range keys {
			for range i%3 + 1 {
				v, err := tx.Put("t", k, []byte("v:"+k), store.AnyVersion)
				if err != nil {
					return err
				}
				want[k] = store.Item{Key: k, Value: []byte("v:" + k), Version: v}
			}
		}
		// Neighbouring tables must not leak into the scan.
		if _, err := tx.Put("s", "a", []byte("other table"), store.AnyVersion); err != nil {
			return err
		}
		_, err := tx.Put("u", "a", []byte("other table"), store.AnyVersion)
		return err
	})

	prefixes := []string{"", "a", "a/", "a/b", "ab", "a\x00", "é", "日本", "\xff", "\xff\xff", "\xef\xbf", "q", "zz"}
	afters := append(slices.Clone(scanKeys), "", "a.", "a\x00\x00", "\xfe", "\xff\xff\xff\xff", "0", "日")
	limits := []int{0, 1, 2, 5}
	failures := 0
	view(t, s, func(tx store.Tx) error {
		for _, prefix := range prefixes {
			n, err := tx.Count("t", prefix)
			if wantN := len(refScan(scanKeys, store.ScanOptions{Prefix: prefix})); err != nil || n != wantN {
				t.Errorf("Count(%q): got %d, %v, want %d", prefix, n, err, wantN)
			}
			for _, after := range afters {
				for _, limit := range limits {
					for _, reverse := range []bool{false, true} {
						opt := store.ScanOptions{Prefix: prefix, After: after, Limit: limit, Reverse: reverse}
						var wantItems []store.Item
						for _, k := range refScan(scanKeys, opt) {
							wantItems = append(wantItems, want[k])
						}
						got := scanAll(t, tx, "t", opt)
						if diff := cmp.Diff(wantItems, got); diff != "" {
							t.Errorf("Scan(%+q) (-want +got):\n%s", fmt.Sprintf("%+v", opt), diff)
							if failures++; failures > 10 {
								t.Fatal("too many failures")
							}
						}
					}
				}
			}
		}
		return nil
	})
}

func testScanStop(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		for i := range 10 {
			if _, err := tx.Put("t", fmt.Sprintf("k%d", i), nil, store.AnyVersion); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		var seen []string
		err := tx.Scan("t", store.ScanOptions{}, func(it store.Item) error {
			seen = append(seen, it.Key)
			if len(seen) == 3 {
				return store.ErrStop
			}
			return nil
		})
		if err != nil {
			t.Errorf("Scan stopped with ErrStop: got %v, want nil", err)
		}
		if diff := cmp.Diff([]string{"k0", "k1", "k2"}, seen); diff != "" {
			t.Errorf("items before ErrStop (-want +got):\n%s", diff)
		}

		calls := 0
		err = tx.Scan("t", store.ScanOptions{}, func(it store.Item) error {
			calls++
			return fmt.Errorf("wrapped: %w", errBoom)
		})
		if !errors.Is(err, errBoom) || calls != 1 {
			t.Errorf("Scan callback error: got %v after %d calls, want errBoom after 1", err, calls)
		}
		return nil
	})
}

// testKeysAndDeleteScanned checks the helpers over Scan: the keys a scan
// visits, and deleting them in bounded batches.
func testKeysAndDeleteScanned(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		for _, k := range []string{"a/1", "a/2", "a/3", "b/1"} {
			if _, err := tx.Put("t", k, nil, store.AnyVersion); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		keys, err := store.Keys(tx, "t", store.ScanOptions{Prefix: "a/"})
		if diff := cmp.Diff([]string{"a/1", "a/2", "a/3"}, keys); err != nil || diff != "" {
			t.Errorf("Keys(a/): err %v (-want +got):\n%s", err, diff)
		}
		return nil
	})
	keys, err := store.TableKeys(context.Background(), s, "t")
	if diff := cmp.Diff([]string{"a/1", "a/2", "a/3", "b/1"}, keys); err != nil || diff != "" {
		t.Errorf("TableKeys: err %v (-want +got):\n%s", err, diff)
	}
	for _, want := range []int{2, 1, 0} {
		update(t, s, func(tx store.Tx) error {
			n, err := store.DeleteScanned(tx, "t", store.ScanOptions{Prefix: "a/", Limit: 2})
			if err != nil || n != want {
				t.Errorf("DeleteScanned(a/, limit 2): got %d, %v; want %d", n, err, want)
			}
			return nil
		})
	}
	view(t, s, func(tx store.Tx) error {
		if got := keysOf(scanAll(t, tx, "t", store.ScanOptions{})); !cmp.Equal(got, []string{"b/1"}) {
			t.Errorf("left after deleting a/: got %v, want [b/1]", got)
		}
		return nil
	})
}

func testScanWithTxUseInCallback(t *testing.T, s store.Store) {
	const n = 1000 // more than any sensible internal batch
	update(t, s, func(tx store.Tx) error {
		for i := range n {
			if _, err := tx.Put("t", fmt.Sprintf("k%04d", i), []byte("old"), store.AnyVersion); err != nil {
				return err
			}
		}
		_, err := tx.Put("other", "x", []byte("x"), store.AnyVersion)
		return err
	})

	t.Run("nested reads", func(t *testing.T) {
		view(t, s, func(tx store.Tx) error {
			visits := 0
			err := tx.Scan("t", store.ScanOptions{Limit: 300}, func(it store.Item) error {
				visits++
				if _, err := tx.Get("t", it.Key); err != nil {
					return err
				}
				inner := scanAll(t, tx, "t", store.ScanOptions{After: it.Key, Limit: 2})
				if len(inner) != 2 {
					return fmt.Errorf("inner scan after %s: got %d items, want 2", it.Key, len(inner))
				}
				return nil
			})
			if err != nil || visits != 300 {
				t.Errorf("got %d visits, %v, want 300, nil", visits, err)
			}
			return nil
		})
	})

	t.Run("update visited", func(t *testing.T) {
		update(t, s, func(tx store.Tx) error {
			seen := map[string]int{}
			err := tx.Scan("t", store.ScanOptions{}, func(it store.Item) error {
				seen[it.Key]++
				_, err := tx.Put("t", it.Key, []byte("new"), it.Version)
				return err
			})
			if err != nil {
				return err
			}
			if len(seen) != n {
				t.Errorf("got %d distinct keys, want %d", len(seen), n)
			}
			for k, c := range seen {
				if c != 1 {
					t.Errorf("key %s visited %d times, want once", k, c)
				}
			}
			return nil
		})
		view(t, s, func(tx store.Tx) error {
			for _, it := range scanAll(t, tx, "t", store.ScanOptions{}) {
				if string(it.Value) != "new" || it.Version != 2 {
					t.Fatalf("after update scan: got %+v, want value new, version 2", it)
				}
			}
			return nil
		})
	})

	t.Run("delete visited", func(t *testing.T) {
		update(t, s, func(tx store.Tx) error {
			visits := 0
			err := tx.Scan("t", store.ScanOptions{Reverse: true}, func(it store.Item) error {
				visits++
				return tx.Delete("t", it.Key, it.Version)
			})
			if visits != n {
				t.Errorf("got %d visits, want %d", visits, n)
			}
			return err
		})
		view(t, s, func(tx store.Tx) error {
			if c, err := tx.Count("t", ""); err != nil || c != 0 {
				t.Errorf("Count after deleting scan: got %d, %v, want 0", c, err)
			}
			if c, err := tx.Count("other", ""); err != nil || c != 1 {
				t.Errorf("Count of other table: got %d, %v, want 1", c, err)
			}
			return nil
		})
	})
}

func testReadYourWrites(t *testing.T, s store.Store) {
	put(t, s, "t", "gone", "x")
	update(t, s, func(tx store.Tx) error {
		if _, err := tx.Put("t", "new", []byte("n"), 0); err != nil {
			return err
		}
		if err := tx.Delete("t", "gone", store.AnyVersion); err != nil {
			return err
		}
		if it, err := tx.Get("t", "new"); err != nil || string(it.Value) != "n" {
			t.Errorf("Get of own write: got %+v, %v, want value n", it, err)
		}
		if _, err := tx.Get("t", "gone"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get of own delete: got %v, want ErrNotFound", err)
		}
		if got := keysOf(scanAll(t, tx, "t", store.ScanOptions{})); !slices.Equal(got, []string{"new"}) {
			t.Errorf("Scan: got keys %q, want [new]", got)
		}
		if n, err := tx.Count("t", ""); err != nil || n != 1 {
			t.Errorf("Count: got %d, %v, want 1", n, err)
		}
		return nil
	})
}

func testRollbackOnError(t *testing.T, s store.Store) {
	put(t, s, "t", "k", "before")
	err := s.Update(context.Background(), func(tx store.Tx) error {
		if _, err := tx.Put("t", "k", []byte("after"), store.AnyVersion); err != nil {
			return err
		}
		if _, err := tx.Put("t", "new", []byte("x"), store.AnyVersion); err != nil {
			return err
		}
		return fmt.Errorf("wrapped: %w", errBoom)
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update: got %v, want the error fn returned", err)
	}
	want := store.Item{Key: "k", Value: []byte("before"), Version: 1}
	if diff := cmp.Diff(want, get(t, s, "t", "k")); diff != "" {
		t.Errorf("item after rollback (-want +got):\n%s", diff)
	}
	if got := get(t, s, "t", "new"); got.Version != 0 {
		t.Errorf("item created in rolled back tx: got %+v, want none", got)
	}
}

func testRollbackOnPanic(t *testing.T, s store.Store) {
	put(t, s, "t", "k", "before")
	func() {
		defer func() {
			if r := recover(); r != errBoom {
				t.Errorf("recovered %v, want the panic value errBoom", r)
			}
		}()
		_ = s.Update(context.Background(), func(tx store.Tx) error {
			if _, err := tx.Put("t", "k", []byte("after"), store.AnyVersion); err != nil {
				return err
			}
			panic(errBoom)
		})
		t.Error("Update returned instead of panicking")
	}()
	if got := get(t, s, "t", "k"); string(got.Value) != "before" {
		t.Errorf("item after panic: got %q, want before", got.Value)
	}
	func() {
		defer func() { _ = recover() }()
		_ = s.View(context.Background(), func(tx store.Tx) error { panic(errBoom) })
	}()
	// The store must still work: a leaked lock or connection shows up here.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 20 {
		if err := s.Update(ctx, func(tx store.Tx) error {
			_, err := tx.Put("t", "k", []byte("later"), store.AnyVersion)
			return err
		}); err != nil {
			t.Fatalf("Update after panic: %v", err)
		}
		if err := s.View(ctx, func(tx store.Tx) error { _, err := tx.Get("t", "k"); return err }); err != nil {
			t.Fatalf("View after panic: %v", err)
		}
	}
}

func testViewIsReadOnly(t *testing.T, s store.Store) {
	put(t, s, "t", "k", "v")
	err := s.View(context.Background(), func(tx store.Tx) error {
		if _, err := tx.Put("t", "k", []byte("x"), store.AnyVersion); !errors.Is(err, store.ErrReadOnly) {
			t.Errorf("Put in View: got %v, want ErrReadOnly", err)
		}
		if _, err := tx.Put("t", "new", []byte("x"), 0); !errors.Is(err, store.ErrReadOnly) {
			t.Errorf("Put of new item in View: got %v, want ErrReadOnly", err)
		}
		if err := tx.Delete("t", "k", store.AnyVersion); !errors.Is(err, store.ErrReadOnly) {
			t.Errorf("Delete in View: got %v, want ErrReadOnly", err)
		}
		return errBoom
	})
	if err != errBoom {
		t.Errorf("View: got %v, want the error fn returned, unchanged", err)
	}
	if got := get(t, s, "t", "k"); string(got.Value) != "v" || got.Version != 1 {
		t.Errorf("item after View: got %+v, want unchanged", got)
	}
}

func testTxDoneAfterReturn(t *testing.T, s store.Store) {
	put(t, s, "t", "k", "v")
	var leaked []store.Tx
	view(t, s, func(tx store.Tx) error { leaked = append(leaked, tx); return nil })
	update(t, s, func(tx store.Tx) error { leaked = append(leaked, tx); return nil })
	for i, tx := range leaked {
		if _, err := tx.Get("t", "k"); !errors.Is(err, store.ErrTxDone) {
			t.Errorf("tx %d: Get: got %v, want ErrTxDone", i, err)
		}
		if _, err := tx.Put("t", "k", nil, store.AnyVersion); !errors.Is(err, store.ErrTxDone) {
			t.Errorf("tx %d: Put: got %v, want ErrTxDone", i, err)
		}
		if err := tx.Scan("t", store.ScanOptions{}, func(store.Item) error { return nil }); !errors.Is(err, store.ErrTxDone) {
			t.Errorf("tx %d: Scan: got %v, want ErrTxDone", i, err)
		}
	}
	if got := get(t, s, "t", "k"); string(got.Value) != "v" {
		t.Errorf("item after use of finished tx: got %q, want v", got.Value)
	}
}

// testSnapshotIsolation checks that a View keeps reading the state it began
// with while an Update commits in the meantime.
func testSnapshotIsolation(t *testing.T, s store.Store) {
	put(t, s, "t", "a", "1")
	put(t, s, "t", "b", "1")
	view(t, s, func(tx store.Tx) error {
		if it, err := tx.Get("t", "a"); err != nil || string(it.Value) != "1" {
			t.Fatalf("first read: got %+v, %v", it, err)
		}
		// Commit from another goroutine, as a concurrent request would.
		errc := make(chan error, 1)
		go func() {
			errc <- s.Update(context.Background(), func(tx store.Tx) error {
				if _, err := tx.Put("t", "a", []byte("2"), store.AnyVersion); err != nil {
					return err
				}
				if _, err := tx.Put("t", "c", []byte("2"), store.AnyVersion); err != nil {
					return err
				}
				return tx.Delete("t", "b", store.AnyVersion)
			})
		}()
		if err := <-errc; err != nil {
			t.Fatalf("concurrent Update: %v", err)
		}
		if it, err := tx.Get("t", "a"); err != nil || string(it.Value) != "1" || it.Version != 1 {
			t.Errorf("re-read in same View: got %+v, %v, want value 1 version 1", it, err)
		}
		if got := keysOf(scanAll(t, tx, "t", store.ScanOptions{})); !slices.Equal(got, []string{"a", "b"}) {
			t.Errorf("Scan in same View: got %q, want [a b]", got)
		}
		if n, err := tx.Count("t", ""); err != nil || n != 2 {
			t.Errorf("Count in same View: got %d, %v, want 2", n, err)
		}
		return nil
	})
	if got := get(t, s, "t", "a"); string(got.Value) != "2" {
		t.Errorf("new View: got %q, want 2", got.Value)
	}
}

// testUncommittedInvisible checks that readers see neither a running
// Update's writes nor wait for it to finish.
func testUncommittedInvisible(t *testing.T, s store.Store) {
	put(t, s, "t", "k", "committed")
	commit := holdWrite(t, s, "pending", "k", "new")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err := s.View(ctx, func(tx store.Tx) error {
		it, err := tx.Get("t", "k")
		if err != nil {
			return err
		}
		if string(it.Value) != "committed" {
			t.Errorf("View during Update: got %q, want committed", it.Value)
		}
		if _, err := tx.Get("t", "new"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("View during Update, uncommitted new item: got %v, want ErrNotFound", err)
		}
		return nil
	})
	cancel()
	if err != nil {
		t.Errorf("View while an Update is open: %v", err)
	}
	commit()
}

// testConcurrentTransactions checks that open Views block neither each other
// nor a writer. Implementations must allow at least 8 Views open at once.
func testConcurrentTransactions(t *testing.T, s store.Store) {
	put(t, s, "t", "k", "v")
	const readers = 8
	var started, hold sync.WaitGroup
	release := make(chan struct{})
	var releaseOnce sync.Once
	releaseAll := func() { releaseOnce.Do(func() { close(release) }) }
	// On failure too, or the Views never end and Close waits for them.
	defer releaseAll()
	errc := make(chan error, readers)
	started.Add(readers)
	hold.Add(readers)
	for range readers {
		go func() {
			defer hold.Done()
			errc <- s.View(context.Background(), func(tx store.Tx) error {
				_, err := tx.Get("t", "k")
				started.Done()
				<-release
				return err
			})
		}()
	}
	waitOrFail(t, &started, "8 concurrent Views to start")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Put("t", "k", []byte("w"), store.AnyVersion)
		return err
	}); err != nil {
		t.Errorf("Update while Views are open: %v", err)
	}
	releaseAll()
	hold.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Errorf("View: %v", err)
		}
	}
}

func waitOrFail(t *testing.T, wg *sync.WaitGroup, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func testConcurrentCounter(t *testing.T, s store.Store) {
	const goroutines, increments = 16, 25
	type counter struct{ N int }
	incrementIn := func(tx store.Tx, key string) error {
		var c counter
		v, err := store.GetJSON(tx, "t", key, &c)
		if errors.Is(err, store.ErrNotFound) {
			v, err = 0, nil
		}
		if err != nil {
			return err
		}
		c.N++
		_, err = store.PutJSON(tx, "t", key, c, v)
		return err
	}

	t.Run("read-modify-write in one Update", func(t *testing.T) {
		run(t, goroutines, func() error {
			for range increments {
				if err := store.UpdateRetry(context.Background(), s, 1000, func(tx store.Tx) error {
					return incrementIn(tx, "inside")
				}); err != nil {
					return err
				}
			}
			return nil
		})
		var c counter
		view(t, s, func(tx store.Tx) error { _, err := store.GetJSON(tx, "t", "inside", &c); return err })
		if c.N != goroutines*increments {
			t.Errorf("got counter %d, want %d", c.N, goroutines*increments)
		}
	})

	// Reading in one transaction and writing in another is where versions
	// earn their keep: every lost race must surface as ErrConflict.
	t.Run("read in View, write in Update", func(t *testing.T) {
		var mu sync.Mutex
		conflicts := 0
		run(t, goroutines, func() error {
			for range increments {
				for {
					var c counter
					var v int64
					err := s.View(context.Background(), func(tx store.Tx) (err error) {
						v, err = store.GetJSON(tx, "t", "outside", &c)
						if errors.Is(err, store.ErrNotFound) {
							v, err = 0, nil
						}
						return err
					})
					if err != nil {
						return err
					}
					c.N++
					err = s.Update(context.Background(), func(tx store.Tx) error {
						_, err := store.PutJSON(tx, "t", "outside", c, v)
						return err
					})
					if errors.Is(err, store.ErrConflict) {
						mu.Lock()
						conflicts++
						mu.Unlock()
						continue
					}
					if err != nil {
						return err
					}
					break
				}
			}
			return nil
		})
		var c counter
		var v int64
		view(t, s, func(tx store.Tx) (err error) { v, err = store.GetJSON(tx, "t", "outside", &c); return err })
		if c.N != goroutines*increments || v != goroutines*increments {
			t.Errorf("got counter %d at version %d, want %d at %d", c.N, v, goroutines*increments, goroutines*increments)
		}
		t.Logf("%d conflicts", conflicts)
	})
}

// run calls fn from n goroutines at once and fails on any error.
func run(t *testing.T, n int, fn func() error) {
	t.Helper()
	errc := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { errc <- fn() })
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Error(err)
		}
	}
}

func testLargeValues(t *testing.T, s store.Store) {
	rng := rand.New(rand.NewPCG(3, 4))
	big := make([]byte, 8<<20)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	update(t, s, func(tx store.Tx) error {
		_, err := tx.Put("blobs", "big", big, store.AnyVersion)
		return err
	})
	if got := get(t, s, "blobs", "big"); !bytes.Equal(got.Value, big) {
		t.Fatalf("Get of 8 MiB value: got %d bytes, equal %t, want the %d bytes written", len(got.Value), bytes.Equal(got.Value, big), len(big))
	}
	// Several values of a few MiB in one scan, each a distinct pattern.
	const n = 5
	values := make([][]byte, n)
	update(t, s, func(tx store.Tx) error {
		for i := range n {
			values[i] = bytes.Repeat([]byte{byte('a' + i)}, 3<<20+i)
			if _, err := tx.Put("blobs", fmt.Sprintf("mid%d", i), values[i], store.AnyVersion); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		i := 0
		err := tx.Scan("blobs", store.ScanOptions{Prefix: "mid"}, func(it store.Item) error {
			if it.Key != fmt.Sprintf("mid%d", i) || !bytes.Equal(it.Value, values[i]) {
				t.Errorf("item %d: got key %q with %d bytes, want mid%d with %d", i, it.Key, len(it.Value), i, len(values[i]))
			}
			i++
			return nil
		})
		if err != nil || i != n {
			t.Errorf("Scan: got %d items, %v, want %d", i, err, n)
		}
		return nil
	})
	if got := get(t, s, "blobs", "big"); !bytes.Equal(got.Value, big) {
		t.Error("8 MiB value changed")
	}
}

func testManyItems(t *testing.T, s store.Store) {
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	order := rand.New(rand.NewPCG(5, 6)).Perm(n)
	const perTx = 10_000
	for start := 0; start < n; start += perTx {
		update(t, s, func(tx store.Tx) error {
			for _, i := range order[start:min(start+perTx, n)] {
				if _, err := tx.Put("many", fmt.Sprintf("k%06d", i), fmt.Appendf(nil, "%d", i), store.AnyVersion); err != nil {
					return err
				}
			}
			return nil
		})
	}
	view(t, s, func(tx store.Tx) error {
		for _, reverse := range []bool{false, true} {
			i := 0
			err := tx.Scan("many", store.ScanOptions{Reverse: reverse}, func(it store.Item) error {
				want := i
				if reverse {
					want = n - 1 - i
				}
				if it.Key != fmt.Sprintf("k%06d", want) || string(it.Value) != fmt.Sprint(want) {
					return fmt.Errorf("item %d: got %q=%q, want k%06d", i, it.Key, it.Value, want)
				}
				i++
				return nil
			})
			if err != nil || i != n {
				t.Errorf("Scan(reverse %t): got %d items, %v, want %d", reverse, i, err, n)
			}
		}
		if c, err := tx.Count("many", ""); err != nil || c != n {
			t.Errorf("Count: got %d, %v, want %d", c, err, n)
		}
		if c, err := tx.Count("many", "k001"); err != nil || c != 1000 {
			t.Errorf("Count(k001): got %d, %v, want 1000", c, err)
		}
		return nil
	})
	// Page through it the way a List API does: one View per page.
	after, pages, seen := "", 0, 0
	for {
		var page []store.Item
		view(t, s, func(tx store.Tx) error {
			page = scanAll(t, tx, "many", store.ScanOptions{After: after, Limit: 1000})
			return nil
		})
		if len(page) == 0 {
			break
		}
		if page[0].Key != fmt.Sprintf("k%06d", seen) {
			t.Fatalf("page %d starts at %q, want k%06d", pages, page[0].Key, seen)
		}
		pages++
		seen += len(page)
		after = page[len(page)-1].Key
	}
	if seen != n || pages != n/1000 {
		t.Errorf("paging: got %d items in %d pages, want %d in %d", seen, pages, n, n/1000)
	}
}

func testContextCancellation(t *testing.T, s store.Store) {
	put(t, s, "t", "k", "before")
	canceled, cancel := context.WithCancel(context.Background())
	cancel()

	t.Run("done before start", func(t *testing.T) {
		called := false
		fn := func(store.Tx) error { called = true; return nil }
		if err := s.View(canceled, fn); !errors.Is(err, context.Canceled) {
			t.Errorf("View: got %v, want context.Canceled", err)
		}
		if err := s.Update(canceled, fn); !errors.Is(err, context.Canceled) {
			t.Errorf("Update: got %v, want context.Canceled", err)
		}
		if called {
			t.Error("fn ran with a canceled context")
		}
	})

	t.Run("canceled during Update", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		err := s.Update(ctx, func(tx store.Tx) error {
			if _, err := tx.Put("t", "k", []byte("after"), store.AnyVersion); err != nil {
				return err
			}
			cancel()
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Update: got %v, want context.Canceled", err)
		}
		if got := get(t, s, "t", "k"); string(got.Value) != "before" {
			t.Errorf("item: got %q, want before (not committed)", got.Value)
		}
	})

	t.Run("operations after cancel fail", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		_ = s.Update(ctx, func(tx store.Tx) error {
			cancel()
			if _, err := tx.Put("t", "k", []byte("after"), store.AnyVersion); !errors.Is(err, context.Canceled) {
				t.Errorf("Put after cancel: got %v, want context.Canceled", err)
			}
			if _, err := tx.Get("t", "k"); !errors.Is(err, context.Canceled) {
				t.Errorf("Get after cancel: got %v, want context.Canceled", err)
			}
			return nil
		})
		if got := get(t, s, "t", "k"); string(got.Value) != "before" {
			t.Errorf("item: got %q, want before", got.Value)
		}
	})

	t.Run("Scan stops", func(t *testing.T) {
		update(t, s, func(tx store.Tx) error {
			for i := range 1000 {
				if _, err := tx.Put("scan", fmt.Sprintf("k%04d", i), nil, store.AnyVersion); err != nil {
					return err
				}
			}
			return nil
		})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		calls := 0
		var scanErr error
		err := s.View(ctx, func(tx store.Tx) error {
			scanErr = tx.Scan("scan", store.ScanOptions{}, func(store.Item) error {
				if calls++; calls == 10 {
					cancel()
				}
				return nil
			})
			return scanErr
		})
		if !errors.Is(scanErr, context.Canceled) || !errors.Is(err, context.Canceled) {
			t.Errorf("Scan: got %v (View %v), want context.Canceled", scanErr, err)
		}
		if calls != 10 {
			t.Errorf("callback ran %d times, want 10: it must not run after cancellation", calls)
		}
	})

	// A writer waiting behind another transaction's write to the same item
	// gives up when its deadline passes.
	t.Run("deadline while waiting for a writer", func(t *testing.T) {
		commit := holdWrite(t, s, "first", "k")
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := s.Update(ctx, func(tx store.Tx) error {
			_, err := tx.Put("t", "k", []byte("second"), store.AnyVersion)
			return err
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("blocked Update: got %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("blocked Update returned after %v, want soon after its 100ms deadline", d)
		}
		commit()
	})
}

func testJSON(t *testing.T, s store.Store) {
	type doc struct {
		Name string
		Tags []string `json:",omitempty"`
		N    int
	}
	docs := []doc{{Name: "b", N: 2}, {Name: "a", Tags: []string{"x"}, N: 1}, {Name: "c", N: 3}}
	update(t, s, func(tx store.Tx) error {
		for _, d := range docs {
			if v, err := store.PutJSON(tx, "docs", d.Name, d, 0); err != nil || v != 1 {
				return fmt.Errorf("PutJSON(%s): got %d, %v", d.Name, v, err)
			}
		}
		_, err := tx.Put("docs", "zbad", []byte("{not json"), store.AnyVersion)
		return err
	})
	view(t, s, func(tx store.Tx) error {
		var got doc
		if v, err := store.GetJSON(tx, "docs", "a", &got); err != nil || v != 1 {
			t.Errorf("GetJSON: got version %d, %v, want 1", v, err)
		}
		if diff := cmp.Diff(docs[1], got); diff != "" {
			t.Errorf("GetJSON (-want +got):\n%s", diff)
		}
		if _, err := store.GetJSON(tx, "docs", "missing", &got); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetJSON of missing: got %v, want ErrNotFound", err)
		}
		if _, err := store.GetJSON(tx, "docs", "zbad", &got); err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetJSON of bad JSON: got %v, want a decode error", err)
		}
		var scanned []doc
		err := store.ScanJSON(tx, "docs", store.ScanOptions{Limit: 3}, func(key string, d doc, version int64) error {
			if key != d.Name || version != 1 {
				t.Errorf("ScanJSON: got key %q version %d for %+v", key, version, d)
			}
			scanned = append(scanned, d)
			return nil
		})
		if err != nil {
			t.Errorf("ScanJSON: %v", err)
		}
		if diff := cmp.Diff([]doc{docs[1], docs[0], docs[2]}, scanned); diff != "" {
			t.Errorf("ScanJSON (-want +got):\n%s", diff)
		}
		kept, err := store.FilterJSON(tx, "docs", store.ScanOptions{Limit: 3}, func(d doc) bool { return d.Name != docs[0].Name })
		if diff := cmp.Diff([]doc{docs[1], docs[2]}, kept); err != nil || diff != "" {
			t.Errorf("FilterJSON: %v (-want +got):\n%s", err, diff)
		}
		err = store.ScanJSON(tx, "docs", store.ScanOptions{}, func(string, doc, int64) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "zbad") {
			t.Errorf("ScanJSON over bad JSON: got %v, want an error naming zbad", err)
		}
		return nil
	})
}

func testUpdateRetry(t *testing.T, s store.Store) {
	ctx := context.Background()
	tests := []struct {
		name      string
		attempts  int
		failFirst int   // calls that fail with ErrConflict before fn succeeds
		fnErr     error // returned by every call instead, if set
		wantCalls int
		wantErr   error
	}{
		{name: "success", attempts: 5, wantCalls: 1},
		{name: "conflicts then success", attempts: 5, failFirst: 3, wantCalls: 4},
		{name: "gives up", attempts: 3, failFirst: 100, wantCalls: 3, wantErr: store.ErrConflict},
		{name: "zero attempts still tries once", attempts: 0, failFirst: 100, wantCalls: 1, wantErr: store.ErrConflict},
		{name: "other errors are not retried", attempts: 5, fnErr: errBoom, wantCalls: 1, wantErr: errBoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			err := store.UpdateRetry(ctx, s, tt.attempts, func(tx store.Tx) error {
				calls++
				if _, err := tx.Put("retry", tt.name, []byte("x"), store.AnyVersion); err != nil {
					return err
				}
				if tt.fnErr != nil {
					return tt.fnErr
				}
				if calls <= tt.failFirst {
					return fmt.Errorf("lost a race: %w", store.ErrConflict)
				}
				return nil
			})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("got error %v, want %v", err, tt.wantErr)
			}
			if calls != tt.wantCalls {
				t.Errorf("got %d calls, want %d", calls, tt.wantCalls)
			}
			// Each failed attempt was rolled back; only a success commits.
			wantVersion := int64(0)
			if err == nil {
				wantVersion = 1
			}
			if got := get(t, s, "retry", tt.name); got.Version != wantVersion {
				t.Errorf("item version: got %d, want %d", got.Version, wantVersion)
			}
		})
	}
}

func testClose(t *testing.T, s store.Store) {
	put(t, s, "t", "k", "v")
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	fn := func(store.Tx) error { t.Error("fn ran after Close"); return nil }
	if err := s.View(context.Background(), fn); !errors.Is(err, store.ErrClosed) {
		t.Errorf("View after Close: got %v, want ErrClosed", err)
	}
	if err := s.Update(context.Background(), fn); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Update after Close: got %v, want ErrClosed", err)
	}
	// Run closes the store again when the test ends: that must be harmless.
}
