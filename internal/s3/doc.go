// Package s3 implements Amazon S3: the API (api/s3.Server, decoded and
// encoded by awsproto), the static website endpoint, bucket CORS for the
// gateway, ReadObjectAs for CloudFront origins, and AsService for the AWS
// services that call S3 as their service principal (CloudWatch Logs'
// exports).
//
// # Storage
//
// Metadata lives in package store, object bytes in package blob:
//
//   - s3.bucket: one record per bucket, with its configuration (versioning,
//     policy, public access block, CORS, website, notifications, tags).
//   - s3.object: one record per object version, keyed
//     bucket NUL key NUL ^seq, so a scan lists keys in S3's order and each
//     key's versions newest first. A never-versioned bucket keeps the one
//     null version of a key at seq 0 and overwrites it in place.
//   - s3.data: the bytes of objects up to 128 KiB, next to their record and
//     written in the same transaction: a small PUT is one store commit.
//   - larger objects and every multipart part are blobs; a version lists
//     its blobs as segments, so completing an upload moves the parts into
//     the object without copying a byte, and CopyObject hard-links.
//   - s3.upload and s3.part: multipart uploads in progress.
//   - s3.orphan: blobs to delete. An upload records its blob here before
//     committing it, and the transaction that references the blob removes
//     the entry; a transaction that stops referencing blobs adds them.
//     Recover (at start-up) deletes every listed blob, so a crash at any
//     point leaks nothing and deletes nothing live.
//
// Bodies stream both ways: a PUT is hashed (MD5, a flexible checksum) while
// it is written to a temporary blob, verified at its end (Content-MD5,
// x-amz-checksum-*, and the gateway's signature and trailer checks, which
// surface as read errors), and only then committed; a GET copies from the
// blob files to the connection. Memory stays flat whatever the size.
// A GET holds the blobs it streams, so deleting or overwriting an object
// mid-download lets the download finish.
//
// # Background work
//
// The s3-lifecycle controller applies buckets' lifecycle rules, a pass over
// a bucket at each midnight UTC (see lifecycle.go); the s3-replication
// controller copies the versions replication rules select, one task a
// version in the store (see replication.go); Object Lock is checked
// wherever a version would go (see objectlock.go).
//
// # Access
//
// IAM identity policies are not evaluated yet: callers from the bucket
// owner's account may do anything an explicit Deny in the bucket policy does
// not forbid. Everyone else — anonymous requests, other accounts, AWS
// service principals — needs an Allow in the bucket policy, evaluated with
// its conditions (see policy.go); RestrictPublicBuckets makes public
// policies count for the owner's account and AWS services only.
//
// # Events
//
// Every object creation and removal is published on the event bus in the
// transaction that makes it; see EventDetail.
//
// # Endpoints
//
// Path-style requests reach the API at the gateway's root; virtual-hosted
// ones at <bucket>.s3.localhost (the gateway moves the bucket into the path
// after checking the signature over the path as sent). The website endpoint
// is <bucket>.s3-website[-<region>].localhost, or WebsitePathPrefix +
// <bucket>/ without DNS.
package s3
