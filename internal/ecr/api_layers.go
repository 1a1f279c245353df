package ecr

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	api "overcast/internal/api/ecr"
	"overcast/internal/ecr/registry"
	"overcast/internal/store"
)

// partSize is what InitiateLayerUpload suggests for parts: it keeps a
// part's base64 well under the API's request size limit.
const partSize = 10 << 20

// InitiateLayerUpload starts an upload that UploadLayerPart fills and
// CompleteLayerUpload finishes: the same uploads docker's pushes use.
func (s *Service) InitiateLayerUpload(ctx context.Context, in *api.InitiateLayerUploadRequest) (*api.InitiateLayerUploadResponse, error) {
	repo, err := s.authorizedRepo(ctx, in.RegistryId, *in.RepositoryName, registry.ActionInitiateLayerUpload)
	if err != nil {
		return nil, err
	}
	u, err := s.startUpload(ctx, repo)
	if err != nil {
		return nil, apiError(err)
	}
	return &api.InitiateLayerUploadResponse{UploadId: new(u.id), PartSize: new(int64(partSize))}, nil
}

// UploadLayerPart appends a part; it must start where the upload stands.
func (s *Service) UploadLayerPart(ctx context.Context, in *api.UploadLayerPartRequest) (*api.UploadLayerPartResponse, error) {
	u, err := s.apiUpload(ctx, in.RegistryId, *in.RepositoryName, *in.UploadId, registry.ActionUploadLayerPart)
	if err != nil {
		return nil, err
	}
	repo := u.repo
	first, last := *in.PartFirstByte, *in.PartLastByte
	if first < 0 || last < first || last-first+1 != int64(len(in.LayerPartBlob)) {
		u.mu.Lock()
		size := u.size
		u.mu.Unlock()
		x := api.NewInvalidLayerPartException("The part's byte range %d-%d does not match the %d bytes of layerPartBlob", first, last, len(in.LayerPartBlob))
		x.LastValidByteReceived, x.UploadId, x.RegistryId, x.RepositoryName = new(size-1), new(u.id), new(repo.Account), new(repo.Name)
		return nil, x
	}
	size, err := s.write(u, first, bytes.NewReader(in.LayerPartBlob))
	if err == nil {
		err = s.park(ctx, u)
	}
	if err != nil {
		return nil, apiError(err)
	}
	return &api.UploadLayerPartResponse{RegistryId: new(repo.Account), RepositoryName: new(repo.Name), UploadId: new(u.id),
		LastByteReceived: new(size - 1)}, nil
}

// CompleteLayerUpload checks the upload against its digest and makes it a
// layer of the repository.
func (s *Service) CompleteLayerUpload(ctx context.Context, in *api.CompleteLayerUploadRequest) (*api.CompleteLayerUploadResponse, error) {
	u, err := s.apiUpload(ctx, in.RegistryId, *in.RepositoryName, *in.UploadId, registry.ActionCompleteLayerUpload)
	if err != nil {
		return nil, err
	}
	repo := u.repo
	if len(in.LayerDigests) != 1 {
		return nil, api.NewInvalidParameterException("Invalid parameter at 'layerDigests': exactly one layer digest is required")
	}
	d, ok := registry.ParseDigest(in.LayerDigests[0])
	if !ok {
		return nil, api.NewInvalidLayerException("Invalid parameter at 'layerDigests': %q is not a valid digest", in.LayerDigests[0])
	}
	u.mu.Lock()
	empty := u.size == 0
	u.mu.Unlock()
	if empty {
		return nil, api.NewEmptyUploadException("The upload %s has no parts", u.id)
	}
	if s.uploads.take(u.id) == nil {
		return nil, apiError(uploadNotFound(repo, u.id))
	}
	res, err := s.finishJoined(ctx, u, d)
	if err != nil {
		return nil, apiError(err)
	}
	if res.linked {
		return nil, api.NewLayerAlreadyExistsException("The layer %s already exists in the repository with name '%s' in the registry with id '%s'", d, repo.Name, repo.Account)
	}
	return &api.CompleteLayerUploadResponse{RegistryId: new(repo.Account), RepositoryName: new(repo.Name), UploadId: new(u.id),
		LayerDigest: new(string(d))}, nil
}

// apiUpload is the upload an API call names, in a repository the caller
// may take action on.
func (s *Service) apiUpload(ctx context.Context, registryID *string, repoName, id, action string) (*upload, error) {
	repo := callerRegistry(ctx, registryID).repo(repoName)
	if err := s.authorizeAPI(ctx, repo, action); err != nil {
		return nil, err
	}
	u, err := s.findUpload(ctx, repo, id)
	return u, apiError(err)
}

