// Package registry is ECR's data plane: the OCI distribution API (v1.1)
// under /v2/ that docker, crane, oras and the conformance suite talk to.
//
// It is written here on top of overcast's own storage (package blob for
// bytes, package store for metadata, both reached through the Backend that
// package ecr implements) rather than by embedding distribution/distribution:
// ECR's behaviour — repositories that must exist before a push, immutable
// tags, per-account registries addressed by a token, repository policies
// for other accounts, images shared with the ECR API (PutImage,
// BatchGetImage, the layer-upload operations) — lives in the metadata, and
// a second storage engine with its own layout, garbage collector and
// configuration would have had to be kept in step with it. The protocol
// itself is small: this package parses paths, authenticates, maps errors to
// the spec's {"errors":[{"code","message","detail"}]} envelope, and streams
// bytes; it never buffers a layer.
//
// What it serves:
//
//   - GET /v2/ (the ping docker login uses), /v2/_catalog with n/last.
//   - Blobs: HEAD/GET (with Range), DELETE; uploads by POST with a body
//     (monolithic), POST then PUT, POST then PATCH... then PUT (chunked,
//     Content-Range checked, 416 for a chunk out of order), streamed PATCH
//     without Content-Range, GET of an upload's progress, DELETE to cancel,
//     and cross-repository mount (mount=&from=, or mount= alone for a blob
//     the registry already holds).
//   - Manifests by tag and by digest: OCI image manifests and indexes,
//     Docker v2 schema 2 manifests and manifest lists (multi-arch), any
//     artifact type; the subject field with the OCI-Subject response
//     header; ?tag= parameters answered with OCI-Tag.
//   - GET /v2/<name>/referrers/<digest>, with artifactType filtering
//     (OCI-Filters-Applied).
//   - GET /v2/<name>/tags/list with n, last and a Link header.
//
// Authentication is HTTP Basic with user "AWS" and the password that
// GetAuthorizationToken hands out; anything else is answered 401 with a
// Basic challenge docker understands. The token names the account and
// region, so "127.0.0.1:4566/app" is the repository app of the token's
// registry. Another account's repository is addressed by prefixing its
// registry host: "127.0.0.1:4566/111122223333.dkr.ecr.us-east-1.amazonaws.com/app".
package registry
