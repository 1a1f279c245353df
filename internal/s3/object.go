package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/s3"
	"overcast/internal/awsproto"
	"overcast/internal/blob"
	"overcast/internal/store"
)

// versions of one key, newest first.
func keyVersions(tx store.Tx, bucket, key string, limit int) ([]*objectRecord, error) {
	var out []*objectRecord
	err := store.ScanJSON(tx, tableObject, store.ScanOptions{Prefix: objectPrefix(bucket, key), Limit: limit},
		func(_ string, o objectRecord, _ int64) error {
			out = append(out, &o)
			return nil
		})
	return out, err
}

// latestVersion returns the current version of key (possibly a delete
// marker), or nil.
func latestVersion(tx store.Tx, bucket, key string) (*objectRecord, error) {
	vs, err := keyVersions(tx, bucket, key, 1)
	if err != nil || len(vs) == 0 {
		return nil, err
	}
	return vs[0], nil
}

// findVersion returns the version versionID of key, or nil. An ID that is
// not one S3 could have issued is InvalidArgument.
func findVersion(tx store.Tx, bucket, key, versionID string) (*objectRecord, error) {
	if versionID == "null" {
		vs, err := keyVersions(tx, bucket, key, 0)
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			if v.VersionID == "null" {
				return v, nil
			}
		}
		return nil, nil
	}
	seq, ok := versionSeq(versionID)
	if !ok {
		return nil, errInvalidArgument("Invalid version id specified", "versionId", versionID)
	}
	var o objectRecord
	_, err := store.GetJSON(tx, tableObject, objectKey(bucket, key, seq), &o)
	if errors.Is(err, store.ErrNotFound) || (err == nil && o.VersionID != versionID) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &o, nil
}

// writeVersion stores rec as the newest version of key, applying the
// bucket's versioning: with versioning enabled it is added; otherwise it
// becomes the null version, replacing (and orphaning) any previous one.
// It returns the version that was current before.
func (s *Service) writeVersion(tx store.Tx, c *change, b *bucketRecord, key string, rec *objectRecord, inline []byte) (prev *objectRecord, err error) {
	if b.Versioning == "" {
		return s.overwrite(tx, c, b, key, rec, inline)
	}
	limit := 1
	if b.Versioning == "Suspended" {
		limit = 0 // the null version may be anywhere
	}
	vs, err := keyVersions(tx, b.Name, key, limit)
	if err != nil {
		return nil, err
	}
	var floor uint64
	if len(vs) > 0 {
		prev, floor = vs[0], vs[0].Seq
	}
	rec.Seq = s.clock.next(floor)
	if b.Versioning == "Enabled" {
		rec.VersionID = s.newVersionID(rec.Seq)
	} else {
		rec.VersionID = "null"
		for _, v := range vs {
			if v.VersionID == "null" {
				if err := s.removeVersion(tx, c, b.Name, key, v); err != nil {
					return nil, err
				}
			}
		}
	}
	var repl []*replicationTask
	if !c.lifecycle {
		repl = replicationFor(b, key, rec)
	}
	if len(repl) > 0 && !rec.DeleteMarker {
		rec.Replication = replicationPending
	}
	sk := objectKey(b.Name, key, rec.Seq)
	if _, err := store.PutJSON(tx, tableObject, sk, rec, 0); err != nil {
		return nil, err
	}
	if err := c.scheduleReplication(tx, sk, repl); err != nil {
		return nil, err
	}
	if rec.Inline {
		if _, err := tx.Put(tableData, sk, inline, 0); err != nil {
			return nil, err
		}
	}
	return prev, adopt(tx, rec.blobIDs()...)
}

// newVersion writes rec as the newest version of key (see writeVersion)
// and records event, which announces it.
func (s *Service) newVersion(ctx context.Context, tx store.Tx, c *change, b *bucketRecord, key string, rec *objectRecord, inline []byte, event string) error {
	if err := lockNewVersion(b, rec); err != nil {
		return err
	}
	if _, err := s.writeVersion(tx, c, b, key, rec, inline); err != nil {
		return err
	}
	c.events = append(c.events, s.objectEvent(ctx, b, event, key, rec))
	return nil
}

// overwrite stores the only version a never-versioned bucket keeps of a
// key. It lives at seq 0, which sorts after (is older than) every version
// written once versioning is turned on, as the null version from before
// must; so a write is an insert, or a point read and an in-place replace.
func (s *Service) overwrite(tx store.Tx, c *change, b *bucketRecord, key string, rec *objectRecord, inline []byte) (*objectRecord, error) {
	sk := objectKey(b.Name, key, 0)
	rec.Seq, rec.VersionID = 0, "null"
	// A new key is written without being read first: on PostgreSQL,
	// SERIALIZABLE tracks a read of a missing key by its index page, so
	// concurrent PUTs of neighbouring new keys would abort one another.
	var prev *objectRecord
	_, err := store.PutJSON(tx, tableObject, sk, rec, 0)
	if errors.Is(err, store.ErrConflict) { // the key exists: replace it
		var old objectRecord
		if _, err := store.GetJSON(tx, tableObject, sk, &old); err != nil {
			return nil, err
		}
		prev = &old
		if err := c.orphan(tx, old.blobIDs()...); err != nil {
			return nil, err
		}
		if old.Inline && !rec.Inline {
			if err := tx.Delete(tableData, sk, store.AnyVersion); err != nil && !isNotFound(err) {
				return nil, err
			}
		}
		_, err = store.PutJSON(tx, tableObject, sk, rec, store.AnyVersion)
	}
	if err != nil {
		return nil, err
	}
	if rec.Inline {
		if _, err := tx.Put(tableData, sk, inline, store.AnyVersion); err != nil {
			return nil, err
		}
	}
	return prev, adopt(tx, rec.blobIDs()...)
}

