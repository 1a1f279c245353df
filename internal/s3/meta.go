package s3

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	api "overcast/internal/api/s3"
	"overcast/internal/policy"
)

// Store tables. Keys join their parts with NUL, which no S3 name contains
// and which sorts before every other byte, so "a" and its versions sort
// before "a/b": scanning a table in key order lists objects in S3's order.
const (
	tableBucket = "s3.bucket" // bucket name → bucketRecord
	tableObject = "s3.object" // bucket NUL key NUL ^seq → objectRecord (newest version first)
	tableData   = "s3.data"   // same key as tableObject → the bytes of a small object
	tableUpload = "s3.upload" // bucket NUL key NUL uploadID → uploadRecord
	tablePart   = "s3.part"   // uploadID NUL %05d part number → partRecord
	// tableOrphan lists blobs to delete: written before a blob is committed
	// (and removed in the transaction that references it), and in the
	// transaction that stops referencing one. Recovery deletes every blob
	// listed, so a crash anywhere never leaks bytes or deletes live ones.
	tableOrphan = "s3.orphan" // blob ID → ""
)

const sep = "\x00"

// keyEnd sorts after every key starting with the prefix it follows: no
// UTF-8 byte is 0xff.
const keyEnd = "\xff"

func objectPrefix(bucket, key string) string { return bucket + sep + key + sep }

func objectKey(bucket, key string, seq uint64) string {
	return objectPrefix(bucket, key) + fmt.Sprintf("%016x", ^seq)
}

// splitObjectKey parses a tableObject key into the object key and seq.
func splitObjectKey(bucket, storeKey string) (key string, seq uint64, ok bool) {
	rest, found := strings.CutPrefix(storeKey, bucket+sep)
	if !found || len(rest) < 17 || rest[len(rest)-17] != 0 {
		return "", 0, false
	}
	inv, err := strconv.ParseUint(rest[len(rest)-16:], 16, 64)
	if err != nil {
		return "", 0, false
	}
	return rest[:len(rest)-17], ^inv, true
}

func uploadKey(bucket, key, uploadID string) string { return bucket + sep + key + sep + uploadID }

func partKey(uploadID string, n int32) string { return fmt.Sprintf("%s%s%05d", uploadID, sep, n) }

// bucketRecord is a bucket and its configuration. The subresource
// configurations are kept in their wire shapes (api types): their member
// names are AWS's and as stable as the API.
type bucketRecord struct {
	Name       string    `json:"name"`
	Owner      string    `json:"owner"` // account ID
	Region     string    `json:"region"`
	Created    time.Time `json:"created"`
	Versioning string    `json:"versioning,omitempty"` // "", Enabled, Suspended
	MFADelete  string    `json:"mfaDelete,omitempty"`
	ObjectLock bool      `json:"objectLock,omitempty"`
	Ownership  string    `json:"ownership,omitempty"`

	Policy            string                                 `json:"policy,omitempty"`
	PublicAccessBlock *api.PublicAccessBlockConfiguration    `json:"publicAccessBlock,omitempty"`
	CORS              []api.CORSRule                         `json:"cors,omitempty"`
	Website           *api.WebsiteConfiguration              `json:"website,omitempty"`
	Notification      *api.NotificationConfiguration         `json:"notification,omitempty"`
	Tags              []tag                                  `json:"tags,omitempty"`
	Lifecycle         *api.BucketLifecycleConfiguration      `json:"lifecycle,omitempty"`
	Encryption        *api.ServerSideEncryptionConfiguration `json:"encryption,omitempty"`
	Accelerate        string                                 `json:"accelerate,omitempty"`
	RequestPayer      string                                 `json:"requestPayer,omitempty"`
	// LockRetention is the default retention of an Object Lock bucket.
	LockRetention *api.DefaultRetention         `json:"lockRetention,omitempty"`
	Replication   *api.ReplicationConfiguration `json:"replication,omitempty"`

	parsed *policy.Document // Policy, parsed by getBucket
}

func (b *bucketRecord) versioned() bool { return b.Versioning != "" }

func (b *bucketRecord) arn() string { return "arn:aws:s3:::" + b.Name }

type tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

// contentHeaders are the representation headers S3 stores with an object.
type contentHeaders struct {
	Type         string     `json:"type,omitempty"`
	Encoding     string     `json:"encoding,omitempty"`
	Disposition  string     `json:"disposition,omitempty"`
	Language     string     `json:"language,omitempty"`
	CacheControl string     `json:"cacheControl,omitempty"`
	Expires      *time.Time `json:"expires,omitempty"`
}

