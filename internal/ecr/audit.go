package ecr

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"overcast"
	api "overcast/internal/api/ecr"
	"overcast/internal/awsproto"
	"overcast/internal/ecr/registry"
)

// Audit implements registry.Auditor: docker's requests to the registry go
// through the interceptors as the ECR calls AWS's registry makes of them
// (a manifest read is BatchGetImage, a layer read GetDownloadUrlForLayer,
// a push InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload and
// PutImage), so that CloudTrail records them by the token's caller. The
// registry authorized them by its own rules already.
func (s *Service) Audit(ctx context.Context, a registry.Audit) {
	op, in, out := auditedCall(a)
	if op == nil {
		return
	}
	err := auditError(a.Err)
	if err != nil {
		out = nil
	}
	ctx = overcast.WithCaller(ctx, callerOf(a.Identity))
	awsproto.Intercept(ctx, &awsproto.Call{Service: api.Service, Operation: op, Input: in, Authorized: true},
		func(context.Context) (any, error) { return out, err })
}

// auditedCall is the ECR call a registry request stands for, with its
// input and output as far as the request and its answer tell them; a nil
// operation for requests no ECR call stands for (an upload's status).
func auditedCall(a registry.Audit) (op *awsproto.Operation, in, out any) {
	registryID, repo := new(a.Repo.Account), new(a.Repo.Name)
	method, header := a.Request.Method, a.Header
	switch {
	case a.Route == registry.RouteManifest && a.Action == registry.ActionBatchGetImage:
		id := api.ImageIdentifier{ImageTag: new(a.Arg)}
		if _, ok := registry.ParseDigest(a.Arg); ok {
			id = api.ImageIdentifier{ImageDigest: new(a.Arg)}
		}
		in = &api.BatchGetImageRequest{RegistryId: registryID, RepositoryName: repo, ImageIds: api.ImageIdentifierList{id},
			AcceptedMediaTypes: acceptedMediaTypes(a.Request.Header)}
	case a.Route == registry.RouteManifest && a.Action == registry.ActionPutImage:
		put := &api.PutImageRequest{RegistryId: registryID, RepositoryName: repo, ImageManifest: new(string(a.Manifest)),
			ImageManifestMediaType: new(a.Request.Header.Get("Content-Type"))}
		image := &api.Image{RegistryId: registryID, RepositoryName: repo, ImageManifest: put.ImageManifest,
			ImageManifestMediaType: put.ImageManifestMediaType, ImageId: &api.ImageIdentifier{ImageDigest: new(header.Get("Docker-Content-Digest"))}}
		if _, ok := registry.ParseDigest(a.Arg); ok {
			put.ImageDigest = new(a.Arg)
		} else {
			put.ImageTag, image.ImageId.ImageTag = new(a.Arg), new(a.Arg)
		}
		in, out = put, &api.PutImageResponse{Image: image}
	case a.Route == registry.RouteManifest && a.Action == registry.ActionBatchDeleteImage:
		in = &api.BatchDeleteImageRequest{RegistryId: registryID, RepositoryName: repo,
			ImageIds: api.ImageIdentifierList{{ImageDigest: new(a.Arg)}}}
		out = &api.BatchDeleteImageResponse{ImageIds: api.ImageIdentifierList{{ImageDigest: new(a.Arg)}}, Failures: api.ImageFailureList{}}
	case a.Route == registry.RouteBlob && a.Action == registry.ActionGetDownloadURLForLayer:
		in = &api.GetDownloadUrlForLayerRequest{RegistryId: registryID, RepositoryName: repo, LayerDigest: new(a.Arg)}
	case a.Route == registry.RouteBlob && a.Action == registry.ActionBatchCheckLayerAvailability:
		in = &api.BatchCheckLayerAvailabilityRequest{RegistryId: registryID, RepositoryName: repo,
			LayerDigests: api.BatchedOperationLayerDigestList{a.Arg}}
	case a.Route == registry.RouteUpload && a.Arg == "" && method == http.MethodPost:
		in = &api.InitiateLayerUploadRequest{RegistryId: registryID, RepositoryName: repo}
		out = &api.InitiateLayerUploadResponse{UploadId: new(header.Get("Docker-Upload-UUID")), PartSize: new(int64(partSize))}
	case a.Route == registry.RouteUpload && method == http.MethodPatch:
		first, last := contentRange(a.Request.Header.Get("Content-Range"))
		part := &api.UploadLayerPartRequest{RegistryId: registryID, RepositoryName: repo, UploadId: new(a.Arg), PartFirstByte: first, PartLastByte: last}
		in = part
		if _, end, ok := strings.Cut(header.Get("Range"), "-"); ok {
			if n, err := strconv.ParseInt(end, 10, 64); err == nil {
				out = &api.UploadLayerPartResponse{RegistryId: registryID, RepositoryName: repo, UploadId: new(a.Arg), LastByteReceived: new(n)}
			}
		}
	case a.Route == registry.RouteUpload && method == http.MethodPut:
		in = &api.CompleteLayerUploadRequest{RegistryId: registryID, RepositoryName: repo, UploadId: new(a.Arg),
			LayerDigests: api.LayerDigestList{a.Request.URL.Query().Get("digest")}}
		out = &api.CompleteLayerUploadResponse{RegistryId: registryID, RepositoryName: repo, UploadId: new(a.Arg),
			LayerDigest: new(header.Get("Docker-Content-Digest"))}
	case a.Route == registry.RouteTags:
		in = &api.ListImagesRequest{RegistryId: registryID, RepositoryName: repo}
	default:
		return nil, nil, nil
	}
	return api.Service.Operation(strings.TrimPrefix(a.Action, "ecr:")), in, out
}

