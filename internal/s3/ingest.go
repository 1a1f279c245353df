package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"io"
	"sync"

	"overcast/internal/awsproto"
	"overcast/internal/blob"
	"overcast/internal/store"
)

// Limits AWS applies to single uploads.
const (
	maxPutSize  = 5 << 30 // PutObject, UploadPart
	minPartSize = 5 << 20 // every part but the last
)

// ingestOptions say how to take in a request body.
type ingestOptions struct {
	length     int64  // Content-Length, -1 when unknown
	contentMD5 []byte // expected MD5, when sent
	sentAlg    string // checksum algorithm the client sent (or trails)
	sentValue  string // its value when sent in a header
	keepAlg    string // checksum algorithm to store
	forceBlob  bool   // never inline (parts)
}

// ingested is a body that has been read in full and verified, not yet
// committed anywhere: inline bytes, or an uncommitted blob.
type ingested struct {
	size     int64
	md5      []byte
	checksum *checksum
	inline   []byte
	w        blob.Writer
}

func (in *ingested) etag() string { return hex.EncodeToString(in.md5) }

// abort discards the blob of a body that will not be stored.
func (in *ingested) abort() {
	if in != nil && in.w != nil {
		in.w.Abort()
	}
}

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// ingest reads body to the end — into memory up to the inline limit,
// streaming into a blob beyond it — while hashing it, and verifies the
// Content-MD5 and checksum the client sent. A body that fails verification
// or ends early (the gateway's readers report signature and checksum
// failures this way) leaves nothing behind.
func (s *Service) ingest(ctx context.Context, body io.Reader, opt ingestOptions) (*ingested, error) {
	if opt.length > maxPutSize {
		return nil, errEntityTooLarge(opt.length, maxPutSize)
	}
	md := md5.New()
	keep := newHash(opt.keepAlg)
	var sent hash.Hash
	if opt.sentAlg != "" && opt.sentAlg != opt.keepAlg {
		sent = newHash(opt.sentAlg)
	}
	hashes := []io.Writer{md, keep}
	if sent != nil {
		hashes = append(hashes, sent)
	}
	sink := io.MultiWriter(hashes...)

	in := &ingested{}
	limit := int64(s.inlineLimit)
	if opt.forceBlob {
		limit = 0
	}
	var head []byte
	if limit > 0 {
		capacity := limit + 1
		if opt.length >= 0 && opt.length <= limit {
			capacity = opt.length + 1
		}
		buf := bytes.NewBuffer(make([]byte, 0, capacity))
		if _, err := buf.ReadFrom(io.LimitReader(body, limit+1)); err != nil {
			return nil, bodyError(err)
		}
		head = buf.Bytes()
	}
	if int64(len(head)) <= limit && limit > 0 {
		sink.Write(head)
		in.inline, in.size = head, int64(len(head))
	} else {
		w, err := s.blobs.Create(ctx)
		if err != nil {
			return nil, err
		}
		in.w = w
		bw := &writeErr{w: w}
		out := io.MultiWriter(bw, sink)
		if _, err := out.Write(head); err != nil {
			in.abort()
			return nil, err
		}
		bufp := copyBuffers.Get().(*[]byte)
		n, err := io.CopyBuffer(out, io.LimitReader(onlyReader{body}, maxPutSize+1-int64(len(head))), *bufp)
		copyBuffers.Put(bufp)
		in.size = int64(len(head)) + n
		if err != nil {
			in.abort()
			if bw.err != nil {
				return nil, bw.err
			}
			return nil, bodyError(err)
		}
		if in.size > maxPutSize {
			in.abort()
			return nil, errEntityTooLarge(in.size, maxPutSize)
		}
	}
	in.md5 = md.Sum(nil)
	if opt.contentMD5 != nil && !bytes.Equal(opt.contentMD5, in.md5) {
		in.abort()
		return nil, errBadDigest(base64.StdEncoding.EncodeToString(opt.contentMD5), base64.StdEncoding.EncodeToString(in.md5))
	}
	keptValue := base64.StdEncoding.EncodeToString(keep.Sum(nil))
	if opt.sentValue != "" {
		got := keptValue
		if sent != nil {
			got = base64.StdEncoding.EncodeToString(sent.Sum(nil))
		}
		if got != opt.sentValue {
			in.abort()
			return nil, errChecksumMismatch(opt.sentAlg)
		}
	}
	in.checksum = &checksum{Alg: opt.keepAlg, Value: keptValue, Type: "FULL_OBJECT"}
	return in, nil
}

// onlyReader hides a body's WriterTo, so the copy goes through our buffer
// (and the hashes) rather than around them.
type onlyReader struct{ io.Reader }

// writeErr remembers a failure of the blob side of a copy: io.CopyBuffer
// does not say which side failed, and a full disk is not the client's fault.
type writeErr struct {
	w   io.Writer
	err error
}

func (w *writeErr) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil {
		w.err = err
	}
	return n, err
}

// bodyError turns a failed body read into what S3 answers: the gateway's
// verification errors as they are, a body cut short as IncompleteBody.
func bodyError(err error) error {
	if _, ok := awsproto.AsAPIError(err); ok {
		return err
	}
	return errIncompleteBody()
}

// commitBlob makes an ingested blob durable. It first records the blob as
// an orphan, so that a crash before the metadata referencing it commits
// leaves an entry for Recover rather than a leaked file; the transaction
// that references it removes the entry (adopt).
func (s *Service) commitBlob(ctx context.Context, in *ingested) error {
	if in.w == nil {
		return nil
	}
	if err := s.st.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Put(tableOrphan, in.w.ID(), nil, store.AnyVersion)
		return err
	}); err != nil {
		in.abort()
		return err
	}
	if err := in.w.Commit(ctx); err != nil {
		return err
	}
	return nil
}

// adopt removes the orphan entries of blobs the transaction now references.
func adopt(tx store.Tx, ids ...string) error {
	return store.DeleteKeys(tx, tableOrphan, ids)
}

// discard deletes a committed blob that ended up unused (its request
// failed after the commit).
func (s *Service) discard(ctx context.Context, ids ...string) {
	if err := s.deleteBlobs(context.WithoutCancel(ctx), ids); err != nil {
		s.logger.Error("s3: discarding blobs", "err", err)
	}
}
