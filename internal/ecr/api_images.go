package ecr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	api "overcast/internal/api/ecr"
	"overcast/internal/awsproto"
	"overcast/internal/bus"
	"overcast/internal/ecr/registry"
	"overcast/internal/store"
)

// imageFailure is why one image of a batch could not be served.
func imageFailure(id api.ImageIdentifier, code, reason string) api.ImageFailure {
	return api.ImageFailure{ImageId: &id, FailureCode: new(code), FailureReason: new(reason)}
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// resolveImage finds the digest an identifier names, or the failure ECR
// reports for it.
func resolveImage(tx store.Tx, repo registry.Repo, id api.ImageIdentifier) (string, *api.ImageFailure, error) {
	d, tag := str(id.ImageDigest), str(id.ImageTag)
	if d == "" && tag == "" {
		f := imageFailure(id, api.ImageFailureCodeMissingDigestAndTag, "Invalid request parameters: both tag and digest cannot be null")
		return "", &f, nil
	}
	if d != "" {
		if _, ok := registry.ParseDigest(d); !ok {
			f := imageFailure(id, api.ImageFailureCodeInvalidImageDigest, "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'")
			return "", &f, nil
		}
	}
	if tag != "" {
		td, err := getTag(tx, repo, tag)
		if errors.Is(err, store.ErrNotFound) {
			f := imageFailure(id, api.ImageFailureCodeImageNotFound, "Requested image not found")
			return "", &f, nil
		}
		if err != nil {
			return "", nil, err
		}
		if d != "" && d != td {
			f := imageFailure(id, api.ImageFailureCodeImageTagDoesNotMatchDigest, "Invalid request parameters: given tag does not map to the given digest")
			return "", &f, nil
		}
		return td, nil, nil
	}
	if _, err := tx.Get(imagesTable, imageKey(repo, d)); errors.Is(err, store.ErrNotFound) {
		f := imageFailure(id, api.ImageFailureCodeImageNotFound, "Requested image not found")
		return "", &f, nil
	} else if err != nil {
		return "", nil, err
	}
	return d, nil, nil
}

// resolveImages checks that repo exists, then resolves each of ids in
// turn: found gets the digest of one that names an image, failed the
// failure ECR reports for one that does not. Either ends the walk by
// returning an error.
func resolveImages(tx store.Tx, repo registry.Repo, ids []api.ImageIdentifier, failed func(api.ImageIdentifier, api.ImageFailure) error, found func(id api.ImageIdentifier, digest string) error) error {
	if _, _, err := getRepo(tx, repo); err != nil {
		return err
	}
	for _, id := range ids {
		d, fail, err := resolveImage(tx, repo, id)
		if err != nil {
			return err
		}
		if fail != nil {
			err = failed(id, *fail)
		} else {
			err = found(id, d)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// appendFailure is a resolveImages failed func for a batch, which reports
// an image's failure and goes on with the next.
func appendFailure(failures *api.ImageFailureList) func(api.ImageIdentifier, api.ImageFailure) error {
	return func(_ api.ImageIdentifier, f api.ImageFailure) error {
		*failures = append(*failures, f)
		return nil
	}
}

// failNotFound is a resolveImages failed func for operations on named
// images, which end at the first ID naming none.
func failNotFound(repo registry.Repo) func(api.ImageIdentifier, api.ImageFailure) error {
	return func(id api.ImageIdentifier, _ api.ImageFailure) error {
		return api.NewImageNotFoundException("The image with imageId %s does not exist within the repository with name '%s' in the registry with id '%s'", imageIDString(id), repo.Name, repo.Account)
	}
}

// resolveOneImage is the digest of the image id names in an existing
// repository, or ImageNotFoundException.
func resolveOneImage(tx store.Tx, repo registry.Repo, id api.ImageIdentifier) (digest string, err error) {
	err = resolveImages(tx, repo, []api.ImageIdentifier{id}, failNotFound(repo),
		func(_ api.ImageIdentifier, d string) error { digest = d; return nil })
	return digest, err
}

// imageIDString is an image ID as ECR's messages render it, a field not
// given as 'null': "{imageDigest:'null', imageTag:'latest'}".
func imageIDString(id api.ImageIdentifier) string {
	orNull := func(p *string) string {
		if p == nil {
			return "null"
		}
		return *p
	}
	return "{imageDigest:'" + orNull(id.ImageDigest) + "', imageTag:'" + orNull(id.ImageTag) + "'}"
}

func (s *Service) imageDetail(repo registry.Repo, img *image) api.ImageDetail {
	d := api.ImageDetail{
		RegistryId: new(repo.Account), RepositoryName: new(repo.Name), ImageDigest: new(img.Digest),
		ImageSizeInBytes: new(img.Size), ImagePushedAt: new(img.PushedAt), ImageManifestMediaType: new(img.MediaType),
		ImageStatus: new(api.ImageStatusACTIVE),
	}
	if len(img.Tags) > 0 {
		d.ImageTags = slices.Clone(img.Tags)
	}
	if img.ConfigType != "" {
		d.ArtifactMediaType = new(img.ConfigType)
	} else if img.ArtifactType != "" {
		d.ArtifactMediaType = new(img.ArtifactType)
	}
	if img.LastPull != nil {
		d.LastRecordedPullTime = new(*img.LastPull)
	}
	if img.Subject != "" {
		d.SubjectManifestDigest = new(img.Subject)
	}
	if img.Scan != nil {
		d.ImageScanStatus = scanStatus(img.Scan)
		d.ImageScanFindingsSummary = &api.ImageScanFindingsSummary{ImageScanCompletedAt: new(img.Scan.CompletedAt),
			VulnerabilitySourceUpdatedAt: new(img.Scan.CompletedAt), FindingSeverityCounts: api.FindingSeverityCounts{}}
	}
	return d
}

// tagStatusMatches applies a TAGGED/UNTAGGED/ANY filter.
func tagStatusMatches(status string, img *image) bool {
	switch status {
	case api.TagStatusTAGGED:
		return len(img.Tags) > 0
	case api.TagStatusUNTAGGED:
		return len(img.Tags) == 0
	}
	return true
}

// filterTagStatus is the tag status an images filter names, nil for none.
// DescribeImages' filter has the same fields and converts to this one.
func filterTagStatus(f *api.ListImagesFilter) *string {
	if f == nil {
		return nil
	}
	return f.TagStatus
}

// tagStatusOr is a filter's tag status, ANY when it names none.
func tagStatusOr(status *string) string {
	if status == nil {
		return api.TagStatusANY
	}
	return *status
}

// DescribeImages describes images, all of them (filtered, paginated) or
// the ones named.
func (s *Service) DescribeImages(ctx context.Context, in *api.DescribeImagesRequest) (*api.DescribeImagesResponse, error) {
	repo, err := s.authorizedRepo(ctx, in.RegistryId, *in.RepositoryName, "ecr:DescribeImages")
	if err != nil {
		return nil, err
	}
	if len(in.ImageIds) > 0 && (in.NextToken != nil || in.MaxResults != nil) {
		return nil, api.NewInvalidParameterException("Invalid parameter: nextToken and maxResults cannot be used with imageIds")
	}
	status := filterTagStatus((*api.ListImagesFilter)(in.Filter))
	if err := s.flushPulls(ctx); err != nil {
		return nil, err
	}
	out := &api.DescribeImagesResponse{ImageDetails: api.ImageDetailList{}}
	describe := func(img *image) { out.ImageDetails = append(out.ImageDetails, s.imageDetail(repo, img)) }
	if len(in.ImageIds) > 0 {
		err = s.namedImages(ctx, repo, in.ImageIds, tagStatusOr(status), describe)
	} else {
		out.NextToken, err = s.pageImages(ctx, repo, status, in.NextToken, in.MaxResults, describe)
	}
	if err != nil {
		return nil, apiError(err)
	}
	return out, nil
}

// namedImages visits the images ids name, each once, that status keeps;
// an ID naming no image is ImageNotFoundException.
func (s *Service) namedImages(ctx context.Context, repo registry.Repo, ids []api.ImageIdentifier, status string, fn func(*image)) error {
	return s.Store.View(ctx, func(tx store.Tx) error {
		seen := map[string]bool{}
		return resolveImages(tx, repo, ids, failNotFound(repo), func(_ api.ImageIdentifier, d string) error {
			if seen[d] {
				return nil
			}
			seen[d] = true
			img, _, err := getImage(tx, repo, d)
			if err != nil {
				return err
			}
			if tagStatusMatches(status, &img) {
				fn(&img)
			}
			return nil
		})
	})
}

// pageImages visits one page of the images of an existing repository that
// the tag status filter keeps (all of them without one), and returns the
// next page's token.
func (s *Service) pageImages(ctx context.Context, repo registry.Repo, status, token *string, maxResults *int32, fn func(*image)) (next *string, err error) {
	keep := func(img *image) bool { return tagStatusMatches(tagStatusOr(status), img) }
	err = s.Store.View(ctx, func(tx store.Tx) error {
		if _, _, err := getRepo(tx, repo); err != nil {
			return err
		}
		next, err = scanImages(tx, repo, token, awsproto.PageSize(maxResults, 100), keep, fn)
		return err
	})
	return next, err
}

// scanImages visits the images of repo after the token's key, at most
// limit of them passing keep; it returns the next token.
func scanImages(tx store.Tx, repo registry.Repo, token *string, limit int, keep func(*image) bool, fn func(*image)) (*string, error) {
	after, err := fromToken(token)
	if err != nil {
		return nil, err
	}
	opt := store.ScanOptions{Prefix: imagesPrefix(repo)}
	if after != "" {
		opt.After = imagesPrefix(repo) + after
	}
	n := 0
	var next *string
	var last string
	err = store.ScanJSON(tx, imagesTable, opt, func(key string, img image, _ int64) error {
		if !keep(&img) {
			return nil
		}
		if n == limit {
			next = awsproto.PageToken(last)
			return store.ErrStop
		}
		n++
		last = img.Digest
		fn(&img)
		return nil
	})
	return next, err
}

// imageIDs are the IDs ECR lists for an image: one per tag, and the
// digest alone when it has none.
func imageIDs(img *image) []api.ImageIdentifier {
	if len(img.Tags) == 0 {
		return []api.ImageIdentifier{{ImageDigest: new(img.Digest)}}
	}
	ids := make([]api.ImageIdentifier, 0, len(img.Tags))
	for _, t := range img.Tags {
		ids = append(ids, api.ImageIdentifier{ImageDigest: new(img.Digest), ImageTag: new(t)})
	}
	return ids
}

// ListImages lists image IDs: one per tag, and the digest alone for
// untagged images.
func (s *Service) ListImages(ctx context.Context, in *api.ListImagesRequest) (*api.ListImagesResponse, error) {
	repo, err := s.authorizedRepo(ctx, in.RegistryId, *in.RepositoryName, "ecr:ListImages")
	if err != nil {
		return nil, err
	}
	out := &api.ListImagesResponse{ImageIds: api.ImageIdentifierList{}}
	out.NextToken, err = s.pageImages(ctx, repo, filterTagStatus(in.Filter), in.NextToken, in.MaxResults, func(img *image) {
		out.ImageIds = append(out.ImageIds, imageIDs(img)...)
	})
	if err != nil {
		return nil, apiError(err)
	}
	return out, nil
}

// BatchGetImage returns manifests, in the media types the caller accepts.
func (s *Service) BatchGetImage(ctx context.Context, in *api.BatchGetImageRequest) (*api.BatchGetImageResponse, error) {
	repo, err := s.authorizedRepo(ctx, in.RegistryId, *in.RepositoryName, registry.ActionBatchGetImage)
	if err != nil {
		return nil, err
	}
	out := &api.BatchGetImageResponse{Images: api.ImageList{}, Failures: api.ImageFailureList{}}
	now := s.Now()
	err = s.Store.View(ctx, func(tx store.Tx) error {
		return resolveImages(tx, repo, in.ImageIds, appendFailure(&out.Failures), func(id api.ImageIdentifier, d string) error {
			it, err := tx.Get(manifestsTable, imageKey(repo, d))
			if err != nil {
				return err
			}
			mt, body, _ := bytes.Cut(it.Value, []byte{'\n'})
			if len(in.AcceptedMediaTypes) > 0 && !slices.Contains(in.AcceptedMediaTypes, string(mt)) {
				out.Failures = append(out.Failures, imageFailure(id, "UnsupportedImageType",
					"The image manifest media type "+string(mt)+" is not one of the accepted media types"))
				return nil
			}
			s.recordPull(imageKey(repo, d), now)
			got := api.ImageIdentifier{ImageDigest: new(d), ImageTag: id.ImageTag}
			out.Images = append(out.Images, api.Image{RegistryId: new(repo.Account), RepositoryName: new(repo.Name),
				ImageId: &got, ImageManifest: new(string(body)), ImageManifestMediaType: new(string(mt))})
			return nil
		})
	})
	if err != nil {
		return nil, apiError(err)
	}
	return out, nil
}

// referencedBy lists the indexes of repo that list d.
func referencedBy(tx store.Tx, repo registry.Repo, d string) ([]string, error) {
	var out []string
	err := store.ScanJSON(tx, imagesTable, store.ScanOptions{Prefix: imagesPrefix(repo)}, func(_ string, img image, _ int64) error {
		if slices.Contains(img.Children, d) {
			out = append(out, img.Digest)
		}
		return nil
	})
	return out, err
}

// BatchDeleteImage deletes images by digest, or tags by tag: removing an
// image's last tag deletes the image, as on AWS.
func (s *Service) BatchDeleteImage(ctx context.Context, in *api.BatchDeleteImageRequest) (*api.BatchDeleteImageResponse, error) {
	repo, err := s.authorizedRepo(ctx, in.RegistryId, *in.RepositoryName, registry.ActionBatchDeleteImage)
	if err != nil {
		return nil, err
	}
	var out *api.BatchDeleteImageResponse
	var evs []imageEvent
	err = store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		out = &api.BatchDeleteImageResponse{ImageIds: api.ImageIdentifierList{}, Failures: api.ImageFailureList{}}
		evs = nil
		err := resolveImages(tx, repo, in.ImageIds, appendFailure(&out.Failures), func(id api.ImageIdentifier, d string) error {
			img, _, err := getImage(tx, repo, d)
			if errors.Is(err, store.ErrNotFound) {
				// An earlier entry of the batch deleted it.
				out.Failures = append(out.Failures, imageFailure(id, api.ImageFailureCodeImageNotFound, "Requested image not found"))
				return nil
			}
			if err != nil {
				return err
			}
			byTag := str(id.ImageTag) != ""
			if !byTag || len(img.Tags) == 1 {
				parents, err := referencedBy(tx, repo, d)
				if err != nil {
					return err
				}
				if len(parents) > 0 {
					out.Failures = append(out.Failures, imageFailure(id, api.ImageFailureCodeImageReferencedByManifestList,
						"Requested image referenced by manifest list: ["+strings.Join(parents, ", ")+"]"))
					return nil
				}
			}
			if byTag && len(img.Tags) > 1 {
				if _, _, err := removeTag(tx, repo, *id.ImageTag); err != nil {
					return err
				}
				evs = append(evs, imageEvent{repo: repo, action: "DELETE", digest: d, tag: *id.ImageTag})
				out.ImageIds = append(out.ImageIds, api.ImageIdentifier{ImageDigest: new(d), ImageTag: new(*id.ImageTag)})
				return nil
			}
			if err := s.deleteImage(tx, repo, d, &evs); err != nil {
				return err
			}
			out.ImageIds = append(out.ImageIds, imageIDs(&img)...)
			return nil
		})
		if err != nil {
			return err
		}
		return s.publishImageEvents(ctx, tx, evs)
	})
	if err != nil {
		return nil, apiError(err)
	}
	s.notify()
	return out, nil
}

// PutImage stores a manifest whose blobs were uploaded (with the layer
// API or docker), optionally tagging it.
func (s *Service) PutImage(ctx context.Context, in *api.PutImageRequest) (*api.PutImageResponse, error) {
	repo, err := s.authorizedRepo(ctx, in.RegistryId, *in.RepositoryName, registry.ActionPutImage)
	if err != nil {
		return nil, err
	}
	p := putRequest{repo: repo, body: []byte(*in.ImageManifest), contentType: str(in.ImageManifestMediaType), digest: str(in.ImageDigest), strict: true}
	if t := str(in.ImageTag); t != "" {
		p.tags = []string{t}
	}
	res, err := s.putImage(ctx, p)
	if err != nil {
		return nil, apiError(err)
	}
	return &api.PutImageResponse{Image: &api.Image{RegistryId: new(repo.Account), RepositoryName: new(repo.Name),
		ImageId:       &api.ImageIdentifier{ImageDigest: new(res.digest), ImageTag: in.ImageTag},
		ImageManifest: in.ImageManifest, ImageManifestMediaType: new(res.manifest.MediaType)}}, nil
}

// ListImageReferrers lists the artifacts whose subject is an image.
func (s *Service) ListImageReferrers(ctx context.Context, in *api.ListImageReferrersRequest) (*api.ListImageReferrersResponse, error) {
	repo, err := s.authorizedRepo(ctx, in.RegistryId, *in.RepositoryName, registry.ActionBatchGetImage)
	if err != nil {
		return nil, err
	}
	refs, err := s.Referrers(ctx, repo, registry.Digest(*in.SubjectId.ImageDigest))
	if err != nil {
		var re *registry.Error
		if errors.As(err, &re) && re.Code == registry.CodeNameUnknown {
			return nil, apiError(repoNotFound(repo))
		}
		return nil, err
	}
	out := &api.ListImageReferrersResponse{Referrers: api.ImageReferrerList{}}
	for _, r := range refs {
		if in.Filter != nil && len(in.Filter.ArtifactTypes) > 0 && !slices.Contains(in.Filter.ArtifactTypes, r.ArtifactType) {
			continue
		}
		ref := api.ImageReferrer{Digest: new(string(r.Digest)), MediaType: new(r.MediaType), Size: new(r.Size),
			ArtifactStatus: new(api.ArtifactStatusACTIVE), Annotations: r.Annotations}
		if r.ArtifactType != "" {
			ref.ArtifactType = new(r.ArtifactType)
		}
		out.Referrers = append(out.Referrers, ref)
	}
	return out, nil
}

// ----- scanning

// scanResult is a basic scan's outcome: overcast has no vulnerability
// database, so every scan completes at once with no findings.
type scanResult struct {
	CompletedAt time.Time `json:"completedAt"`
}

func scanStatus(*scanResult) *api.ImageScanStatus {
	return &api.ImageScanStatus{Status: new(api.ScanStatusCOMPLETE), Description: new("The scan was completed successfully.")}
}

func (s *Service) publishScanEvent(ctx context.Context, tx store.Tx, repo registry.Repo, img image) error {
	if s.Bus == nil {
		return nil
	}
	b, _ := json.Marshal(map[string]any{"scan-status": "COMPLETE", "repository-name": repo.Name,
		"image-digest": img.Digest, "image-tags": nonNilTags(img.Tags), "finding-severity-counts": map[string]int{}})
	return s.publish(ctx, tx, bus.Event{Source: "aws.ecr", Type: "ECR Image Scan", Account: repo.Account, Region: repo.Region,
		Resources: []string{repoOf(repo).arn(repo.Name)}, Detail: b})
}

func nonNilTags(t []string) []string {
	if t == nil {
		return []string{}
	}
	return t
}

// scanQuota is AWS's limit of one basic scan per image per day.
const scanQuota = 24 * time.Hour

// StartImageScan runs a basic scan (see scanResult).
func (s *Service) StartImageScan(ctx context.Context, in *api.StartImageScanRequest) (*api.StartImageScanResponse, error) {
	repo, err := s.authorizedRepo(ctx, in.RegistryId, *in.RepositoryName, "ecr:StartImageScan")
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	var d string
	err = store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		var err error
		if d, err = resolveOneImage(tx, repo, *in.ImageId); err != nil {
			return err
		}
		img, ver, err := getImage(tx, repo, d)
		if err != nil {
			return err
		}
		if img.Scan != nil && now.Sub(img.Scan.CompletedAt) < scanQuota {
			return api.NewLimitExceededException("The scan quota per image has been exceeded. Wait and try again.")
		}
		img.Scan = &scanResult{CompletedAt: now}
		if _, err := store.PutJSON(tx, imagesTable, imageKey(repo, d), img, ver); err != nil {
			return err
		}
		return s.publishScanEvent(ctx, tx, repo, img)
	})
	if err != nil {
		return nil, apiError(err)
	}
	s.notify()
	return &api.StartImageScanResponse{RegistryId: new(repo.Account), RepositoryName: new(repo.Name),
		ImageId:         &api.ImageIdentifier{ImageDigest: new(d), ImageTag: in.ImageId.ImageTag},
		ImageScanStatus: &api.ImageScanStatus{Status: new(api.ScanStatusINPROGRESS), Description: new("The scan is in progress.")}}, nil
}