// checksum is an object's (or part's) flexible checksum.
type checksum struct {
	Alg   string `json:"alg"`   // CRC32, CRC32C, CRC64NVME, SHA1, SHA256
	Value string `json:"value"` // base64; composite ones end in -N
	Type  string `json:"type"`  // FULL_OBJECT or COMPOSITE
}

// segment is one blob of an object's bytes; multipart objects have one per
// part, in order.
type segment struct {
	Blob string `json:"blob"`
	Size int64  `json:"size"`
}

// objectRecord is one version of an object, or a delete marker.
type objectRecord struct {
	VersionID    string            `json:"vid"` // "null" outside versioning
	Seq          uint64            `json:"seq"`
	DeleteMarker bool              `json:"dm,omitempty"`
	Size         int64             `json:"size"`
	ETag         string            `json:"etag,omitempty"` // hex MD5, or hex-N for multipart; no quotes
	Modified     time.Time         `json:"mtime"`
	Owner        string            `json:"owner"`
	Headers      contentHeaders    `json:"hdr"`
	Meta         map[string]string `json:"meta,omitempty"`
	Tags         []tag             `json:"tags,omitempty"`
	Checksum     *checksum         `json:"ck,omitempty"`
	PartSizes    []int64           `json:"parts,omitempty"` // multipart objects
	Segments     []segment         `json:"seg,omitempty"`
	Inline       bool              `json:"inline,omitempty"` // bytes in tableData
	StorageClass string            `json:"sc,omitempty"`
	Redirect     string            `json:"redirect,omitempty"` // x-amz-website-redirect-location
	SSE          string            `json:"sse,omitempty"`
	// The version's Object Lock: a retention (LockMode GOVERNANCE or
	// COMPLIANCE until LockUntil) and a legal hold ("", ON or OFF).
	LockMode  string     `json:"lockMode,omitempty"`
	LockUntil *time.Time `json:"lockUntil,omitempty"`
	LegalHold string     `json:"legalHold,omitempty"`
	// Replication is x-amz-replication-status: PENDING, COMPLETED or
	// FAILED on a replicated source version, REPLICA on a copy.
	Replication string `json:"repl,omitempty"`
}

func (o *objectRecord) etag() string { return `"` + o.ETag + `"` }

func (o *objectRecord) blobIDs() []string {
	ids := make([]string, len(o.Segments))
	for i, s := range o.Segments {
		ids[i] = s.Blob
	}
	return ids
}

// uploadRecord is a multipart upload in progress.
type uploadRecord struct {
	ID           string            `json:"id"`
	Bucket       string            `json:"bucket"`
	Key          string            `json:"key"`
	Initiated    time.Time         `json:"initiated"`
	Owner        string            `json:"owner"`
	Initiator    string            `json:"initiator"` // caller ARN
	Headers      contentHeaders    `json:"hdr"`
	Meta         map[string]string `json:"meta,omitempty"`
	Tags         []tag             `json:"tags,omitempty"`
	ChecksumAlg  string            `json:"ckAlg,omitempty"`
	ChecksumType string            `json:"ckType,omitempty"`
	StorageClass string            `json:"sc,omitempty"`
	Redirect     string            `json:"redirect,omitempty"`
	SSE          string            `json:"sse,omitempty"`
	LockMode     string            `json:"lockMode,omitempty"` // asked for at creation, see objectRecord
	LockUntil    *time.Time        `json:"lockUntil,omitempty"`
	LegalHold    string            `json:"legalHold,omitempty"`
}

// partRecord is an uploaded part.
type partRecord struct {
	Number   int32     `json:"n"`
	ETag     string    `json:"etag"` // hex MD5
	Size     int64     `json:"size"`
	Blob     string    `json:"blob"`
	Modified time.Time `json:"mtime"`
	Checksum *checksum `json:"ck,omitempty"`
}

// newVersionID makes a version ID that sorts by seq; the random tail makes
// it as unguessable as AWS's.
func (s *Service) newVersionID(seq uint64) string { return fmt.Sprintf("%016x", seq) + s.IDs.Hex(16) }

// versionSeq returns the seq a version ID was made from.
func versionSeq(id string) (uint64, bool) {
	if len(id) != 32 {
		return 0, false
	}
	seq, err := strconv.ParseUint(id[:16], 16, 64)
	if err != nil {
		return 0, false
	}
	if _, err := hex.DecodeString(id[16:]); err != nil {
		return 0, false
	}
	return seq, true
}
