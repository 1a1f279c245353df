package s3

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"overcast"
	api "overcast/internal/api/s3"
	"overcast/internal/store"
)

// Multipart uploads. An upload is a record; each part a record pointing at
// its own blob. Completing an upload moves the parts' blobs into the new
// object version (its segments) without copying a byte, and orphans the
// parts left out. Uploads survive restarts: they are listable until they
// are completed or aborted, and abort deletes their parts' bytes.

func getUpload(tx store.Tx, bucket, key, uploadID string) (*uploadRecord, error) {
	var u uploadRecord
	if _, err := store.GetJSON(tx, tableUpload, uploadKey(bucket, key, uploadID), &u); err != nil {
		if isNotFound(err) {
			return nil, errNoSuchUpload(uploadID)
		}
		return nil, err
	}
	return &u, nil
}

func uploadParts(tx store.Tx, uploadID string, after int32, limit int) ([]partRecord, error) {
	var parts []partRecord
	opt := store.ScanOptions{Prefix: uploadID + sep, Limit: limit}
	if after > 0 {
		opt.After = partKey(uploadID, after)
	}
	err := store.ScanJSON(tx, tablePart, opt, func(_ string, p partRecord, _ int64) error {
		parts = append(parts, p)
		return nil
	})
	return parts, err
}

// dropUpload deletes an upload and its parts, orphaning their blobs.
func (s *Service) dropUpload(tx store.Tx, c *change, u *uploadRecord) error {
	parts, err := uploadParts(tx, u.ID, 0, 0)
	if err != nil {
		return err
	}
	for _, p := range parts {
		if err := tx.Delete(tablePart, partKey(u.ID, p.Number), store.AnyVersion); err != nil {
			return err
		}
		if err := c.orphan(tx, p.Blob); err != nil {
			return err
		}
	}
	return tx.Delete(tableUpload, uploadKey(u.Bucket, u.Key, u.ID), store.AnyVersion)
}

