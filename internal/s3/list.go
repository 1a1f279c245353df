package s3

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	api "overcast/internal/api/s3"
	"overcast/internal/store"
)

// Listing. Objects are stored under bucket NUL key NUL ^seq, so a scan of
// the table visits keys in S3's (byte-wise) order and each key's versions
// newest first. A scanner reads the table in batches and can seek: past
// the remaining versions of a key, or past every key under a common prefix,
// which is what keeps a delimiter listing of a bucket with 100,000 keys in
// one "directory" a handful of reads rather than 100,000.

const scanBatch = 512

// scanner walks one bucket's entries of a table in store-key order.
type scanner struct {
	tx     store.Tx
	table  string
	prefix string // store-key prefix: bucket NUL key-prefix
	after  string // exclusive store-key bound
	buf    []store.Item
	done   bool
}

func (sc *scanner) next() (store.Item, bool, error) {
	if len(sc.buf) == 0 {
		if sc.done {
			return store.Item{}, false, nil
		}
		err := sc.tx.Scan(sc.table, store.ScanOptions{Prefix: sc.prefix, After: sc.after, Limit: scanBatch}, func(it store.Item) error {
			sc.buf = append(sc.buf, it)
			return nil
		})
		if err != nil {
			return store.Item{}, false, err
		}
		if len(sc.buf) < scanBatch {
			sc.done = true
		}
		if len(sc.buf) == 0 {
			return store.Item{}, false, nil
		}
	}
	it := sc.buf[0]
	sc.buf = sc.buf[1:]
	sc.after = it.Key
	return it, true, nil
}

// seek moves past every store key up to and including those starting
// with bound (bound is a prefix; nothing starting with bound+0xff exists).
func (sc *scanner) seek(bound string) {
	after := bound + keyEnd
	if after <= sc.after {
		return
	}
	sc.after = after
	for len(sc.buf) > 0 && sc.buf[0].Key <= after {
		sc.buf = sc.buf[1:]
	}
	if len(sc.buf) == 0 {
		sc.done = false
	}
}

// rollup returns the common prefix key falls under, or "".
func rollup(key, prefix, delimiter string) string {
	if delimiter == "" {
		return ""
	}
	if i := strings.Index(key[len(prefix):], delimiter); i >= 0 {
		return key[:len(prefix)+i+len(delimiter)]
	}
	return ""
}

// startAfter positions sc after marker: past the key's versions, or past
// everything under marker when it is a common prefix of this listing.
func startAfter(sc *scanner, bucket, marker, prefix, delimiter string) {
	if marker == "" {
		return
	}
	if delimiter != "" && strings.HasPrefix(marker, prefix) && rollup(marker, prefix, delimiter) == marker {
		sc.seek(bucket + sep + marker)
		return
	}
	sc.seek(objectPrefix(bucket, marker))
}

// listing is the result of walking the latest versions.
type listing struct {
	objects   []listedObject
	prefixes  []string
	truncated bool
	last      string // the last key or prefix returned
}

type listedObject struct {
	key string
	o   *objectRecord
}

// listLatest lists the current (not deleted) objects after marker.
func listLatest(tx store.Tx, bucket, prefix, delimiter, marker string, max int) (*listing, error) {
	sc := &scanner{tx: tx, table: tableObject, prefix: bucket + sep + prefix}
	startAfter(sc, bucket, marker, prefix, delimiter)
	res := &listing{}
	count := 0
	for {
		it, ok, err := sc.next()
		if err != nil || !ok {
			return res, err
		}
		key, _, ok := splitObjectKey(bucket, it.Key)
		if !ok {
			continue
		}
		if p := rollup(key, prefix, delimiter); p != "" {
			if count == max {
				res.truncated = true
				return res, nil
			}
			res.prefixes = append(res.prefixes, p)
			res.last = p
			count++
			sc.seek(bucket + sep + p)
			continue
		}
		sc.seek(objectPrefix(bucket, key)) // older versions of key
		var o objectRecord
		if err := json.Unmarshal(it.Value, &o); err != nil {
			return nil, fmt.Errorf("s3: decode %q: %w", it.Key, err)
		}
		if o.DeleteMarker {
			continue
		}
		if count == max {
			res.truncated = true
			return res, nil
		}
		res.objects = append(res.objects, listedObject{key: key, o: &o})
		res.last = key
		count++
	}
}

// encoder applies encoding-type=url to the names in a listing.
type encoder bool

func newEncoder(t *string) (encoder, error) {
	if t == nil {
		return false, nil
	}
	if *t != "url" {
		return false, errInvalidArgument("Invalid Encoding Method specified in Request", "encoding-type", *t)
	}
	return true, nil
}

// s encodes a name the way S3 does: as a query string value, '/' kept.
func (e encoder) s(v string) *string {
	if !e {
		return &v
	}
	return new(strings.ReplaceAll(url.QueryEscape(v), "%2F", "/"))
}

func (e encoder) p(v *string) *string {
	if v == nil {
		return nil
	}
	return e.s(*v)
}

