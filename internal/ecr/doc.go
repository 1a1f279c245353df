// Package ecr implements Amazon Elastic Container Registry: the ECR API
// (repositories, images, the layer-upload operations, authorization tokens,
// repository and lifecycle policies, scans) and the domain its registry
// data plane (package registry, which serves docker) stores into. An image
// pushed with docker is the image DescribeImages lists; one put with the
// layer API and PutImage is the one docker pulls.
//
// Storage. Metadata lives in package store, bytes in package blob:
//
//	ecr.repos      account/region/name             repository record (settings, tags, policies)
//	ecr.images     account/region/name@digest      image record (type, size, refs, pushed/pulled, scan)
//	ecr.manifests  account/region/name@digest      media type, newline, manifest body (one read per pull)
//	ecr.tags       account/region/name:tag         the digest a tag points at
//	ecr.layers     account/region/name@digest      a blob linked into a repository
//	ecr.referrers  account/region/name@subject@digest  descriptor for the referrers API
//	ecr.content    digest                          the blob holding those bytes (one per digest)
//	ecr.orphans    blob id                         a blob id to delete unless claimed (uploads, dropped content)
//	ecr.previews   account/region/name             the last lifecycle policy preview
//	ecr.meta       "housekeeping"                  when lifecycle policies and GC last ran
//
// Content is stored once per digest whatever the number of repositories
// and accounts linking it; a repository sees only blobs linked into it, and
// a mount is a link made in one transaction with the source's check.
//
// Garbage collection is mark and sweep in store transactions, which the
// store serializes with pushes: a repository's links that no image of it
// references are dropped once older than the grace period (a push uploads
// its blobs before the manifest that references them, and a blob check
// refreshes a link it reports), then content no link references, older
// than the grace period too, is dropped and its blob deleted. Upload
// sessions register their blob id as an orphan before writing it, so a
// crash mid-upload leaks nothing either. The collector runs after the
// lifecycle pass and hourly (by the injected clock), and CollectGarbage
// runs it on demand.
//
// Uploads in progress are held in memory (the blob writer and the running
// hash, so chunked uploads never re-read what they wrote); a restart loses
// them and docker simply retries the layer. Everything else — repositories,
// images, tags, blobs, policies — survives restarts.
//
// Scanning is basic scanning with no vulnerability database: a scan
// (on push when the repository asks for it, or StartImageScan) completes at
// once with no findings, and DescribeImageScanFindings reports that result,
// stored with the image.
//
// Tokens. GetAuthorizationToken returns base64("AWS:" + token) valid 12
// hours; the token is account, region, principal and expiry signed with
// HMAC-SHA256 under a random key kept in the data dir (mode 0600), so any
// number of tokens cost no storage and a restart keeps them valid.
package ecr