// uploadChecksum resolves the checksum algorithm and type of a new upload.
func uploadChecksum(algHeader, typeHeader *string) (alg, typ string, err error) {
	alg = strings.ToUpper(deref(algHeader))
	typ = strings.ToUpper(deref(typeHeader))
	if alg != "" {
		if _, ok := checksumLen[alg]; !ok {
			return "", "", errInvalidRequest("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
		}
	}
	switch typ {
	case "":
		typ = "COMPOSITE"
		if alg == "" || alg == "CRC64NVME" {
			typ = "FULL_OBJECT"
		}
	case "FULL_OBJECT":
		if alg != "" && !canCombine(alg) {
			return "", "", errInvalidRequest(fmt.Sprintf("The FULL_OBJECT checksum type cannot be used with the %s checksum algorithm.", strings.ToLower(alg)))
		}
	case "COMPOSITE":
		if alg == "" || alg == "CRC64NVME" {
			return "", "", errInvalidRequest("The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.")
		}
	default:
		return "", "", errInvalidRequest("Value for x-amz-checksum-type header is invalid.")
	}
	return alg, typ, nil
}

// keptAlg is the algorithm an upload's parts are checksummed with.
func (u *uploadRecord) keptAlg() string { return storedAlg(u.ChecksumAlg) }

func (s *Service) CreateMultipartUpload(ctx context.Context, in *api.CreateMultipartUploadRequest) (*api.CreateMultipartUploadOutput, error) {
	bucket, key := *in.Bucket, *in.Key
	if err := checkKey(key); err != nil {
		return nil, err
	}
	set, err := s.versionSettings(in.Tagging, in.StorageClass, in.ServerSideEncryption, in.ObjectLockMode, in.ObjectLockRetainUntilDate, in.ObjectLockLegalHoldStatus)
	if err != nil {
		return nil, err
	}
	alg, typ, err := uploadChecksum(in.ChecksumAlgorithm, in.ChecksumType)
	if err != nil {
		return nil, err
	}
	caller := overcast.CallerFrom(ctx)
	u := &uploadRecord{ID: fmt.Sprintf("%016x", s.clock.next(0)) + s.IDs.Hex(32), Bucket: bucket, Key: key,
		Initiated: s.Now().UTC(), Initiator: caller.ARN,
		Headers: headersOf(in.ContentType, in.ContentEncoding, in.ContentDisposition, in.ContentLanguage, in.CacheControl, in.Expires),
		Meta:    in.Metadata, Tags: set.tags, ChecksumAlg: alg, ChecksumType: typ, StorageClass: set.class,
		Redirect: deref(in.WebsiteRedirectLocation), SSE: set.sse, LockMode: set.lock.mode, LockUntil: set.lock.until, LegalHold: set.lock.hold}
	err = s.update(ctx, func(tx store.Tx, c *change) error {
		b, err := s.authorizedBucket(ctx, tx, bucket, "s3:PutObject", key, nil)
		if err != nil {
			return err
		}
		if set.lock.any() && !b.ObjectLock {
			return errNoLockConfiguration()
		}
		u.Owner = b.Owner
		_, err = store.PutJSON(tx, tableUpload, uploadKey(bucket, key, u.ID), u, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &api.CreateMultipartUploadOutput{Bucket: in.Bucket, Key: in.Key, UploadId: new(u.ID), ServerSideEncryption: new("AES256")}
	if alg != "" {
		out.ChecksumAlgorithm, out.ChecksumType = new(alg), new(typ)
	}
	return out, nil
}

func checkPartNumber(n int32) error {
	if n < 1 || n > 10000 {
		return errInvalidArgument("Part number must be an integer between 1 and 10000, inclusive", "partNumber", strconv.Itoa(int(n)))
	}
	return nil
}

// authorizedUpload reads an upload and its bucket when the caller may
// perform action on the upload's key.
func (s *Service) authorizedUpload(ctx context.Context, tx store.Tx, bucket, key, uploadID, action string) (*bucketRecord, *uploadRecord, error) {
	b, err := s.authorizedBucket(ctx, tx, bucket, action, key, nil)
	if err != nil {
		return nil, nil, err
	}
	u, err := getUpload(tx, bucket, key, uploadID)
	if err != nil {
		return nil, nil, err
	}
	return b, u, nil
}

// lookupUpload reads an upload and checks the caller may write to it.
func (s *Service) lookupUpload(ctx context.Context, bucket, key, uploadID string) (*uploadRecord, error) {
	var u *uploadRecord
	err := s.view(ctx, func(tx store.Tx) error {
		var err error
		_, u, err = s.authorizedUpload(ctx, tx, bucket, key, uploadID, "s3:PutObject")
		return err
	})
	return u, err
}

func (s *Service) UploadPart(ctx context.Context, in *api.UploadPartRequest) (*api.UploadPartOutput, error) {
	if in.Body != nil {
		defer in.Body.Close()
	}
	bucket, key, uploadID := *in.Bucket, *in.Key, *in.UploadId
	if err := checkPartNumber(*in.PartNumber); err != nil {
		return nil, err
	}
	u, err := s.lookupUpload(ctx, bucket, key, uploadID)
	if err != nil {
		return nil, err
	}
	body, opt, err := sentBody(in.Body, in.ContentLength, in.ContentMD5,
		checksumHeaders{in.ChecksumCRC32, in.ChecksumCRC32C, in.ChecksumCRC64NVME, in.ChecksumSHA1, in.ChecksumSHA256}, in.ChecksumAlgorithm)
	if err != nil {
		return nil, err
	}
	alg := opt.sentAlg
	if u.ChecksumAlg != "" && alg != "" && alg != u.ChecksumAlg {
		return nil, errInvalidRequest(fmt.Sprintf("Checksum Type mismatch occurred, expected checksum Type: %s, actual checksum Type: %s",
			strings.ToLower(u.ChecksumAlg), strings.ToLower(alg)))
	}
	opt.keepAlg, opt.forceBlob = u.keptAlg(), true
	data, err := s.ingest(ctx, body, opt)
	if err != nil {
		return nil, err
	}
	part, err := s.savePart(ctx, u, *in.PartNumber, data)
	if err != nil {
		return nil, err
	}
	out := &api.UploadPartOutput{ETag: new(`"` + part.ETag + `"`), ServerSideEncryption: new("AES256")}
	if u.ChecksumAlg != "" || alg != "" {
		checksumFields{&out.ChecksumCRC32, &out.ChecksumCRC32C, &out.ChecksumCRC64NVME, &out.ChecksumSHA1, &out.ChecksumSHA256}.set(part.Checksum)
	}
	return out, nil
}

// savePart commits a part's blob and records it, replacing a previous
// upload of the same part number.
func (s *Service) savePart(ctx context.Context, u *uploadRecord, number int32, data *ingested) (partRecord, error) {
	part := partRecord{Number: number, ETag: data.etag(), Size: data.size, Blob: data.w.ID(),
		Modified: s.Now().UTC(), Checksum: data.checksum}
	if err := s.commitBlob(ctx, data); err != nil {
		return part, err
	}
	err := s.update(ctx, func(tx store.Tx, c *change) error {
		if _, err := getUpload(tx, u.Bucket, u.Key, u.ID); err != nil {
			return err // aborted or completed meanwhile
		}
		pk := partKey(u.ID, part.Number)
		var old partRecord
		if _, err := store.GetJSON(tx, tablePart, pk, &old); err == nil {
			if err := c.orphan(tx, old.Blob); err != nil {
				return err
			}
		} else if !isNotFound(err) {
			return err
		}
		if _, err := store.PutJSON(tx, tablePart, pk, part, store.AnyVersion); err != nil {
			return err
		}
		return adopt(tx, part.Blob)
	})
	if err != nil {
		s.discard(ctx, part.Blob)
	}
	return part, err
}

func (s *Service) UploadPartCopy(ctx context.Context, in *api.UploadPartCopyRequest) (*api.UploadPartCopyOutput, error) {
	bucket, key, uploadID := *in.Bucket, *in.Key, *in.UploadId
	if err := checkPartNumber(*in.PartNumber); err != nil {
		return nil, err
	}
	cs, err := parseCopySource(*in.CopySource)
	if err != nil {
		return nil, err
	}
	u, err := s.lookupUpload(ctx, bucket, key, uploadID)
	if err != nil {
		return nil, err
	}
	cond := conditions{in.CopySourceIfMatch, in.CopySourceIfNoneMatch, in.CopySourceIfModifiedSince, in.CopySourceIfUnmodifiedSince}
	var src, srcBucketVersioned = (*objectRecord)(nil), false
	var inline []byte
	err = s.view(ctx, func(tx store.Tx) error {
		sb, o, err := s.sourceObject(ctx, tx, cs, cond)
		if err != nil {
			return err
		}
		src, srcBucketVersioned = o, sb.versioned()
		inline, err = inlineBytes(tx, cs.bucket, cs.key, o)
		return err
	})
	if err != nil {
		return nil, err
	}
	r := byteRange{0, src.Size}
	if in.CopySourceRange != nil {
		rng, ok, err := parseRange(*in.CopySourceRange, src.Size)
		if err != nil || !ok || strings.HasPrefix(strings.TrimPrefix(*in.CopySourceRange, "bytes="), "-") ||
			strings.HasSuffix(*in.CopySourceRange, "-") {
			return nil, errInvalidArgument("The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
				"x-amz-copy-source-range", *in.CopySourceRange)
		}
		if rng.start+rng.length > src.Size || parseLast(*in.CopySourceRange) >= src.Size {
			return nil, errInvalidRange(*in.CopySourceRange, src.Size)
		}
		r = rng
	}
	var body io.ReadCloser
	if src.Inline {
		body = io.NopCloser(strings.NewReader(string(inline[r.start : r.start+r.length])))
	} else if body, err = s.openSegments(ctx, src.Segments, r.start, r.length); err != nil {
		return nil, err
	}
	data, err := s.ingest(ctx, body, ingestOptions{length: r.length, keepAlg: u.keptAlg(), forceBlob: true})
	body.Close()
	if err != nil {
		return nil, err
	}
	part, err := s.savePart(ctx, u, *in.PartNumber, data)
	if err != nil {
		return nil, err
	}
	result := &api.CopyPartResult{ETag: new(`"` + part.ETag + `"`), LastModified: new(part.Modified)}
	if u.ChecksumAlg != "" {
		checksumFields{&result.ChecksumCRC32, &result.ChecksumCRC32C, &result.ChecksumCRC64NVME, &result.ChecksumSHA1, &result.ChecksumSHA256}.set(part.Checksum)
	}
	out := &api.UploadPartCopyOutput{CopyPartResult: result, ServerSideEncryption: new("AES256")}
	if srcBucketVersioned {
		out.CopySourceVersionId = new(src.VersionID)
	}
	return out, nil
}

// parseLast returns the last offset of a bytes=first-last range, or -1.
func parseLast(h string) int64 {
	_, last, _ := strings.Cut(strings.TrimPrefix(h, "bytes="), "-")
	n, err := strconv.ParseInt(last, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

func (s *Service) CompleteMultipartUpload(ctx context.Context, in *api.CompleteMultipartUploadRequest) (*api.CompleteMultipartUploadOutput, error) {
	bucket, key, uploadID := *in.Bucket, *in.Key, *in.UploadId
	if in.MultipartUpload == nil || len(in.MultipartUpload.Parts) == 0 {
		return nil, errMalformedXML()
	}
	listed := in.MultipartUpload.Parts
	for i, p := range listed {
		if p.PartNumber == nil {
			return nil, errMalformedXML()
		}
		if i > 0 && *p.PartNumber <= *listed[i-1].PartNumber {
			return nil, s3err(http.StatusBadRequest, "InvalidPartOrder",
				"The list of parts was not in ascending order. Parts must be ordered by part number.", "UploadId", uploadID)
		}
	}
	var rec *objectRecord
	var b *bucketRecord
	err := s.update(ctx, func(tx store.Tx, c *change) error {
		var u *uploadRecord
		var err error
		if b, u, err = s.authorizedUpload(ctx, tx, bucket, key, uploadID, "s3:PutObject"); err != nil {
			return err
		}
		if t := deref(in.ChecksumType); t != "" && !strings.EqualFold(t, u.ChecksumType) {
			return errInvalidRequest(fmt.Sprintf("The upload was created using the %s checksum mode. The complete request must use the same checksum mode.", strings.ToLower(u.ChecksumType)))
		}
		stored, err := uploadParts(tx, uploadID, 0, 0)
		if err != nil {
			return err
		}
		byNumber := make(map[int32]partRecord, len(stored))
		for _, p := range stored {
			byNumber[p.Number] = p
		}
		rec = &objectRecord{Modified: s.Now().UTC(), Owner: b.Owner, Headers: u.Headers, Meta: u.Meta, Tags: u.Tags,
			StorageClass: u.StorageClass, Redirect: u.Redirect, SSE: u.SSE, LockMode: u.LockMode, LockUntil: u.LockUntil, LegalHold: u.LegalHold}
		var etags []string
		var sums []partChecksum
		used := map[int32]bool{}
		for i, lp := range listed {
			p, ok := byNumber[*lp.PartNumber]
			if !ok || strings.Trim(deref(lp.ETag), `"`) != p.ETag {
				return errInvalidPart(uploadID, *lp.PartNumber, deref(lp.ETag))
			}
			if u.ChecksumAlg != "" && p.Checksum != nil {
				sent := checksumFields{&lp.ChecksumCRC32, &lp.ChecksumCRC32C, &lp.ChecksumCRC64NVME, &lp.ChecksumSHA1, &lp.ChecksumSHA256}.get(p.Checksum.Alg)
				if sent != "" && sent != p.Checksum.Value {
					return errInvalidPart(uploadID, *lp.PartNumber, deref(lp.ETag))
				}
			}
			if i < len(listed)-1 && p.Size < minPartSize {
				return s3err(http.StatusBadRequest, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.",
					"ProposedSize", strconv.FormatInt(p.Size, 10), "MinSizeAllowed", strconv.Itoa(minPartSize),
					"PartNumber", strconv.Itoa(int(p.Number)), "ETag", p.ETag)
			}
			used[p.Number] = true
			etags = append(etags, p.ETag)
			if p.Checksum != nil {
				sums = append(sums, partChecksum{value: p.Checksum.Value, size: p.Size})
			}
			rec.Size += p.Size
			rec.PartSizes = append(rec.PartSizes, p.Size)
			rec.Segments = append(rec.Segments, segment{Blob: p.Blob, Size: p.Size})
		}
		if in.MpuObjectSize != nil && *in.MpuObjectSize != rec.Size {
			return errInvalidRequest(fmt.Sprintf("The provided 'x-amz-mp-object-size' header value %d does not match what was computed: %d", *in.MpuObjectSize, rec.Size))
		}
		rec.ETag = multipartETag(etags)
		if len(sums) == len(listed) {
			if rec.Checksum, err = objectChecksum(u.keptAlg(), u.ChecksumType, sums); err != nil {
				return err
			}
			if want := (checksumFields{&in.ChecksumCRC32, &in.ChecksumCRC32C, &in.ChecksumCRC64NVME, &in.ChecksumSHA1, &in.ChecksumSHA256}).get(rec.Checksum.Alg); want != "" &&
				strings.Split(want, "-")[0] != strings.Split(rec.Checksum.Value, "-")[0] {
				return errChecksumMismatch(rec.Checksum.Alg)
			}
		}
		if err := checkWriteConditionsIn(tx, bucket, key, in.IfMatch, in.IfNoneMatch); err != nil {
			return err
		}
		// The parts' blobs become the object's; the others go.
		for _, p := range stored {
			if err := tx.Delete(tablePart, partKey(uploadID, p.Number), store.AnyVersion); err != nil {
				return err
			}
			if !used[p.Number] {
				if err := c.orphan(tx, p.Blob); err != nil {
					return err
				}
			}
		}
		if err := tx.Delete(tableUpload, uploadKey(bucket, key, uploadID), store.AnyVersion); err != nil {
			return err
		}
		return s.newVersion(ctx, tx, c, b, key, rec, nil, "ObjectCreated:CompleteMultipartUpload")
	})
	if err != nil {
		return nil, err
	}
	out := &api.CompleteMultipartUploadOutput{Bucket: in.Bucket, Key: in.Key, ETag: new(rec.etag()),
		Location: new(fmt.Sprintf("http://%s.s3.localhost/%s", bucket, escapePath(key))), ServerSideEncryption: new("AES256")}
	if rec.Checksum != nil {
		checksumFields{&out.ChecksumCRC32, &out.ChecksumCRC32C, &out.ChecksumCRC64NVME, &out.ChecksumSHA1, &out.ChecksumSHA256}.set(rec.Checksum)
		out.ChecksumType = new(rec.Checksum.Type)
	}
	if b.versioned() {
		out.VersionId = new(rec.VersionID)
	}
	return out, nil
}

func errInvalidPart(uploadID string, n int32, etag string) error {
	return s3err(http.StatusBadRequest, "InvalidPart",
		"One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
		"UploadId", uploadID, "PartNumber", strconv.Itoa(int(n)), "ETag", etag)
}

func (s *Service) AbortMultipartUpload(ctx context.Context, in *api.AbortMultipartUploadRequest) (*api.AbortMultipartUploadOutput, error) {
	err := s.update(ctx, func(tx store.Tx, c *change) error {
		_, u, err := s.authorizedUpload(ctx, tx, *in.Bucket, *in.Key, *in.UploadId, "s3:AbortMultipartUpload")
		if err != nil {
			return err
		}
		if in.IfMatchInitiatedTime != nil && !u.Initiated.Truncate(1e9).Equal(in.IfMatchInitiatedTime.Truncate(1e9)) {
			return errPreconditionFailed("x-amz-if-match-initiated-time")
		}
		return s.dropUpload(tx, c, u)
	})
	if err != nil {
		return nil, err
	}
	return &api.AbortMultipartUploadOutput{}, nil
}

func (s *Service) ListParts(ctx context.Context, in *api.ListPartsRequest) (*api.ListPartsOutput, error) {
	max := 1000
	if in.MaxParts != nil {
		if *in.MaxParts < 0 {
			return nil, errInvalidArgument("Argument max-parts must be an integer between 0 and 2147483647", "max-parts", strconv.Itoa(int(*in.MaxParts)))
		}
		max = min(int(*in.MaxParts), 1000)
	}
	marker := int32(0)
	if in.PartNumberMarker != nil {
		marker = *in.PartNumberMarker
	}
	out := &api.ListPartsOutput{Bucket: in.Bucket, Key: in.Key, UploadId: in.UploadId, MaxParts: new(int32(max)),
		PartNumberMarker: new(marker), IsTruncated: new(false)}
	err := s.view(ctx, func(tx store.Tx) error {
		_, u, err := s.authorizedUpload(ctx, tx, *in.Bucket, *in.Key, *in.UploadId, "s3:ListMultipartUploadParts")
		if err != nil {
			return err
		}
		out.Owner, out.Initiator = ownerOf(u.Owner), &api.Initiator{ID: new(u.Initiator), DisplayName: new(u.Initiator)}
		out.StorageClass = new(orStandard(u.StorageClass))
		if u.ChecksumAlg != "" {
			out.ChecksumAlgorithm = new(u.ChecksumAlg)
		}
		out.ChecksumType = new(u.ChecksumType)
		parts, err := uploadParts(tx, u.ID, marker, max+1)
		if err != nil {
			return err
		}
		if len(parts) > max {
			parts = parts[:max]
			out.IsTruncated = new(true)
		}
		for _, p := range parts {
			ap := api.Part{PartNumber: new(p.Number), ETag: new(`"` + p.ETag + `"`), Size: new(p.Size), LastModified: new(p.Modified)}
			if u.ChecksumAlg != "" {
				checksumFields{&ap.ChecksumCRC32, &ap.ChecksumCRC32C, &ap.ChecksumCRC64NVME, &ap.ChecksumSHA1, &ap.ChecksumSHA256}.set(p.Checksum)
			}
			out.Parts = append(out.Parts, ap)
		}
		if n := len(out.Parts); n > 0 {
			out.NextPartNumberMarker = out.Parts[n-1].PartNumber
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) ListMultipartUploads(ctx context.Context, in *api.ListMultipartUploadsRequest) (*api.ListMultipartUploadsOutput, error) {
	q, err := parseListQuery(in.EncodingType, in.MaxUploads, in.Prefix, in.Delimiter)
	if err != nil {
		return nil, err
	}
	bucket := *in.Bucket
	keyMarker, idMarker := deref(in.KeyMarker), deref(in.UploadIdMarker)
	out := &api.ListMultipartUploadsOutput{Bucket: in.Bucket, Prefix: q.enc.s(q.prefix), Delimiter: q.enc.p(in.Delimiter),
		KeyMarker: q.enc.s(keyMarker), UploadIdMarker: new(idMarker), MaxUploads: new(int32(q.max)), EncodingType: in.EncodingType,
		IsTruncated: new(false)}
	err = s.listBucket(ctx, bucket, "s3:ListBucketMultipartUploads", nil, func(tx store.Tx) error {
		sc := &scanner{tx: tx, table: tableUpload, prefix: bucket + sep + q.prefix}
		switch {
		case keyMarker != "" && idMarker != "":
			sc.after = uploadKey(bucket, keyMarker, idMarker)
		case keyMarker != "":
			startAfter(sc, bucket, keyMarker, q.prefix, q.delimiter)
		}
		count := 0
		lastKey, lastID := "", ""
		for {
			it, ok, err := sc.next()
			if err != nil || !ok {
				return err
			}
			var u uploadRecord
			if err := json.Unmarshal(it.Value, &u); err != nil {
				return err
			}
			if count == q.max {
				out.IsTruncated = new(true)
				out.NextKeyMarker = q.enc.s(lastKey)
				if lastID != "" {
					out.NextUploadIdMarker = new(lastID)
				}
				return nil
			}
			if p := rollup(u.Key, q.prefix, q.delimiter); p != "" {
				out.CommonPrefixes = append(out.CommonPrefixes, api.CommonPrefix{Prefix: q.enc.s(p)})
				lastKey, lastID = p, ""
				count++
				sc.seek(bucket + sep + p)
				continue
			}
			mu := api.MultipartUpload{UploadId: new(u.ID), Key: q.enc.s(u.Key), Initiated: new(u.Initiated),
				StorageClass: new(orStandard(u.StorageClass)), Owner: ownerOf(u.Owner),
				Initiator: &api.Initiator{ID: new(u.Initiator), DisplayName: new(u.Initiator)}, ChecksumType: new(u.ChecksumType)}
			if u.ChecksumAlg != "" {
				mu.ChecksumAlgorithm = new(u.ChecksumAlg)
			}
			out.Uploads = append(out.Uploads, mu)
			lastKey, lastID = u.Key, u.ID
			count++
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