// listQuery is what every listing is asked: how to encode the names, how
// many entries a page holds, and the prefix and delimiter.
type listQuery struct {
	enc               encoder
	max               int
	prefix, delimiter string
}

func parseListQuery(encodingType *string, maxEntries *int32, prefix, delimiter *string) (listQuery, error) {
	enc, err := newEncoder(encodingType)
	if err != nil {
		return listQuery{}, err
	}
	max, err := maxKeys(maxEntries)
	if err != nil {
		return listQuery{}, err
	}
	return listQuery{enc: enc, max: max, prefix: deref(prefix), delimiter: deref(delimiter)}, nil
}

func maxKeys(p *int32) (int, error) {
	if p == nil {
		return 1000, nil
	}
	if *p < 0 {
		return 0, errInvalidArgument("Argument maxKeys must be an integer between 0 and 2147483647", "maxKeys", strconv.Itoa(int(*p)))
	}
	return min(int(*p), 1000), nil
}

func listedEntry(e encoder, lo listedObject, withOwner bool) api.Object {
	o := lo.o
	obj := api.Object{Key: e.s(lo.key), LastModified: new(o.Modified), ETag: new(o.etag()), Size: new(o.Size),
		StorageClass: new(orStandard(o.StorageClass))}
	if o.Checksum != nil {
		obj.ChecksumAlgorithm = api.ChecksumAlgorithmList{o.Checksum.Alg}
		obj.ChecksumType = new(o.Checksum.Type)
	}
	if withOwner {
		obj.Owner = ownerOf(o.Owner)
	}
	return obj
}

func orStandard(sc string) string {
	if sc == "" {
		return "STANDARD"
	}
	return sc
}

func listContext(prefix, delimiter *string, max int) map[string]string {
	m := map[string]string{"s3:max-keys": strconv.Itoa(max)}
	if prefix != nil {
		m["s3:prefix"] = *prefix
	}
	if delimiter != nil {
		m["s3:delimiter"] = *delimiter
	}
	return m
}

// listBucket runs a listing under the bucket's access check.
func (s *Service) listBucket(ctx context.Context, bucket, action string, extra map[string]string, fn func(tx store.Tx) error) error {
	return s.view(ctx, func(tx store.Tx) error {
		if _, err := s.authorizedBucket(ctx, tx, bucket, action, "", extra); err != nil {
			return err
		}
		return fn(tx)
	})
}

// listObjects lists the latest versions after marker, for ListObjects and
// ListObjectsV2; conditionKeys are the listing's, for the bucket policy.
func (s *Service) listObjects(ctx context.Context, bucket string, q listQuery, marker string, conditionKeys map[string]string) (*listing, error) {
	var res *listing
	err := s.listBucket(ctx, bucket, "s3:ListBucket", conditionKeys, func(tx store.Tx) error {
		var err error
		res, err = listLatest(tx, bucket, q.prefix, q.delimiter, marker, q.max)
		return err
	})
	return res, err
}

// entries are the listing's objects and common prefixes as ListObjects and
// ListObjectsV2 answer them.
func (res *listing) entries(enc encoder, withOwner bool) (api.ObjectList, api.CommonPrefixList) {
	var objects api.ObjectList
	for _, lo := range res.objects {
		objects = append(objects, listedEntry(enc, lo, withOwner))
	}
	var prefixes api.CommonPrefixList
	for _, p := range res.prefixes {
		prefixes = append(prefixes, api.CommonPrefix{Prefix: enc.s(p)})
	}
	return objects, prefixes
}

func (s *Service) ListObjectsV2(ctx context.Context, in *api.ListObjectsV2Request) (*api.ListObjectsV2Output, error) {
	q, err := parseListQuery(in.EncodingType, in.MaxKeys, in.Prefix, in.Delimiter)
	if err != nil {
		return nil, err
	}
	marker := deref(in.StartAfter)
	if in.ContinuationToken != nil {
		b, err := base64.RawURLEncoding.DecodeString(*in.ContinuationToken)
		if err != nil || *in.ContinuationToken == "" {
			return nil, errInvalidArgument("The continuation token provided is incorrect", "continuation-token", *in.ContinuationToken)
		}
		marker = string(b)
	}
	res, err := s.listObjects(ctx, *in.Bucket, q, marker, listContext(in.Prefix, in.Delimiter, q.max))
	if err != nil {
		return nil, err
	}
	out := &api.ListObjectsV2Output{Name: in.Bucket, Prefix: q.enc.s(q.prefix), Delimiter: q.enc.p(in.Delimiter),
		MaxKeys: new(int32(q.max)), EncodingType: in.EncodingType, KeyCount: new(int32(len(res.objects) + len(res.prefixes))),
		IsTruncated: new(res.truncated), ContinuationToken: in.ContinuationToken, StartAfter: q.enc.p(in.StartAfter)}
	out.Contents, out.CommonPrefixes = res.entries(q.enc, in.FetchOwner != nil && *in.FetchOwner)
	if res.truncated {
		out.NextContinuationToken = new(base64.RawURLEncoding.EncodeToString([]byte(res.last)))
	}
	return out, nil
}

