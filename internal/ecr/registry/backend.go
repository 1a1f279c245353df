package registry

import (
	"context"
	"io"
)

// Repo names a repository: the registry it lives in (account and region)
// and its name there.
type Repo struct {
	Account, Region, Name string
}

// Identity is who a request's token speaks for.
type Identity struct {
	Account, Region string
	// Principal is the ARN of whoever asked for the token.
	Principal string
	// RoleARN is the role behind an assumed-role principal, and
	// AccessKeyID the key that asked, whose session policies apply.
	RoleARN, AccessKeyID string
	// UserID is the principal's unique ID (AIDA..., AROA...:session), as
	// CloudTrail names it.
	UserID string
}

// Actions a request performs, in ECR's IAM vocabulary: what repository
// policies grant to other accounts.
const (
	ActionBatchGetImage               = "ecr:BatchGetImage"
	ActionGetDownloadURLForLayer      = "ecr:GetDownloadUrlForLayer"
	ActionBatchCheckLayerAvailability = "ecr:BatchCheckLayerAvailability"
	ActionInitiateLayerUpload         = "ecr:InitiateLayerUpload"
	ActionUploadLayerPart             = "ecr:UploadLayerPart"
	ActionCompleteLayerUpload         = "ecr:CompleteLayerUpload"
	ActionPutImage                    = "ecr:PutImage"
	ActionBatchDeleteImage            = "ecr:BatchDeleteImage"
	ActionListImages                  = "ecr:ListImages"
	ActionDescribeRepositories        = "ecr:DescribeRepositories"
)

// Blob is a blob found in a repository.
type Blob struct {
	Descriptor
	// Open reads length bytes from offset (to the end when negative).
	Open func(ctx context.Context, offset, length int64) (io.ReadCloser, error)
}

// Content is a stored manifest.
type Content struct {
	MediaType string
	Digest    Digest
	Body      []byte
}

// Backend is the registry's storage and policy: package ecr implements it
// over the same records its API serves, so an image pushed with docker is
// one DescribeImages lists and one BatchGetImage returns.
//
// Methods return *Error for the client's mistakes (unknown names, missing
// blobs, bad digests); any other error is an internal failure.
type Backend interface {
	// Authenticate checks the password of a Basic authorization.
	Authenticate(ctx context.Context, user, password string) (Identity, bool)
	// Authorize checks that id may perform action on repo. Access within an
	// account is always allowed; another account's repository needs a
	// repository policy that grants the action (DENIED otherwise, or
	// NAME_UNKNOWN when the repository does not exist).
	Authorize(ctx context.Context, id Identity, repo Repo, action string) error

	StatBlob(ctx context.Context, repo Repo, d Digest) (Blob, error)
	DeleteBlob(ctx context.Context, repo Repo, d Digest) error
	// MountBlob links a blob of from into to without moving bytes. A zero
	// from means any repository of to's registry that holds it.
	MountBlob(ctx context.Context, from, to Repo, d Digest) (Descriptor, error)

	StartUpload(ctx context.Context, repo Repo) (id string, err error)
	UploadSize(ctx context.Context, repo Repo, id string) (int64, error)
	// WriteUpload appends body to the upload; offset, when not negative,
	// must be where the upload stands (RANGE_INVALID otherwise). It returns
	// the upload's new size.
	WriteUpload(ctx context.Context, repo Repo, id string, offset int64, body io.Reader) (int64, error)
	// FinishUpload verifies the upload is d and makes it a blob of repo.
	FinishUpload(ctx context.Context, repo Repo, id string, d Digest) (Descriptor, error)
	CancelUpload(ctx context.Context, repo Repo, id string) error

	GetManifest(ctx context.Context, repo Repo, ref string) (Content, error)
	// PutManifest stores body under ref (a tag, or the digest it must
	// have), tagging it also with tags.
	PutManifest(ctx context.Context, repo Repo, ref string, tags []string, contentType string, body []byte) (Digest, *Manifest, error)
	// DeleteManifest removes a tag, or by digest the image and its tags.
	DeleteManifest(ctx context.Context, repo Repo, ref string) error
	// Tags lists up to n tags after last, in lexical order.
	Tags(ctx context.Context, repo Repo, last string, n int) ([]string, error)
	// Catalog lists up to n repository names of id's registry after last.
	Catalog(ctx context.Context, id Identity, last string, n int) ([]string, error)
	// Referrers lists the manifests whose subject is d.
	Referrers(ctx context.Context, repo Repo, d Digest) ([]Descriptor, error)
}
