package ecr

import (
	"errors"
	"fmt"

	api "overcast/internal/api/ecr"
	"overcast/internal/awsproto"
	"overcast/internal/ecr/registry"
)

// errKind is what went wrong in the domain; the ECR API and the registry
// each word it their own way (an exception, an OCI error code).
type errKind int

const (
	kindRepoNotFound errKind = iota + 1
	kindImageNotFound
	kindTagImmutable
	kindLayersMissing
	kindImagesMissing
	kindManifestInvalid
	kindDigestMismatch
	kindImageExists
	kindUploadNotFound
	kindDenied
	kindLayerInvalid
	kindLayerPart
	kindLayerExists
	kindEmptyUpload
	kindBlobUnknown
	kindInvalidParameter
	kindTagInvalid
)

// domainError is an error of the domain shared by the API and the
// registry.
type domainError struct {
	kind errKind
	msg  string
	// lastByte is what an upload holds, for InvalidLayerPartException.
	lastByte int64
	upload   string
	reg      registryID
	repo     string
}

func (e *domainError) Error() string { return "ecr: " + e.msg }

func derr(kind errKind, format string, args ...any) *domainError {
	return &domainError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

func repoNotFound(r registry.Repo) *domainError {
	return derr(kindRepoNotFound, "The repository with name '%s' does not exist in the registry with id '%s'", r.Name, r.Account)
}

func tagImmutable(r registry.Repo, tag string) *domainError {
	return derr(kindTagImmutable, "The image tag '%s' already exists in the '%s' repository and cannot be overwritten because the repository is immutable.", tag, r.Name)
}

func uploadNotFound(r registry.Repo, id string) *domainError {
	return derr(kindUploadNotFound, "Upload with id '%s' does not exist in the repository with name '%s' in the registry with id '%s'", id, r.Name, r.Account)
}

func denied(r registry.Repo, principal, action string) *domainError {
	return derr(kindDenied, "User: %s is not authorized to perform: %s on resource: %s because no resource-based policy allows the %s action",
		principal, action, registryID{r.Account, r.Region}.arn(r.Name), action)
}

// apiExceptions words each kind of domain error as the ECR API does.
var apiExceptions = map[errKind]func(msg string) error{
	kindRepoNotFound:     exception(api.NewRepositoryNotFoundException),
	kindImageNotFound:    exception(api.NewImageNotFoundException),
	kindTagImmutable:     exception(api.NewImageTagAlreadyExistsException),
	kindLayersMissing:    exception(api.NewLayersNotFoundException),
	kindImagesMissing:    exception(api.NewReferencedImagesNotFoundException),
	kindManifestInvalid:  exception(api.NewInvalidParameterException),
	kindDigestMismatch:   exception(api.NewImageDigestDoesNotMatchException),
	kindImageExists:      exception(api.NewImageAlreadyExistsException),
	kindUploadNotFound:   exception(api.NewUploadNotFoundException),
	kindDenied:           func(msg string) error { return awsproto.Errorf(403, "AccessDeniedException", "%s", msg) },
	kindLayerInvalid:     exception(api.NewInvalidLayerException),
	kindBlobUnknown:      exception(api.NewInvalidLayerException),
	kindLayerExists:      exception(api.NewLayerAlreadyExistsException),
	kindEmptyUpload:      exception(api.NewEmptyUploadException),
	kindInvalidParameter: exception(api.NewInvalidParameterException),
	kindTagInvalid:       exception(api.NewInvalidParameterException),
}

// exception adapts a generated exception constructor to apiExceptions.
func exception[E error](newException func(format string, args ...any) E) func(msg string) error {
	return func(msg string) error { return newException("%s", msg) }
}

// apiError words a domain error as the ECR API does; other errors pass.
func apiError(err error) error {
	var e *domainError
	if !errors.As(err, &e) {
		return err
	}
	if e.kind == kindLayerPart {
		x := api.NewInvalidLayerPartException("%s", e.msg)
		x.LastValidByteReceived = new(e.lastByte)
		x.UploadId, x.RegistryId, x.RepositoryName = new(e.upload), new(e.reg.account), new(e.repo)
		return x
	}
	if word, ok := apiExceptions[e.kind]; ok {
		return word(e.msg)
	}
	return err
}

// registryError words a domain error as the distribution spec does.
func registryError(err error) error {
	var e *domainError
	if !errors.As(err, &e) {
		return err
	}
	code := map[errKind]registry.Code{
		kindRepoNotFound:     registry.CodeNameUnknown,
		kindImageNotFound:    registry.CodeManifestUnknown,
		kindTagImmutable:     registry.CodeTagInvalid,
		kindLayersMissing:    registry.CodeManifestBlobUnknown,
		kindImagesMissing:    registry.CodeManifestBlobUnknown,
		kindManifestInvalid:  registry.CodeManifestInvalid,
		kindDigestMismatch:   registry.CodeDigestInvalid,
		kindUploadNotFound:   registry.CodeBlobUploadUnknown,
		kindDenied:           registry.CodeDenied,
		kindLayerInvalid:     registry.CodeDigestInvalid,
		kindLayerPart:        registry.CodeRangeInvalid,
		kindBlobUnknown:      registry.CodeBlobUnknown,
		kindEmptyUpload:      registry.CodeBlobUploadInvalid,
		kindInvalidParameter: registry.CodeManifestInvalid,
		kindTagInvalid:       registry.CodeTagInvalid,
	}[e.kind]
	if code == "" {
		return err
	}
	return &registry.Error{Code: code, Message: e.msg, Cause: e}
}