func (s *Service) ListObjects(ctx context.Context, in *api.ListObjectsRequest) (*api.ListObjectsOutput, error) {
	q, err := parseListQuery(in.EncodingType, in.MaxKeys, in.Prefix, in.Delimiter)
	if err != nil {
		return nil, err
	}
	res, err := s.listObjects(ctx, *in.Bucket, q, deref(in.Marker), listContext(in.Prefix, in.Delimiter, q.max))
	if err != nil {
		return nil, err
	}
	out := &api.ListObjectsOutput{Name: in.Bucket, Prefix: q.enc.s(q.prefix), Delimiter: q.enc.p(in.Delimiter),
		Marker: q.enc.s(deref(in.Marker)), MaxKeys: new(int32(q.max)), EncodingType: in.EncodingType, IsTruncated: new(res.truncated)}
	out.Contents, out.CommonPrefixes = res.entries(q.enc, true)
	// Version 1 returns NextMarker only with a delimiter; clients use the
	// last key otherwise.
	if res.truncated && q.delimiter != "" {
		out.NextMarker = q.enc.s(res.last)
	}
	return out, nil
}

func (s *Service) ListObjectVersions(ctx context.Context, in *api.ListObjectVersionsRequest) (*api.ListObjectVersionsOutput, error) {
	q, err := parseListQuery(in.EncodingType, in.MaxKeys, in.Prefix, in.Delimiter)
	if err != nil {
		return nil, err
	}
	bucket := *in.Bucket
	keyMarker, versionMarker := deref(in.KeyMarker), deref(in.VersionIdMarker)
	if versionMarker != "" && keyMarker == "" {
		return nil, errInvalidArgument("A version-id marker cannot be specified without a key marker.", "version-id-marker", versionMarker)
	}
	out := &api.ListObjectVersionsOutput{Name: in.Bucket, Prefix: q.enc.s(q.prefix), Delimiter: q.enc.p(in.Delimiter),
		KeyMarker: q.enc.s(keyMarker), VersionIdMarker: new(versionMarker), MaxKeys: new(int32(q.max)), EncodingType: in.EncodingType,
		IsTruncated: new(false)}
	err = s.listBucket(ctx, bucket, "s3:ListBucketVersions", listContext(in.Prefix, in.Delimiter, q.max), func(tx store.Tx) error {
		sc := &scanner{tx: tx, table: tableObject, prefix: bucket + sep + q.prefix}
		lastKey := ""
		switch {
		case versionMarker != "":
			v, err := findVersion(tx, bucket, keyMarker, versionMarker)
			if err != nil {
				return err
			}
			if v == nil {
				return errInvalidArgument("Invalid version id specified", "version-id-marker", versionMarker)
			}
			sc.after = objectKey(bucket, keyMarker, v.Seq)
			lastKey = keyMarker
		default:
			startAfter(sc, bucket, keyMarker, q.prefix, q.delimiter)
		}
		count := 0
		var lastVersion string
		truncate := func() {
			out.IsTruncated = new(true)
			out.NextKeyMarker = q.enc.s(lastKey)
			if lastVersion != "" {
				out.NextVersionIdMarker = new(lastVersion)
			}
		}
		for {
			it, ok, err := sc.next()
			if err != nil || !ok {
				return err
			}
			key, _, ok := splitObjectKey(bucket, it.Key)
			if !ok {
				continue
			}
			if p := rollup(key, q.prefix, q.delimiter); p != "" {
				if count == q.max {
					truncate()
					return nil
				}
				out.CommonPrefixes = append(out.CommonPrefixes, api.CommonPrefix{Prefix: q.enc.s(p)})
				lastKey, lastVersion = p, ""
				count++
				sc.seek(bucket + sep + p)
				continue
			}
			if count == q.max {
				truncate()
				return nil
			}
			var o objectRecord
			if err := json.Unmarshal(it.Value, &o); err != nil {
				return err
			}
			latest := key != lastKey
			lastKey, lastVersion = key, o.VersionID
			count++
			if o.DeleteMarker {
				out.DeleteMarkers = append(out.DeleteMarkers, api.DeleteMarkerEntry{Key: q.enc.s(key), VersionId: new(o.VersionID),
					IsLatest: new(latest), LastModified: new(o.Modified), Owner: ownerOf(o.Owner)})
				continue
			}
			v := api.ObjectVersion{Key: q.enc.s(key), VersionId: new(o.VersionID), IsLatest: new(latest),
				LastModified: new(o.Modified), ETag: new(o.etag()), Size: new(o.Size), StorageClass: new(orStandard(o.StorageClass)),
				Owner: ownerOf(o.Owner)}
			if o.Checksum != nil {
				v.ChecksumAlgorithm = api.ChecksumAlgorithmList{o.Checksum.Alg}
				v.ChecksumType = new(o.Checksum.Type)
			}
			out.Versions = append(out.Versions, v)
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