// removeVersion deletes one version for good, orphaning its blobs.
func (s *Service) removeVersion(tx store.Tx, c *change, bucket, key string, v *objectRecord) error {
	sk := objectKey(bucket, key, v.Seq)
	if err := tx.Delete(tableObject, sk, store.AnyVersion); err != nil {
		return err
	}
	if v.Inline {
		if err := tx.Delete(tableData, sk, store.AnyVersion); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return c.orphan(tx, v.blobIDs()...)
}

// checkWriteConditions applies PutObject's and CompleteMultipartUpload's
// If-None-Match: * (no current object) and If-Match (the current object
// has this ETag).
func checkWriteConditions(current *objectRecord, key string, ifMatch, ifNoneMatch *string) error {
	exists := current != nil && !current.DeleteMarker
	if ifNoneMatch != nil {
		if strings.TrimSpace(*ifNoneMatch) != "*" {
			return s3err(http.StatusNotImplemented, "NotImplemented",
				"A header you provided implies functionality that is not implemented", "Header", "If-None-Match")
		}
		if exists {
			return errPreconditionFailed("If-None-Match")
		}
	}
	if ifMatch != nil {
		if !exists {
			return errNoSuchKey(key)
		}
		if !etagListMatches(*ifMatch, current.ETag, false) {
			return errPreconditionFailed("If-Match")
		}
	}
	return nil
}

// checkWriteConditionsIn checks a write's If-Match and If-None-Match
// against the latest version of key in tx, reading it only when one is
// set.
func checkWriteConditionsIn(tx store.Tx, bucket, key string, ifMatch, ifNoneMatch *string) error {
	if ifMatch == nil && ifNoneMatch == nil {
		return nil
	}
	cur, err := latestVersion(tx, bucket, key)
	if err != nil {
		return err
	}
	return checkWriteConditions(cur, key, ifMatch, ifNoneMatch)
}

// parseTagging parses the x-amz-tagging header (a query string).
func parseTagging(header *string) ([]tag, error) {
	if header == nil || *header == "" {
		return nil, nil
	}
	q, err := url.ParseQuery(*header)
	if err != nil {
		return nil, errInvalidArgument("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.", "x-amz-tagging", *header)
	}
	var tags []tag
	for k, vs := range q {
		if len(vs) > 1 {
			return nil, errInvalidTag("Cannot provide multiple Tags with the same key")
		}
		tags = append(tags, tag{Key: k, Value: vs[0]})
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
	return tags, validateTags(tags, 10)
}

// validateTags applies S3's tag limits.
func validateTags(tags []tag, max int) error {
	if len(tags) > max {
		return errInvalidTag(fmt.Sprintf("Object tags cannot be greater than %d", max))
	}
	seen := map[string]bool{}
	for _, t := range tags {
		switch {
		case t.Key == "" || len(t.Key) > 128:
			return errInvalidTag("The TagKey you have provided is invalid")
		case len(t.Value) > 256:
			return errInvalidTag("The TagValue you have provided is invalid")
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			return errInvalidTag("Your TagKey cannot be prefixed with aws:")
		case seen[t.Key]:
			return errInvalidTag("Cannot provide multiple Tags with the same key")
		}
		seen[t.Key] = true
	}
	return nil
}

func headersOf(contentType, encoding, disposition, language, cacheControl *string, expires *time.Time) contentHeaders {
	return contentHeaders{Type: deref(contentType), Encoding: deref(encoding), Disposition: deref(disposition),
		Language: deref(language), CacheControl: deref(cacheControl), Expires: expires}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// nonEmpty returns a pointer to s, or nil for "".
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// peekBucket returns the bucket as last read when it was read before, for
// checks that a transaction repeats; otherwise it reads it.
func (s *Service) peekBucket(ctx context.Context, name string) (*bucketRecord, error) {
	s.bucketsMu.Lock()
	c, ok := s.buckets[name]
	s.bucketsMu.Unlock()
	if ok {
		return c.b, nil
	}
	return s.lookupBucket(ctx, name)
}

// peekPut is an upload's first look, before it takes the body: the bucket
// (see peekBucket), when the caller may put key in it. The transaction that
// stores the object decides again, on the bucket as it is then.
func (s *Service) peekPut(ctx context.Context, bucket, key string, extra map[string]string) (*bucketRecord, error) {
	b, err := s.peekBucket(ctx, bucket)
	if err != nil {
		return nil, err
	}
	if authorize(ctx, b, "s3:PutObject", key, extra) != nil {
		// The bucket as last read may predate a policy that lets the
		// caller in: a refusal is decided on the bucket as it is now.
		if b, err = s.lookupBucket(ctx, bucket); err != nil {
			return nil, err
		}
		if err := authorize(ctx, b, "s3:PutObject", key, extra); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// sentBody is the body of a PutObject or UploadPart, with what the client
// says of it: its length (-1 when unknown), and the Content-MD5 and
// checksum to verify it against. The caller sets what to keep.
func sentBody(body io.Reader, length *int64, contentMD5Header *string, sums checksumHeaders, sdkAlg *string) (io.Reader, ingestOptions, error) {
	md, err := contentMD5(contentMD5Header)
	if err != nil {
		return nil, ingestOptions{}, err
	}
	alg, want, err := sums.requested(sdkAlg)
	if err != nil {
		return nil, ingestOptions{}, err
	}
	opt := ingestOptions{length: -1, contentMD5: md, sentAlg: alg, sentValue: want}
	if length != nil {
		opt.length = *length
	}
	if body == nil {
		body = http.NoBody
	}
	return body, opt, nil
}

// storedAlg is the algorithm a new object's checksum is kept in: the one
// the client sent, or the default.
func storedAlg(sent string) string {
	if sent == "" {
		return defaultChecksum
	}
	return sent
}

// storeBody stores an ingested body as the new version rec of key, in a
// transaction that checks again, on the bucket as it is then, that the
// caller may put it and that the write conditions hold (nil: none). It
// returns that bucket; on failure the body's blob is discarded.
func (s *Service) storeBody(ctx context.Context, bucket, key string, rec *objectRecord, data *ingested, event string, ifMatch, ifNoneMatch *string, extra map[string]string) (*bucketRecord, error) {
	if err := s.commitBlob(ctx, data); err != nil {
		return nil, err
	}
	if data.w != nil {
		rec.Segments = []segment{{Blob: data.w.ID(), Size: data.size}}
	} else {
		rec.Inline = true
	}
	var b *bucketRecord
	err := s.update(ctx, func(tx store.Tx, c *change) error {
		var err error
		if b, err = s.authorizedBucket(ctx, tx, bucket, "s3:PutObject", key, extra); err != nil {
			return err
		}
		if err := checkWriteConditionsIn(tx, bucket, key, ifMatch, ifNoneMatch); err != nil {
			return err
		}
		return s.newVersion(ctx, tx, c, b, key, rec, data.inline, event)
	})
	if err != nil {
		if data.w != nil {
			s.discard(ctx, data.w.ID())
		}
		return nil, err
	}
	return b, nil
}

// lookupBucket reads the bucket in its own snapshot.
func (s *Service) lookupBucket(ctx context.Context, name string) (*bucketRecord, error) {
	var b *bucketRecord
	err := s.view(ctx, func(tx store.Tx) error {
		var err error
		b, err = s.getBucket(tx, name)
		return err
	})
	return b, err
}

func (s *Service) PutObject(ctx context.Context, in *api.PutObjectRequest) (*api.PutObjectOutput, error) {
	bucket, key := *in.Bucket, *in.Key
	if in.Body != nil {
		defer in.Body.Close()
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	// A canned ACL is the s3:x-amz-acl condition key, which the policies
	// AWS documents for service principals test ("bucket-owner-full-control").
	var aclCondition map[string]string
	if in.ACL != nil {
		aclCondition = map[string]string{"s3:x-amz-acl": *in.ACL}
	}
	b, err := s.peekPut(ctx, bucket, key, aclCondition)
	if err != nil {
		return nil, err
	}
	set, err := s.versionSettings(in.Tagging, in.StorageClass, in.ServerSideEncryption, in.ObjectLockMode, in.ObjectLockRetainUntilDate, in.ObjectLockLegalHoldStatus)
	if err != nil {
		return nil, err
	}
	body, opt, err := sentBody(in.Body, in.ContentLength, in.ContentMD5,
		checksumHeaders{in.ChecksumCRC32, in.ChecksumCRC32C, in.ChecksumCRC64NVME, in.ChecksumSHA1, in.ChecksumSHA256}, in.ChecksumAlgorithm)
	if err != nil {
		return nil, err
	}
	if set.lock.any() && !b.ObjectLock {
		return nil, errNoLockConfiguration()
	}
	if needsLockDigest(b, set.lock) && opt.contentMD5 == nil && opt.sentAlg == "" {
		return nil, errInvalidRequest("Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters")
	}
	opt.keepAlg = storedAlg(opt.sentAlg)
	if in.IfNoneMatch != nil || in.IfMatch != nil {
		// Fail before taking the bytes when the condition already fails.
		if err := s.view(ctx, func(tx store.Tx) error {
			return checkWriteConditionsIn(tx, bucket, key, in.IfMatch, in.IfNoneMatch)
		}); err != nil {
			return nil, err
		}
	}
	data, err := s.ingest(ctx, body, opt)
	if err != nil {
		return nil, err
	}
	rec := &objectRecord{
		Size: data.size, ETag: data.etag(), Modified: s.Now().UTC(), Owner: b.Owner,
		Headers: headersOf(in.ContentType, in.ContentEncoding, in.ContentDisposition, in.ContentLanguage, in.CacheControl, in.Expires),
		Meta:    in.Metadata, Tags: set.tags, Checksum: data.checksum, Redirect: deref(in.WebsiteRedirectLocation),
	}
	set.apply(rec)
	if b, err = s.storeBody(ctx, bucket, key, rec, data, "ObjectCreated:Put", in.IfMatch, in.IfNoneMatch, aclCondition); err != nil {
		return nil, err
	}
	out := &api.PutObjectOutput{ETag: new(rec.etag()), ServerSideEncryption: new(sseOf(rec)), Size: new(rec.Size)}
	if b.versioned() {
		out.VersionId = new(rec.VersionID)
	}
	checksumFields{&out.ChecksumCRC32, &out.ChecksumCRC32C, &out.ChecksumCRC64NVME, &out.ChecksumSHA1, &out.ChecksumSHA256}.set(rec.Checksum)
	out.ChecksumType = new(rec.Checksum.Type)
	return out, nil
}

// versionSettings are what a request that creates a version asks of it
// besides its bytes and metadata: tags, a storage class ("" for STANDARD),
// server-side encryption and Object Lock.
type versionSettings struct {
	tags       []tag
	class, sse string
	lock       objectLock
}

// versionSettings reads them from the request's headers, refusing what S3
// refuses.
func (s *Service) versionSettings(tagging, class, sse, lockMode *string, lockUntil *time.Time, hold *string) (versionSettings, error) {
	tags, err := parseTagging(tagging)
	if err != nil {
		return versionSettings{}, err
	}
	c, err := storageClass(class)
	if err != nil {
		return versionSettings{}, err
	}
	if err := checkSSE(sse); err != nil {
		return versionSettings{}, err
	}
	lock, err := lockHeaders(lockMode, lockUntil, hold, s.Now())
	if err != nil {
		return versionSettings{}, err
	}
	return versionSettings{tags: tags, class: c, sse: deref(sse), lock: lock}, nil
}

// apply sets all but the tags, which a copy may take from its source.
func (v versionSettings) apply(rec *objectRecord) {
	rec.StorageClass, rec.SSE = v.class, v.sse
	v.lock.set(rec)
}

// storageClasses are the classes an object in a general purpose bucket
// can be stored in; the model's others (EXPRESS_ONEZONE, OUTPOSTS, SNOW,
// ...) belong to other kinds of bucket.
var storageClasses = map[string]bool{"STANDARD": true, "REDUCED_REDUNDANCY": true, "STANDARD_IA": true, "ONEZONE_IA": true,
	"INTELLIGENT_TIERING": true, "GLACIER": true, "DEEP_ARCHIVE": true, "GLACIER_IR": true}

// storageClass returns the class a new object asks for as it is stored
// ("" for STANDARD), or InvalidStorageClass.
func storageClass(p *string) (string, error) {
	if p == nil || *p == "STANDARD" {
		return "", nil
	}
	if !storageClasses[*p] {
		return "", errInvalidStorageClass(*p)
	}
	return *p, nil
}

func sseOf(o *objectRecord) string {
	if o.SSE != "" {
		return o.SSE
	}
	return "AES256"
}

// readRequest is a GET or HEAD of an object, from the API, the website
// endpoint or CloudFront.
type readRequest struct {
	bucket, key, versionID string
	cond                   conditions
	rangeHeader            string
	partNumber             int32
	head                   bool
	action                 string // s3:GetObject
}

// objectRead is an object being served.
type objectRead struct {
	b       *bucketRecord
	o       *objectRecord
	r       byteRange
	ranged  bool
	body    io.ReadCloser // nil for HEAD
	partCnt int32
}

// read resolves a GET or HEAD: bucket, access, version, preconditions,
// range, and (for GET) an open body.
func (s *Service) read(ctx context.Context, rr readRequest) (*objectRead, error) {
	for attempt := 0; ; attempt++ {
		res, err := s.readOnce(ctx, rr)
		if errors.Is(err, blob.ErrNotFound) && attempt < 3 {
			continue // deleted between the snapshot and the open: look again
		}
		return res, err
	}
}

func (s *Service) readOnce(ctx context.Context, rr readRequest) (*objectRead, error) {
	res := &objectRead{}
	var inline []byte
	err := s.view(ctx, func(tx store.Tx) error {
		action := rr.action
		if rr.versionID != "" && action == "s3:GetObject" {
			action = "s3:GetObjectVersion"
		}
		b, err := s.authorizedBucket(ctx, tx, rr.bucket, action, rr.key, nil)
		if err != nil {
			return err
		}
		res.b = b
		o, err := readableVersion(ctx, tx, b, rr.key, rr.versionID, methodOf(rr.head))
		if err != nil {
			return err
		}
		res.o = o
		if err := rr.cond.evaluate(o.ETag, o.Modified, s.Now(), true); err != nil {
			if e, ok := err.(*awsproto.Error); ok && e.Status == http.StatusNotModified {
				e.Header = http.Header{"ETag": {o.etag()}, "Last-Modified": {o.Modified.Format(http.TimeFormat)}}
			}
			return err
		}
		res.r = byteRange{0, o.Size}
		switch {
		case rr.partNumber > 0:
			r, n, err := partRange(o, rr.partNumber)
			if err != nil {
				return err
			}
			res.r, res.ranged, res.partCnt = r, len(o.PartSizes) > 0 || o.Size > 0, n
			if len(o.PartSizes) == 0 {
				res.ranged = false
			}
		case rr.rangeHeader != "":
			r, ok, err := parseRange(rr.rangeHeader, o.Size)
			if err != nil {
				return err
			}
			if ok {
				res.r, res.ranged = r, true
			}
		}
		if !rr.head {
			inline, err = inlineBytes(tx, rr.bucket, rr.key, o)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if rr.head {
		return res, nil
	}
	if res.o.Inline {
		res.body = io.NopCloser(bytes.NewReader(inline[res.r.start : res.r.start+res.r.length]))
		return res, nil
	}
	body, err := s.openSegments(ctx, res.o.Segments, res.r.start, res.r.length)
	if err != nil {
		return nil, err
	}
	res.body = body
	return res, nil
}

// readableVersion finds the version a read of key addresses: versionID,
// or the current one. A delete marker is refused as S3 refuses reading
// one: by its version ID, 405 for the method; as the current version,
// NoSuchKey; both say it is a delete marker in their headers.
func readableVersion(ctx context.Context, tx store.Tx, b *bucketRecord, key, versionID, method string) (*objectRecord, error) {
	if versionID != "" {
		o, err := findVersion(tx, b.Name, key, versionID)
		if err != nil {
			return nil, err
		}
		if o == nil {
			return nil, errNoSuchVersion(key, versionID)
		}
		if o.DeleteMarker {
			e := errMethodNotAllowed(method, "DeleteMarker")
			e.(*awsproto.Error).Header = http.Header{"X-Amz-Delete-Marker": {"true"}, "X-Amz-Version-Id": {o.VersionID},
				"Last-Modified": {o.Modified.Format(http.TimeFormat)}}
			return nil, e
		}
		return o, nil
	}
	o, err := latestVersion(tx, b.Name, key)
	if err != nil {
		return nil, err
	}
	if o == nil {
		return nil, missingKey(ctx, b, key)
	}
	if o.DeleteMarker {
		e := errNoSuchKey(key).(*awsproto.Error)
		e.Header = http.Header{"X-Amz-Delete-Marker": {"true"}, "X-Amz-Version-Id": {o.VersionID}}
		return nil, e
	}
	return o, nil
}

func methodOf(head bool) string {
	if head {
		return "HEAD"
	}
	return "GET"
}

// partRange is the byte range of part n of o (a whole non-multipart object
// is its only part).
func partRange(o *objectRecord, n int32) (byteRange, int32, error) {
	if len(o.PartSizes) == 0 {
		if n != 1 {
			return byteRange{}, 0, errInvalidRange(fmt.Sprintf("partNumber=%d", n), o.Size)
		}
		return byteRange{0, o.Size}, 1, nil
	}
	if int(n) > len(o.PartSizes) {
		return byteRange{}, 0, errInvalidRange(fmt.Sprintf("partNumber=%d", n), o.Size)
	}
	var start int64
	for _, sz := range o.PartSizes[:n-1] {
		start += sz
	}
	return byteRange{start, o.PartSizes[n-1]}, int32(len(o.PartSizes)), nil
}

// openSegments streams [start, start+length) of an object stored in
// blobs, opening each blob as the stream reaches it. The blobs are marked
// in use until the reader closes, so a concurrent delete waits.
func (s *Service) openSegments(ctx context.Context, segs []segment, start, length int64) (io.ReadCloser, error) {
	ids := make([]string, len(segs))
	for i, sg := range segs {
		ids[i] = sg.Blob
	}
	s.inUse.acquire(ids)
	r := &segmentReader{ctx: ctx, s: s, segs: segs, ids: ids, off: start, left: length}
	// Open the first blob now, so a blob deleted since the snapshot is
	// noticed before the response starts.
	if err := r.advance(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

type segmentReader struct {
	ctx    context.Context
	s      *Service
	segs   []segment
	ids    []string
	off    int64 // offset of the next byte within the remaining segments
	left   int64
	cur    io.ReadCloser
	closed bool
}

// advance opens the segment holding off.
func (r *segmentReader) advance() error {
	if r.cur != nil {
		r.cur.Close()
		r.cur = nil
	}
	for len(r.segs) > 0 && r.off >= r.segs[0].Size {
		r.off -= r.segs[0].Size
		r.segs = r.segs[1:]
	}
	if r.left == 0 || len(r.segs) == 0 {
		return nil
	}
	n := min(r.segs[0].Size-r.off, r.left)
	rc, err := r.s.blobs.Open(r.ctx, r.segs[0].Blob, r.off, n)
	if err != nil {
		return err
	}
	r.cur = rc
	r.off += n
	return nil
}

func (r *segmentReader) Read(p []byte) (int, error) {
	for {
		if r.left == 0 {
			return 0, io.EOF
		}
		if r.cur == nil {
			if err := r.advance(); err != nil {
				return 0, err
			}
			if r.cur == nil {
				return 0, io.ErrUnexpectedEOF
			}
		}
		n, err := r.cur.Read(p)
		r.left -= int64(n)
		if err == io.EOF {
			r.cur.Close()
			r.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

// WriteTo lets the response copy straight from the files (sendfile).
func (r *segmentReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for r.left > 0 {
		if r.cur == nil {
			if err := r.advance(); err != nil {
				return total, err
			}
			if r.cur == nil {
				return total, io.ErrUnexpectedEOF
			}
		}
		n, err := io.Copy(w, r.cur)
		total += n
		r.left -= n
		r.cur.Close()
		r.cur = nil
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (r *segmentReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.cur != nil {
		r.cur.Close()
	}
	r.s.releaseBlobs(r.ids)
	return nil
}

// readRequestOf builds the read of a GetObject/HeadObject request.
func readRequestOf(bucket, key, version *string, c conditions, rng *string, part *int32, head bool) readRequest {
	rr := readRequest{bucket: *bucket, key: *key, versionID: deref(version), cond: c, rangeHeader: deref(rng), head: head, action: "s3:GetObject"}
	if part != nil {
		rr.partNumber = *part
	}
	return rr
}

func (s *Service) GetObject(ctx context.Context, in *api.GetObjectRequest) (*api.GetObjectOutput, error) {
	if err := checkResponseOverrides(ctx, in.ResponseContentType, in.ResponseContentDisposition, in.ResponseContentEncoding,
		in.ResponseContentLanguage, in.ResponseCacheControl, in.ResponseExpires); err != nil {
		return nil, err
	}
	res, err := s.read(ctx, readRequestOf(in.Bucket, in.Key, in.VersionId,
		conditions{in.IfMatch, in.IfNoneMatch, in.IfModifiedSince, in.IfUnmodifiedSince}, in.Range, in.PartNumber, false))
	if err != nil {
		return nil, err
	}
	h := objectHead(ctx, res, deref(in.ChecksumMode) == "ENABLED")
	out := &api.GetObjectOutput{Body: res.body, ContentLength: h.ContentLength, ContentRange: h.ContentRange,
		ETag: h.ETag, LastModified: h.LastModified, AcceptRanges: h.AcceptRanges,
		ContentType: h.ContentType, ContentEncoding: h.ContentEncoding, ContentDisposition: h.ContentDisposition,
		ContentLanguage: h.ContentLanguage, CacheControl: h.CacheControl, Expires: h.Expires,
		VersionId: h.VersionId, TagCount: h.TagCount, StorageClass: h.StorageClass,
		ObjectLockMode: h.ObjectLockMode, ObjectLockRetainUntilDate: h.ObjectLockRetainUntilDate, ObjectLockLegalHoldStatus: h.ObjectLockLegalHoldStatus,
		WebsiteRedirectLocation: h.WebsiteRedirectLocation, ServerSideEncryption: h.ServerSideEncryption, PartsCount: h.PartsCount,
		ReplicationStatus: h.ReplicationStatus,
		ChecksumType:      h.ChecksumType, ChecksumCRC32: h.ChecksumCRC32, ChecksumCRC32C: h.ChecksumCRC32C,
		ChecksumCRC64NVME: h.ChecksumCRC64NVME, ChecksumSHA1: h.ChecksumSHA1, ChecksumSHA256: h.ChecksumSHA256}
	applyOverrides(&out.ContentType, in.ResponseContentType)
	applyOverrides(&out.ContentDisposition, in.ResponseContentDisposition)
	applyOverrides(&out.ContentEncoding, in.ResponseContentEncoding)
	applyOverrides(&out.ContentLanguage, in.ResponseContentLanguage)
	applyOverrides(&out.CacheControl, in.ResponseCacheControl)
	if in.ResponseExpires != nil {
		out.Expires = in.ResponseExpires
	}
	return out, nil
}

func (s *Service) HeadObject(ctx context.Context, in *api.HeadObjectRequest) (*api.HeadObjectOutput, error) {
	res, err := s.read(ctx, readRequestOf(in.Bucket, in.Key, in.VersionId,
		conditions{in.IfMatch, in.IfNoneMatch, in.IfModifiedSince, in.IfUnmodifiedSince}, in.Range, in.PartNumber, true))
	if err != nil {
		return nil, err
	}
	out := objectHead(ctx, res, deref(in.ChecksumMode) == "ENABLED")
	if out.TagCount != nil {
		awsproto.ResponseHeader(ctx).Set("x-amz-tagging-count", strconv.Itoa(int(*out.TagCount)))
		out.TagCount = nil
	}
	return out, nil
}

// objectHead is the answer to a GET or HEAD but for the body. It writes
// the object's user metadata, which has no field, to the response headers,
// and a range's 206 status.
func objectHead(ctx context.Context, res *objectRead, withChecksum bool) *api.HeadObjectOutput {
	o := res.o
	out := &api.HeadObjectOutput{ContentLength: new(res.r.length)}
	out.ETag = new(o.etag())
	out.LastModified = new(o.Modified)
	out.AcceptRanges = new("bytes")
	ct := o.Headers.Type
	if ct == "" {
		ct = "binary/octet-stream"
	}
	out.ContentType = new(ct)
	out.ContentEncoding, out.ContentDisposition = nonEmpty(o.Headers.Encoding), nonEmpty(o.Headers.Disposition)
	out.ContentLanguage, out.CacheControl, out.Expires = nonEmpty(o.Headers.Language), nonEmpty(o.Headers.CacheControl), o.Headers.Expires
	if res.b.versioned() || o.VersionID != "null" {
		out.VersionId = new(o.VersionID)
	}
	if len(o.Tags) > 0 {
		out.TagCount = new(int32(len(o.Tags)))
	}
	out.StorageClass = nonEmpty(o.StorageClass)
	out.ObjectLockMode, out.ObjectLockLegalHoldStatus = nonEmpty(o.LockMode), nonEmpty(o.LegalHold)
	if o.LockMode != "" {
		out.ObjectLockRetainUntilDate = o.LockUntil
	}
	setMetadata(awsproto.ResponseHeader(ctx), o.Meta)
	out.WebsiteRedirectLocation = nonEmpty(o.Redirect)
	out.ReplicationStatus = nonEmpty(o.Replication)
	out.ServerSideEncryption = new(sseOf(o))
	if res.partCnt > 0 {
		out.PartsCount = new(res.partCnt)
	}
	// A checksum covers the whole object (or, for composite ones, is only
	// meaningful whole): not sent for ranges.
	if withChecksum && o.Checksum != nil && !res.ranged && res.partCnt == 0 {
		out.ChecksumType = new(o.Checksum.Type)
		checksumFields{&out.ChecksumCRC32, &out.ChecksumCRC32C, &out.ChecksumCRC64NVME, &out.ChecksumSHA1, &out.ChecksumSHA256}.set(o.Checksum)
	}
	if res.ranged {
		out.ContentRange = new(fmt.Sprintf("bytes %d-%d/%d", res.r.start, res.r.start+res.r.length-1, o.Size))
		awsproto.SetResponseStatus(ctx, http.StatusPartialContent)
	}
	return out
}

// setMetadata writes an object's user metadata as S3 does: x-amz-meta-
// headers named with the key as stored, in lower case. http.Header.Set
// would send X-Amz-Meta-Md, and clients that take the key from the header
// name as received (botocore, so the aws CLI) would report "Md".
func setMetadata(h http.Header, meta map[string]string) {
	for k, v := range meta {
		h["x-amz-meta-"+strings.ToLower(k)] = []string{v}
	}
}

// checkResponseOverrides refuses response-* parameters on anonymous
// requests, as S3 does.
func checkResponseOverrides(ctx context.Context, vals ...any) error {
	if overcast.CallerFrom(ctx).Kind != overcast.PrincipalAnonymous {
		return nil
	}
	for _, v := range vals {
		switch p := v.(type) {
		case *string:
			if p != nil {
				return errInvalidRequest("Request specific response headers cannot be used for anonymous GET requests.")
			}
		case *time.Time:
			if p != nil {
				return errInvalidRequest("Request specific response headers cannot be used for anonymous GET requests.")
			}
		}
	}
	return nil
}

func applyOverrides(dst **string, v *string) {
	if v != nil {
		*dst = v
	}
}

func (s *Service) DeleteObject(ctx context.Context, in *api.DeleteObjectRequest) (*api.DeleteObjectOutput, error) {
	res, err := s.deleteObject(ctx, *in.Bucket, *in.Key, deref(in.VersionId), in.IfMatch, isTrue(in.BypassGovernanceRetention))
	if err != nil {
		return nil, err
	}
	out := &api.DeleteObjectOutput{}
	if res.deleteMarker {
		out.DeleteMarker = new(true)
	}
	if res.versionID != "" {
		out.VersionId = new(res.versionID)
	}
	return out, nil
}

type deleteResult struct {
	deleteMarker bool   // a delete marker was created, or removed
	versionID    string // of the marker created, or the version removed
}

// deleteObject deletes key (or one version of it) with S3's versioning
// rules: without a version ID, an unversioned bucket loses the object and a
// versioned one gains a delete marker; with one, that version goes for good,
// unless its Object Lock protects it (bypass is
// x-amz-bypass-governance-retention).
func (s *Service) deleteObject(ctx context.Context, bucket, key, versionID string, ifMatch *string, bypass bool) (deleteResult, error) {
	var res deleteResult
	if err := checkKey(key); err != nil {
		return res, err
	}
	if versionID != "" && versionID != "null" {
		if _, ok := versionSeq(versionID); !ok {
			return res, errInvalidArgument("Invalid version id specified", "versionId", versionID)
		}
	}
	err := s.update(ctx, func(tx store.Tx, c *change) error {
		res = deleteResult{}
		action := "s3:DeleteObject"
		if versionID != "" {
			action = "s3:DeleteObjectVersion"
		}
		b, err := s.authorizedBucket(ctx, tx, bucket, action, key, nil)
		if err != nil {
			return err
		}
		if versionID != "" {
			v, err := findVersion(tx, bucket, key, versionID)
			if err != nil || v == nil {
				return err // deleting a version that is not there succeeds
			}
			if err := checkRemovable(ctx, b, key, v, bypass, s.Now()); err != nil {
				return err
			}
			if err := s.removeVersion(tx, c, bucket, key, v); err != nil {
				return err
			}
			res = deleteResult{deleteMarker: v.DeleteMarker, versionID: v.VersionID}
			typ := "ObjectRemoved:Delete"
			c.events = append(c.events, s.objectEvent(ctx, b, typ, key, v))
			return nil
		}
		cur, err := latestVersion(tx, bucket, key)
		if err != nil {
			return err
		}
		if ifMatch != nil {
			if cur == nil || cur.DeleteMarker {
				return errNoSuchKey(key)
			}
			if !etagListMatches(*ifMatch, cur.ETag, false) {
				return errPreconditionFailed("If-Match")
			}
		}
		if !b.versioned() {
			if cur == nil {
				return nil
			}
			c.events = append(c.events, s.objectEvent(ctx, b, "ObjectRemoved:Delete", key, cur))
			return s.removeVersion(tx, c, bucket, key, cur)
		}
		marker := &objectRecord{DeleteMarker: true, Modified: s.Now().UTC(), Owner: b.Owner}
		if err := s.newVersion(ctx, tx, c, b, key, marker, nil, "ObjectRemoved:DeleteMarkerCreated"); err != nil {
			return err
		}
		res = deleteResult{deleteMarker: true, versionID: marker.VersionID}
		return nil
	})
	return res, err
}

func (s *Service) DeleteObjects(ctx context.Context, in *api.DeleteObjectsRequest) (*api.DeleteObjectsOutput, error) {
	if in.Delete == nil || len(in.Delete.Objects) == 0 || len(in.Delete.Objects) > 1000 {
		return nil, errMalformedXML()
	}
	if _, err := s.lookupBucket(ctx, *in.Bucket); err != nil {
		return nil, err
	}
	quiet := in.Delete.Quiet != nil && *in.Delete.Quiet
	out := &api.DeleteObjectsOutput{}
	for _, obj := range in.Delete.Objects {
		key := deref(obj.Key)
		version := deref(obj.VersionId)
		res, err := s.deleteObject(ctx, *in.Bucket, key, version, obj.ETag, isTrue(in.BypassGovernanceRetention))
		if err != nil {
			apiErr, ok := awsproto.AsAPIError(err)
			if !ok {
				return nil, err
			}
			e := api.Error{Key: new(key), Code: new(apiErr.ErrorCode()), Message: new(apiErr.ErrorMessage())}
			if version != "" {
				e.VersionId = new(version)
			}
			out.Errors = append(out.Errors, e)
			continue
		}
		if quiet {
			continue
		}
		d := api.DeletedObject{Key: new(key)}
		if version != "" {
			d.VersionId = new(version)
			if res.deleteMarker {
				d.DeleteMarker = new(true)
				d.DeleteMarkerVersionId = new(version)
			}
		} else if res.deleteMarker {
			d.DeleteMarker = new(true)
			d.DeleteMarkerVersionId = new(res.versionID)
		}
		out.Deleted = append(out.Deleted, d)
	}
	return out, nil
}

// copySource is a parsed x-amz-copy-source.
type copySource struct{ bucket, key, versionID string }

func parseCopySource(h string) (copySource, error) {
	bad := errInvalidArgument("Invalid copy source object key", "x-amz-copy-source", h)
	raw, query, _ := strings.Cut(h, "?")
	path, err := url.PathUnescape(strings.TrimPrefix(raw, "/"))
	if err != nil {
		return copySource{}, bad
	}
	bucket, key, ok := strings.Cut(path, "/")
	if !ok || bucket == "" || key == "" {
		return copySource{}, errInvalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey", "x-amz-copy-source", h)
	}
	cs := copySource{bucket: bucket, key: key}
	if query != "" {
		q, err := url.ParseQuery(query)
		if err != nil {
			return copySource{}, bad
		}
		cs.versionID = q.Get("versionId")
	}
	return cs, nil
}

// sourceObject resolves the source of a copy, checking read access and the
// x-amz-copy-source-if-* conditions.
func (s *Service) sourceObject(ctx context.Context, tx store.Tx, cs copySource, c conditions) (*bucketRecord, *objectRecord, error) {
	action := "s3:GetObject"
	if cs.versionID != "" {
		action = "s3:GetObjectVersion"
	}
	sb, err := s.authorizedBucket(ctx, tx, cs.bucket, action, cs.key, nil)
	if err != nil {
		return nil, nil, err
	}
	var o *objectRecord
	if cs.versionID != "" {
		if o, err = findVersion(tx, cs.bucket, cs.key, cs.versionID); err != nil {
			return nil, nil, err
		}
		if o == nil {
			return nil, nil, errNoSuchVersion(cs.key, cs.versionID)
		}
		if o.DeleteMarker {
			return nil, nil, errInvalidRequest("The source of a copy request may not specifically refer to a delete marker by version id.")
		}
	} else {
		if o, err = latestVersion(tx, cs.bucket, cs.key); err != nil {
			return nil, nil, err
		}
		if o == nil || o.DeleteMarker {
			return nil, nil, errNoSuchKey(cs.key)
		}
	}
	if err := c.evaluateCopySource(o.ETag, o.Modified, s.Now()); err != nil {
		return nil, nil, err
	}
	return sb, o, nil
}

func (s *Service) CopyObject(ctx context.Context, in *api.CopyObjectRequest) (*api.CopyObjectOutput, error) {
	bucket, key := *in.Bucket, *in.Key
	if err := checkKey(key); err != nil {
		return nil, err
	}
	cs, err := parseCopySource(*in.CopySource)
	if err != nil {
		return nil, err
	}
	directive := deref(in.MetadataDirective)
	if directive != "" && directive != "COPY" && directive != "REPLACE" {
		return nil, errInvalidArgument("Unknown metadata directive.", "MetadataDirective", directive)
	}
	tagDirective := deref(in.TaggingDirective)
	if tagDirective != "" && tagDirective != "COPY" && tagDirective != "REPLACE" {
		return nil, errInvalidArgument("Unknown tagging directive.", "TaggingDirective", tagDirective)
	}
	// The copy's class, encryption and lock are the request's: STANDARD,
	// and unlocked, unless it says otherwise, whatever the source's.
	set, err := s.versionSettings(in.Tagging, in.StorageClass, in.ServerSideEncryption, in.ObjectLockMode, in.ObjectLockRetainUntilDate, in.ObjectLockLegalHoldStatus)
	if err != nil {
		return nil, err
	}
	var algReq string
	if in.ChecksumAlgorithm != nil {
		algReq = strings.ToUpper(*in.ChecksumAlgorithm)
		if _, ok := checksumLen[algReq]; !ok {
			return nil, errInvalidRequest("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
		}
	}
	cond := conditions{in.CopySourceIfMatch, in.CopySourceIfNoneMatch, in.CopySourceIfModifiedSince, in.CopySourceIfUnmodifiedSince}

	// Resolve the source and the destination bucket in one snapshot.
	var src *objectRecord
	var srcBucket, dst *bucketRecord
	var inline []byte
	err = s.view(ctx, func(tx store.Tx) error {
		var err error
		if srcBucket, src, err = s.sourceObject(ctx, tx, cs, cond); err != nil {
			return err
		}
		if dst, err = s.authorizedBucket(ctx, tx, bucket, "s3:PutObject", key, nil); err != nil {
			return err
		}
		inline, err = inlineBytes(tx, cs.bucket, cs.key, src)
		return err
	})
	if err != nil {
		return nil, err
	}
	if cs.bucket == bucket && cs.key == key && directive != "REPLACE" && in.StorageClass == nil &&
		in.WebsiteRedirectLocation == nil && in.ServerSideEncryption == nil && algReq == "" &&
		(cs.versionID == "" || cs.versionID == src.VersionID) && !dst.versioned() {
		return nil, errInvalidRequest("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}

	rec := &objectRecord{Size: src.Size, ETag: src.ETag, Modified: s.Now().UTC(), Owner: dst.Owner,
		Headers: src.Headers, Meta: src.Meta, Tags: src.Tags, Checksum: src.Checksum, PartSizes: src.PartSizes,
		Redirect: src.Redirect, Inline: src.Inline}
	if directive == "REPLACE" {
		rec.Headers = headersOf(in.ContentType, in.ContentEncoding, in.ContentDisposition, in.ContentLanguage, in.CacheControl, in.Expires)
		rec.Meta = in.Metadata
	}
	if tagDirective == "REPLACE" {
		rec.Tags = set.tags
	}
	if in.WebsiteRedirectLocation != nil {
		rec.Redirect = *in.WebsiteRedirectLocation
	}
	set.apply(rec)

	// The bytes: small ones are copied, blobs cloned (hard links).
	if !src.Inline {
		if err := s.copyBlobs(ctx, src, rec); err != nil {
			return nil, err
		}
	}
	if algReq != "" && (rec.Checksum == nil || rec.Checksum.Alg != algReq) {
		ck, err := s.computeChecksum(ctx, rec, inline, algReq)
		if err != nil {
			s.discard(ctx, rec.blobIDs()...)
			return nil, err
		}
		rec.Checksum = ck
	}
	err = s.update(ctx, func(tx store.Tx, c *change) error {
		b, err := s.getBucket(tx, bucket)
		if err != nil {
			return err
		}
		if err := checkWriteConditionsIn(tx, bucket, key, in.IfMatch, in.IfNoneMatch); err != nil {
			return err
		}
		return s.newVersion(ctx, tx, c, b, key, rec, inline, "ObjectCreated:Copy")
	})
	if err != nil {
		s.discard(ctx, rec.blobIDs()...)
		return nil, err
	}
	result := &api.CopyObjectResult{ETag: new(rec.etag()), LastModified: new(rec.Modified)}
	if rec.Checksum != nil {
		checksumFields{&result.ChecksumCRC32, &result.ChecksumCRC32C, &result.ChecksumCRC64NVME, &result.ChecksumSHA1, &result.ChecksumSHA256}.set(rec.Checksum)
		result.ChecksumType = new(rec.Checksum.Type)
	}
	out := &api.CopyObjectOutput{CopyObjectResult: result, ServerSideEncryption: new(sseOf(rec))}
	if srcBucket.versioned() {
		out.CopySourceVersionId = new(src.VersionID)
	}
	if dst.versioned() {
		out.VersionId = new(rec.VersionID)
	}
	return out, nil
}

// copyBlobs gives rec its own copies of src's blobs, recorded as orphans
// until the transaction that stores rec adopts them.
func (s *Service) copyBlobs(ctx context.Context, src, rec *objectRecord) error {
	rec.Segments = nil
	for _, sg := range src.Segments {
		id, err := blob.Copy(ctx, s.blobs, sg.Blob)
		if err == nil {
			err = s.Store.Update(ctx, func(tx store.Tx) error {
				_, err := tx.Put(tableOrphan, id, nil, store.AnyVersion)
				return err
			})
		}
		if err != nil {
			s.discard(ctx, rec.blobIDs()...)
			if errors.Is(err, blob.ErrNotFound) {
				return errNoSuchKey("") // the source vanished mid-copy
			}
			return err
		}
		rec.Segments = append(rec.Segments, segment{Blob: id, Size: sg.Size})
	}
	return nil
}

// computeChecksum reads an object to compute a checksum of another
// algorithm (a copy that asks for one).
func (s *Service) computeChecksum(ctx context.Context, o *objectRecord, inline []byte, alg string) (*checksum, error) {
	h := newHash(alg)
	if o.Inline {
		h.Write(inline)
	} else {
		r, err := s.openSegments(ctx, o.Segments, 0, o.Size)
		if err != nil {
			return nil, err
		}
		_, err = io.Copy(h, r)
		r.Close()
		if err != nil {
			return nil, err
		}
	}
	return &checksum{Alg: alg, Value: encodeB64(h.Sum(nil)), Type: "FULL_OBJECT"}, nil
}

// inlineBytes returns the bytes of an object small enough to live in the
// store next to its record, or nil for one whose bytes are a blob.
func inlineBytes(tx store.Tx, bucket, key string, o *objectRecord) ([]byte, error) {
	if !o.Inline {
		return nil, nil
	}
	it, err := tx.Get(tableData, objectKey(bucket, key, o.Seq))
	if err != nil {
		return nil, err
	}
	return it.Value, nil
}
