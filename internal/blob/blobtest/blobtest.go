// Package blobtest is the conformance suite every blob.Store passes: the
// local directory today, an S3-compatible driver later. A driver's test is
// one call:
//
//	func TestConformance(t *testing.T) {
//		blobtest.Run(t, func(t *testing.T) blob.Store { return open(t) })
//	}
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"overcast/internal/blob"
	"overcast/internal/tabletest"
)

// Run runs the suite. open must return a new, empty store each time.
func Run(t *testing.T, open func(t *testing.T) blob.Store) {
	tabletest.Suite(t, open, map[string]func(*testing.T, blob.Store){
		"WriteCommitRead":      testWriteCommitRead,
		"Empty":                testEmpty,
		"Ranges":               testRanges,
		"UncommittedInvisible": testUncommittedInvisible,
		"Abort":                testAbort,
		"WriterDone":           testWriterDone,
		"Delete":               testDelete,
		"UnknownIDs":           testUnknownIDs,
		"Walk":                 testWalk,
		"Large":                testLarge,
		"Concurrent":           testConcurrent,
		"Copy":                 testCopy,
		"ReadWhileDeleted":     testReadWhileDeleted,
	})
}

var ctx = context.Background()

// put stores data as a new blob and returns its ID.
func put(t testing.TB, s blob.Store, data []byte) string {
	t.Helper()
	w, err := s.Create(ctx)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if got := w.Size(); got != int64(len(data)) {
		t.Errorf("Size before commit: got %d, want %d", got, len(data))
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return w.ID()
}

// read returns the bytes of id in [offset, offset+length).
func read(t testing.TB, s blob.Store, id string, offset, length int64) []byte {
	t.Helper()
	r, err := s.Open(ctx, id, offset, length)
	if err != nil {
		t.Fatalf("Open(%s, %d, %d): %v", id, offset, length, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %s: %v", id, err)
	}
	return b
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func testWriteCommitRead(t *testing.T, s blob.Store) {
	data := []byte("hello, blob")
	id := put(t, s, data)
	if id == "" {
		t.Fatal("Commit gave an empty ID")
	}
	if got := read(t, s, id, 0, -1); !bytes.Equal(got, data) {
		t.Errorf("got %q, want %q", got, data)
	}
	size, err := s.Size(ctx, id)
	if err != nil || size != int64(len(data)) {
		t.Errorf("Size: got %d, %v; want %d", size, err, len(data))
	}
	if other := put(t, s, data); other == id {
		t.Errorf("two blobs got one ID %s", id)
	}
}

func testEmpty(t *testing.T, s blob.Store) {
	id := put(t, s, nil)
	if got := read(t, s, id, 0, -1); len(got) != 0 {
		t.Errorf("got %d bytes, want 0", len(got))
	}
}

func testRanges(t *testing.T, s blob.Store) {
	data := randomBytes(10_000, 1)
	id := put(t, s, data)
	for _, r := range []struct{ off, n int64 }{{0, 1}, {0, 10_000}, {9_999, 1}, {1234, 5678}, {5000, -1}, {10_000, 0}, {10_000, -1}} {
		want := data[r.off:]
		if r.n >= 0 {
			want = data[r.off : r.off+r.n]
		}
		if got := read(t, s, id, r.off, r.n); !bytes.Equal(got, want) {
			t.Errorf("range %d+%d: got %d bytes, want %d", r.off, r.n, len(got), len(want))
		}
	}
	for _, r := range []struct{ off, n int64 }{{-1, 1}, {9_999, 2}, {10_001, -1}} {
		if rc, err := s.Open(ctx, id, r.off, r.n); err == nil {
			rc.Close()
			t.Errorf("range %d+%d outside the blob: got no error", r.off, r.n)
		}
	}
}

func testUncommittedInvisible(t *testing.T, s blob.Store) {
	w, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	w.Write([]byte("pending"))
	if _, err := s.Open(ctx, w.ID(), 0, -1); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Open before Commit: got %v, want ErrNotFound", err)
	}
	var ids []string
	s.Walk(ctx, func(id string) error { ids = append(ids, id); return nil })
	if slices.Contains(ids, w.ID()) {
		t.Errorf("Walk lists an uncommitted blob")
	}
}

func testAbort(t *testing.T, s blob.Store) {
	w, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("discard me"))
	if err := w.Abort(); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	if _, err := s.Open(ctx, w.ID(), 0, -1); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Open after Abort: got %v, want ErrNotFound", err)
	}
	if err := w.Abort(); err != nil {
		t.Errorf("second Abort: %v", err)
	}
}