// acceptedMediaTypes are the media types of an Accept header, as
// BatchGetImage's acceptedMediaTypes.
func acceptedMediaTypes(h http.Header) api.MediaTypeList {
	var types api.MediaTypeList
	for _, v := range h.Values("Accept") {
		for t := range strings.SplitSeq(v, ",") {
			if t, _, _ = strings.Cut(t, ";"); strings.TrimSpace(t) != "" {
				types = append(types, strings.TrimSpace(t))
			}
		}
	}
	return types
}

// contentRange reads a PATCH's Content-Range, "first-last"; nil without
// one (a chunk that goes on from where the upload stands).
func contentRange(v string) (first, last *int64) {
	a, b, ok := strings.Cut(v, "-")
	if !ok {
		return nil, nil
	}
	f, err1 := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
	l, err2 := strconv.ParseInt(strings.TrimSpace(b), 10, 64)
	if err1 != nil || err2 != nil {
		return nil, nil
	}
	return &f, &l
}

// auditError words a registry request's failure as the ECR API words it:
// the domain's error when the registry's wraps one, else by the
// registry's code.
func auditError(err error) error {
	if err == nil {
		return nil
	}
	var d *domainError
	if errors.As(err, &d) {
		return apiError(d)
	}
	var e *registry.Error
	if !errors.As(err, &e) {
		return err // the recorder words it as an internal failure
	}
	switch e.Code {
	case registry.CodeNameUnknown:
		return api.NewRepositoryNotFoundException("%s", e.Message)
	case registry.CodeManifestUnknown:
		return api.NewImageNotFoundException("%s", e.Message)
	case registry.CodeBlobUnknown:
		return api.NewLayersNotFoundException("%s", e.Message)
	case registry.CodeBlobUploadUnknown:
		return api.NewUploadNotFoundException("%s", e.Message)
	case registry.CodeDenied:
		return apiExceptions[kindDenied](e.Message)
	case registry.CodeTooManyRequests:
		return awsproto.Errorf(http.StatusBadRequest, "ThrottlingException", "%s", e.Message)
	}
	return api.NewInvalidParameterException("%s", e.Message)
}
