package blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// Dir is a Store on the local file system; see the package comment.
type Dir struct {
	root string
	// made remembers the fan-out directories known to exist, to skip a
	// MkdirAll per commit.
	made sync.Map
}

var (
	_ Store  = (*Dir)(nil)
	_ Cloner = (*Dir)(nil)
)

// OpenDir opens (creating it if needed) the blob directory root and
// removes the temporary files of writers that never finished.
func OpenDir(root string) (*Dir, error) {
	for _, sub := range []string{"data", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, sub), 0o700); err != nil {
			return nil, fmt.Errorf("blob: %w", err)
		}
	}
	tmp := filepath.Join(root, "tmp")
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(tmp, e.Name())); err != nil {
			return nil, fmt.Errorf("blob: %w", err)
		}
	}
	return &Dir{root: root}, nil
}

// idLen is the length of an ID: 16 random bytes in hex.
const idLen = 32

// NewID is a new blob ID; every Store makes its IDs this way, so that
// ValidID can turn away any other string before it names a file or key.
func NewID() string {
	var b [idLen / 2]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ValidID reports whether id is one a store could have made; anything
// else names no file, whatever it contains.
func ValidID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func (d *Dir) path(id string) string { return filepath.Join(d.root, "data", id[:2], id) }

func (d *Dir) Create(ctx context.Context) (Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	id := NewID()
	name := filepath.Join(d.root, "tmp", id)
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	return &dirWriter{d: d, id: id, tmp: name, f: f}, nil
}

func (d *Dir) Open(ctx context.Context, id string, offset, length int64) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !ValidID(id) {
		return nil, ErrNotFound
	}
	f, err := os.Open(d.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("blob: %w", err)
	}
	size := fi.Size()
	if length < 0 {
		length = size - offset
	}
	if offset < 0 || length < 0 || offset+length > size {
		f.Close()
		return nil, fmt.Errorf("blob: range %d+%d outside blob %s of %d bytes", offset, length, id, size)
	}
	return &sectionReader{SectionReader: io.NewSectionReader(f, offset, length), f: f}, nil
}

// sectionReader reads a range of an open file and closes it.
type sectionReader struct {
	*io.SectionReader
	f *os.File
}

func (r *sectionReader) Close() error { return r.f.Close() }

func (d *Dir) Size(ctx context.Context, id string) (int64, error) {
	if !ValidID(id) {
		return 0, ErrNotFound
	}
	fi, err := os.Stat(d.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("blob: %w", err)
	}
	return fi.Size(), nil
}

func (d *Dir) Delete(ctx context.Context, id string) error {
	if !ValidID(id) {
		return nil
	}
	if err := os.Remove(d.path(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob: %w", err)
	}
	return nil
}

func (d *Dir) Walk(ctx context.Context, fn func(id string) error) error {
	fans, err := os.ReadDir(filepath.Join(d.root, "data"))
	if err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	for _, fan := range fans {
		entries, err := os.ReadDir(filepath.Join(d.root, "data", fan.Name()))
		if err != nil {
			return fmt.Errorf("blob: %w", err)
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return err
			}
			if ValidID(e.Name()) && e.Name()[:2] == fan.Name() {
				if err := fn(e.Name()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Clone hard-links the blob under a new ID: blobs are immutable, so two
// names for one file are two independent blobs.
func (d *Dir) Clone(ctx context.Context, id string) (string, error) {
	if !ValidID(id) {
		return "", ErrNotFound
	}
	nid := NewID()
	if err := d.mkfan(nid); err != nil {
		return "", err
	}
	if err := os.Link(d.path(id), d.path(nid)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", ErrNotFound
		}
		return "", fmt.Errorf("blob: %w", err)
	}
	if err := syncDir(filepath.Dir(d.path(nid))); err != nil {
		return "", err
	}
	return nid, nil
}

func (d *Dir) mkfan(id string) error {
	fan := id[:2]
	if _, ok := d.made.Load(fan); ok {
		return nil
	}
	if err := os.MkdirAll(filepath.Join(d.root, "data", fan), 0o700); err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	d.made.Store(fan, true)
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("blob: sync %s: %w", dir, err)
	}
	return nil
}

type dirWriter struct {
	d    *Dir
	id   string
	tmp  string
	f    *os.File
	size int64
	done bool
}

func (w *dirWriter) ID() string  { return w.id }
func (w *dirWriter) Size() int64 { return w.size }

func (w *dirWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, ErrDone
	}
	n, err := w.f.Write(p)
	w.size += int64(n)
	if err != nil {
		return n, fmt.Errorf("blob: %w", err)
	}
	return n, nil
}

// ReadFrom lets io.Copy hand the file to the kernel (splice from a
// socket) instead of going through a buffer.
func (w *dirWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.done {
		return 0, ErrDone
	}
	n, err := w.f.ReadFrom(r)
	w.size += n
	return n, err
}

func (w *dirWriter) Commit(ctx context.Context) error {
	if w.done {
		return ErrDone
	}
	w.done = true
	if err := ctx.Err(); err != nil {
		w.discard()
		return err
	}
	if err := w.f.Sync(); err != nil {
		w.discard()
		return fmt.Errorf("blob: sync: %w", err)
	}
	if err := w.f.Close(); err != nil {
		os.Remove(w.tmp)
		return fmt.Errorf("blob: %w", err)
	}
	if err := w.d.mkfan(w.id); err != nil {
		os.Remove(w.tmp)
		return err
	}
	final := w.d.path(w.id)
	if err := os.Rename(w.tmp, final); err != nil {
		os.Remove(w.tmp)
		return fmt.Errorf("blob: %w", err)
	}
	return syncDir(filepath.Dir(final))
}

func (w *dirWriter) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.discard()
	return nil
}

func (w *dirWriter) discard() {
	w.f.Close()
	os.Remove(w.tmp)
}
