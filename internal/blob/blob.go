package blob

import (
	"context"
	"errors"
	"io"
)

var (
	// ErrNotFound means no committed blob has the ID.
	ErrNotFound = errors.New("blob: not found")
	// ErrDone is returned by a Writer used after Commit or Abort.
	ErrDone = errors.New("blob: writer already committed or aborted")
)

// Store keeps immutable blobs by ID. Implementations are safe for
// concurrent use.
type Store interface {
	// Create starts a new blob. Nothing is visible under its ID until the
	// Writer commits.
	Create(ctx context.Context) (Writer, error)
	// Open reads the blob from offset: length bytes, or to the end when
	// length is negative. The range must lie within the blob.
	Open(ctx context.Context, id string, offset, length int64) (io.ReadCloser, error)
	// Size returns the blob's length in bytes.
	Size(ctx context.Context, id string) (int64, error)
	// Delete removes the blob. Deleting an absent blob is not an error, so
	// a crash between deciding and deleting can simply delete again.
	// Readers that opened the blob before may or may not keep reading it.
	Delete(ctx context.Context, id string) error
	// Walk calls fn with the ID of every committed blob, in no particular
	// order, for garbage collection. fn returning an error stops the walk.
	Walk(ctx context.Context, fn func(id string) error) error
}

// Writer streams a new blob.
type Writer interface {
	io.Writer
	// ID is the blob's ID, known from the start so callers can record their
	// intent before the bytes arrive.
	ID() string
	// Size is the number of bytes written so far.
	Size() int64
	// Commit makes the blob durable and visible under ID, atomically.
	Commit(ctx context.Context) error
	// Abort discards the blob. It is a no-op after Commit, so it can be
	// deferred.
	Abort() error
}

// Cloner is implemented by stores that can copy a blob without moving its
// bytes (the local store hard-links). The copy is independent: deleting
// either leaves the other intact.
type Cloner interface {
	Clone(ctx context.Context, id string) (newID string, err error)
}

// Copy returns a new blob with the bytes of id: cloned when the store can,
// streamed otherwise.
func Copy(ctx context.Context, s Store, id string) (string, error) {
	if c, ok := s.(Cloner); ok {
		return c.Clone(ctx, id)
	}
	r, err := s.Open(ctx, id, 0, -1)
	if err != nil {
		return "", err
	}
	defer r.Close()
	w, err := s.Create(ctx)
	if err != nil {
		return "", err
	}
	defer w.Abort()
	if _, err := io.Copy(w, r); err != nil {
		return "", err
	}
	if err := w.Commit(ctx); err != nil {
		return "", err
	}
	return w.ID(), nil
}