func testWriterDone(t *testing.T, s blob.Store) {
	w, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("x"))
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("y")); !errors.Is(err, blob.ErrDone) {
		t.Errorf("Write after Commit: got %v, want ErrDone", err)
	}
	if err := w.Commit(ctx); !errors.Is(err, blob.ErrDone) {
		t.Errorf("second Commit: got %v, want ErrDone", err)
	}
	if err := w.Abort(); err != nil {
		t.Errorf("Abort after Commit: %v", err)
	}
	if got := read(t, s, w.ID(), 0, -1); string(got) != "x" {
		t.Errorf("Abort after Commit changed the blob: got %q", got)
	}
}

func testDelete(t *testing.T, s blob.Store) {
	id := put(t, s, []byte("short-lived"))
	if err := s.Delete(ctx, id); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Open(ctx, id, 0, -1); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Open after Delete: got %v, want ErrNotFound", err)
	}
	if _, err := s.Size(ctx, id); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Size after Delete: got %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, id); err != nil {
		t.Errorf("deleting again: got %v, want nil", err)
	}
}

// testUnknownIDs feeds IDs that are paths, or look like them: they must be
// not found, never resolved against the file system.
func testUnknownIDs(t *testing.T, s blob.Store) {
	put(t, s, []byte("exists"))
	for _, id := range []string{"", "0123456789abcdef0123456789abcdef", "../../etc/passwd", "/etc/passwd", "..", ".", "data", "tmp", "a/b", "ZZ" + string(make([]byte, 30))} {
		if _, err := s.Open(ctx, id, 0, -1); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Open(%q): got %v, want ErrNotFound", id, err)
		}
		if err := s.Delete(ctx, id); err != nil {
			t.Errorf("Delete(%q): got %v, want nil", id, err)
		}
	}
}

func testWalk(t *testing.T, s blob.Store) {
	var want []string
	for i := range 20 {
		want = append(want, put(t, s, []byte(fmt.Sprint(i))))
	}
	s.Delete(ctx, want[3])
	want = slices.Delete(want, 3, 4)
	var got []string
	if err := s.Walk(ctx, func(id string) error { got = append(got, id); return nil }); err != nil {
		t.Fatalf("Walk: %v", err)
	}
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Walk (-want +got):\n%s", diff)
	}
	stop := errors.New("stop")
	n := 0
	if err := s.Walk(ctx, func(string) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("Walk stopped by fn: got %v after %d calls, want stop after 1", err, n)
	}
}

func testLarge(t *testing.T, s blob.Store) {
	data := randomBytes(9<<20+7, 2)
	w, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Odd-sized writes, as a network body arrives.
	for rest := data; len(rest) > 0; {
		n := min(len(rest), 65_537)
		if _, err := w.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := read(t, s, w.ID(), 0, -1); !bytes.Equal(got, data) {
		t.Errorf("large blob differs after a round trip (%d bytes back, want %d)", len(got), len(data))
	}
	if got := read(t, s, w.ID(), 5<<20, 1<<20); !bytes.Equal(got, data[5<<20:6<<20]) {
		t.Errorf("range of a large blob differs")
	}
}

func testConcurrent(t *testing.T, s blob.Store) {
	const n = 16
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			w, err := s.Create(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			w.Write(randomBytes(100_000, uint64(i)))
			if err := w.Commit(ctx); err != nil {
				t.Error(err)
				return
			}
			ids[i] = w.ID()
		})
	}
	wg.Wait()
	for i, id := range ids {
		if got := read(t, s, id, 0, -1); !bytes.Equal(got, randomBytes(100_000, uint64(i))) {
			t.Errorf("blob %d has another writer's bytes", i)
		}
	}
}

func testCopy(t *testing.T, s blob.Store) {
	data := []byte("copy me")
	id := put(t, s, data)
	cp, err := blob.Copy(ctx, s, id)
	if err != nil {
		t.Fatalf("Copy: %v", err)
	}
	if cp == id {
		t.Fatalf("Copy returned the same ID")
	}
	if err := s.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := read(t, s, cp, 0, -1); !bytes.Equal(got, data) {
		t.Errorf("copy after deleting the original: got %q, want %q", got, data)
	}
	if _, err := blob.Copy(ctx, s, id); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Copy of a deleted blob: got %v, want ErrNotFound", err)
	}
}

// testReadWhileDeleted: a reader that opened a blob finishes, or fails
// with an error, but never reads other bytes.
func testReadWhileDeleted(t *testing.T, s blob.Store) {
	data := randomBytes(200_000, 3)
	id := put(t, s, data)
	r, err := s.Open(ctx, id, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	head := make([]byte, 1000)
	if _, err := io.ReadFull(r, head); err != nil {
		t.Fatal(err)
	}
	s.Delete(ctx, id)
	rest, err := io.ReadAll(r)
	if err == nil && !bytes.Equal(append(head, rest...), data) {
		t.Errorf("reading a deleted blob returned other bytes")
	}
}