// DescribeImageScanFindings reports the stored scan of an image.
func (s *Service) DescribeImageScanFindings(ctx context.Context, in *api.DescribeImageScanFindingsRequest) (*api.DescribeImageScanFindingsResponse, error) {
	repo, err := s.authorizedRepo(ctx, in.RegistryId, *in.RepositoryName, "ecr:DescribeImageScanFindings")
	if err != nil {
		return nil, err
	}
	var img image
	err = s.Store.View(ctx, func(tx store.Tx) error {
		d, err := resolveOneImage(tx, repo, *in.ImageId)
		if err != nil {
			return err
		}
		img, _, err = getImage(tx, repo, d)
		return err
	})
	if err != nil {
		return nil, apiError(err)
	}
	if img.Scan == nil {
		return nil, api.NewScanNotFoundException("Image scan does not exist for the image with '%s' in the repository with name '%s' in the registry with id '%s'", imageIDString(*in.ImageId), repo.Name, repo.Account)
	}
	return &api.DescribeImageScanFindingsResponse{RegistryId: new(repo.Account), RepositoryName: new(repo.Name),
		ImageId:         &api.ImageIdentifier{ImageDigest: new(img.Digest), ImageTag: in.ImageId.ImageTag},
		ImageScanStatus: scanStatus(img.Scan),
		ImageScanFindings: &api.ImageScanFindings{ImageScanCompletedAt: new(img.Scan.CompletedAt), VulnerabilitySourceUpdatedAt: new(img.Scan.CompletedAt),
			FindingSeverityCounts: api.FindingSeverityCounts{}, Findings: api.ImageScanFindingList{}}}, nil
}