// BatchCheckLayerAvailability reports which layers the repository has.
func (s *Service) BatchCheckLayerAvailability(ctx context.Context, in *api.BatchCheckLayerAvailabilityRequest) (*api.BatchCheckLayerAvailabilityResponse, error) {
	repo, err := s.authorizedRepo(ctx, in.RegistryId, *in.RepositoryName, registry.ActionBatchCheckLayerAvailability)
	if err != nil {
		return nil, err
	}
	out := &api.BatchCheckLayerAvailabilityResponse{Layers: api.LayerList{}, Failures: api.LayerFailureList{}}
	for _, d := range in.LayerDigests {
		if _, ok := registry.ParseDigest(d); !ok {
			out.Failures = append(out.Failures, api.LayerFailure{LayerDigest: new(d), FailureCode: new(api.LayerFailureCodeInvalidLayerDigest),
				FailureReason: new("Invalid layer digest")})
			continue
		}
		c, err := s.statLayer(ctx, repo, d)
		var de *domainError
		if errors.As(err, &de) && de.kind == kindBlobUnknown {
			out.Failures = append(out.Failures, api.LayerFailure{LayerDigest: new(d), FailureCode: new(api.LayerFailureCodeMissingLayerDigest),
				FailureReason: new("Could not find layer")})
			continue
		}
		if err != nil {
			return nil, apiError(err)
		}
		out.Layers = append(out.Layers, api.Layer{LayerDigest: new(d), LayerAvailability: new(api.LayerAvailabilityAVAILABLE),
			LayerSize: new(c.Size), MediaType: new("application/octet-stream")})
	}
	return out, nil
}

// DownloadPathPrefix is where GetDownloadUrlForLayer's URLs point: a path
// overcast serves without credentials, the token in the URL standing in
// for an S3 presigned URL's signature.
const DownloadPathPrefix = "/_overcast/ecr/layer/"

// GetDownloadUrlForLayer returns a URL that serves the layer for an hour,
// to curl as much as to an SDK.
func (s *Service) GetDownloadUrlForLayer(ctx context.Context, in *api.GetDownloadUrlForLayerRequest) (*api.GetDownloadUrlForLayerResponse, error) {
	repo, err := s.authorizedRepo(ctx, in.RegistryId, *in.RepositoryName, registry.ActionGetDownloadURLForLayer)
	if err != nil {
		return nil, err
	}
	d := *in.LayerDigest
	if _, ok := registry.ParseDigest(d); !ok {
		return nil, api.NewInvalidParameterException("Invalid parameter at 'layerDigest': %q is not a valid digest", d)
	}
	if _, err := s.statLayer(ctx, repo, d); err != nil {
		var de *domainError
		if errors.As(err, &de) && de.kind == kindBlobUnknown {
			return nil, api.NewLayersNotFoundException("The specified layer %s does not exist in the repository with name '%s' in the registry with id '%s'", d, repo.Name, repo.Account)
		}
		return nil, apiError(err)
	}
	u := "http://" + s.host + DownloadPathPrefix + url.PathEscape(s.downloadToken(repo, d))
	return &api.GetDownloadUrlForLayerResponse{DownloadUrl: new(u), LayerDigest: new(d)}, nil
}

// DownloadHandler serves GetDownloadUrlForLayer's URLs.
func (s *Service) DownloadHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		token := strings.TrimPrefix(r.URL.Path, DownloadPathPrefix)
		repo, d, ok := s.verifyDownload(token)
		if !ok {
			http.Error(w, "Request has expired or its token is invalid", http.StatusForbidden)
			return
		}
		var c content
		err := s.Store.View(r.Context(), func(tx store.Tx) error {
			if ok, err := hasLayer(tx, repo, string(d)); err != nil || !ok {
				if err == nil {
					err = store.ErrNotFound
				}
				return err
			}
			var err error
			c, _, err = getContent(tx, string(d))
			return err
		})
		if errors.Is(err, store.ErrNotFound) {
			http.Error(w, "The specified layer does not exist", http.StatusNotFound)
			return
		}
		if err != nil {
			s.Logger.Error("ecr: layer download", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		if err := registry.ServeBlob(w, r, s.blobOf(d, c)); err != nil {
			http.Error(w, "The specified layer does not exist", http.StatusNotFound)
		}
	})
}
