package cache

import (
	"io"
	"net/http"
	"os"
	"time"
)

// Entry is one cached response. Its exported fields are set by the edge
// before Put and never changed after, so any number of viewers may read one
// Entry at once, also after the cache has dropped it.
type Entry struct {
	Status int
	Header http.Header   // not to be changed once Put: a hit copies it into the response
	Size   int64         // body length; NewEntry sets it from the body
	Stored time.Time     // when it came from the origin
	TTL    time.Duration // fresh until Stored+TTL

	// StaleWhileRevalidate is how long after expiry the entry may still be
	// served while one refresh runs.
	StaleWhileRevalidate time.Duration
	// StaleIfError is how long after expiry the entry may still be served
	// when the origin errors.
	StaleIfError time.Duration

	// Path is the request path (no query) the entry was cached under; an
	// invalidation matches on it.
	Path string

	// The body lives in exactly one of these: memory, or an open file of
	// the disk tier (which may already be unlinked: the descriptor keeps the
	// data readable for whoever still holds the Entry).
	body []byte
	file *os.File
	// headerBytes is what the header costs in the memory tier's budget.
	headerBytes int64
}

// NewEntry returns an entry ready to Put: meta's fields, its own copy of the
// header (so that the caller may reuse its map) and body. Size is set to
// len(body).
func NewEntry(meta Entry, body []byte) *Entry {
	e := meta
	e.Header = meta.Header.Clone()
	// A body read through a growing buffer may carry up to twice its length
	// in capacity; a cache keeps it for hours, so it keeps only the bytes.
	if cap(body)-len(body) > len(body)/8 {
		body = append([]byte(nil), body...)
	}
	e.body = body
	e.file = nil
	e.Size = int64(len(body))
	e.headerBytes = headerBytes(e.Header)
	return &e
}

// Renew returns an entry with meta's fields and e's body, which it shares
// rather than copies: what an origin's 304 Not Modified makes of an expired
// entry (CloudFront's RefreshHit). meta.Size is ignored.
func (e *Entry) Renew(meta Entry) *Entry {
	r := NewEntry(meta, nil)
	r.body, r.file, r.Size = e.body, e.file, e.Size
	return r
}

// headerBytes is the length of the header's names and values.
func headerBytes(h http.Header) int64 {
	var n int
	for name, values := range h {
		for _, v := range values {
			n += len(name) + len(v)
		}
	}
	return int64(n)
}

// Body returns the whole body; serve a range with io.NewSectionReader.
// It is safe for concurrent use.
func (e *Entry) Body() io.ReaderAt { return (*entryBody)(e) }

// entryBody is Entry seen as an io.ReaderAt; the conversion allocates
// nothing, so a hit stays allocation-free.
type entryBody Entry

func (b *entryBody) ReadAt(p []byte, off int64) (int, error) {
	if b.file != nil {
		if off >= b.Size {
			return 0, io.EOF
		}
		if rest := b.Size - off; int64(len(p)) > rest {
			n, err := b.file.ReadAt(p[:rest], off)
			if err == nil {
				err = io.EOF
			}
			return n, err
		}
		return b.file.ReadAt(p, off)
	}
	if off < 0 {
		return 0, errNegativeOffset
	}
	if off >= int64(len(b.body)) {
		return 0, io.EOF
	}
	n := copy(p, b.body[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// WriteTo writes the whole body to w: the fast path of a whole-body hit.
func (e *Entry) WriteTo(w io.Writer) (int64, error) {
	if e.file == nil {
		n, err := w.Write(e.body)
		return int64(n), err
	}
	return io.Copy(w, io.NewSectionReader(e.file, 0, e.Size))
}

// Age is how long ago the entry came from the origin, as the Age header
// tells it; never negative.
func (e *Entry) Age(now time.Time) time.Duration {
	return max(now.Sub(e.Stored), 0)
}

// Fresh reports whether the entry may be served without asking the origin.
func (e *Entry) Fresh(now time.Time) bool {
	return now.Before(e.Stored.Add(e.TTL))
}

// StaleWhileRevalidateOK reports whether the expired entry may be served
// while a refresh runs (see Cache.Refresh).
func (e *Entry) StaleWhileRevalidateOK(now time.Time) bool {
	return now.Before(e.Stored.Add(e.TTL + e.StaleWhileRevalidate))
}

// StaleIfErrorOK reports whether the expired entry may be served in place of
// an origin error.
func (e *Entry) StaleIfErrorOK(now time.Time) bool {
	return now.Before(e.Stored.Add(e.TTL + e.StaleIfError))
}

// usefulUntil is the end of the last window in which the entry may be
// served at all; the cache drops it then.
func (e *Entry) usefulUntil() time.Time {
	return e.Stored.Add(e.TTL + max(e.StaleWhileRevalidate, e.StaleIfError))
}

// onDisk reports whether the body is in the disk tier.
func (e *Entry) onDisk() bool { return e.file != nil }
