package ecr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"

	"overcast/internal/bus"
	"overcast/internal/ecr/registry"
	"overcast/internal/store"
)

// image is an image's record: one manifest (or index) in a repository.
type image struct {
	Digest    string `json:"digest"`
	MediaType string `json:"mediaType"`
	// ArtifactType is the config's media type (ECR's artifactMediaType),
	// or the manifest's artifactType.
	ArtifactType string `json:"artifactType,omitempty"`
	ConfigType   string `json:"configType,omitempty"`
	// Size is ECR's imageSizeInBytes: the layers' total, for an index the
	// largest of its manifests.
	Size         int64      `json:"size"`
	ManifestSize int64      `json:"manifestSize"`
	PushedAt     time.Time  `json:"pushedAt"`
	LastPull     *time.Time `json:"lastPull,omitempty"`
	// Blobs are the digests of the blobs the image needs (config and
	// layers): what garbage collection keeps.
	Blobs []string `json:"blobs,omitempty"`
	// Children are an index's manifests.
	Children []string `json:"children,omitempty"`
	Subject  string   `json:"subject,omitempty"`
	// Tags point at this image, sorted; the tags table is authoritative,
	// this copy lets listings read one record per image.
	Tags []string    `json:"tags,omitempty"`
	Scan *scanResult `json:"scan,omitempty"`
}

func getImage(tx store.Tx, repo registry.Repo, d string) (image, int64, error) {
	var img image
	ver, err := store.GetJSON(tx, imagesTable, imageKey(repo, d), &img)
	return img, ver, err
}

type tagRecord struct {
	Digest string `json:"digest"`
}

func getTag(tx store.Tx, repo registry.Repo, tag string) (string, error) {
	var t tagRecord
	_, err := store.GetJSON(tx, tagsTable, tagKey(repo, tag), &t)
	return t.Digest, err
}

// imageEvent is an "ECR Image Action" to publish, EventBridge's shape.
type imageEvent struct {
	repo   registry.Repo
	action string // PUSH or DELETE
	digest string
	tag    string
}

func (s *Service) publishImageEvents(ctx context.Context, tx store.Tx, evs []imageEvent) error {
	if s.Bus == nil {
		return nil
	}
	var out []bus.Event
	for _, e := range evs {
		detail := map[string]string{
			"result": "SUCCESS", "repository-name": e.repo.Name, "image-digest": e.digest, "action-type": e.action,
		}
		if e.tag != "" {
			detail["image-tag"] = e.tag
		}
		b, _ := json.Marshal(detail)
		out = append(out, bus.Event{Source: "aws.ecr", Type: "ECR Image Action", Account: e.repo.Account, Region: e.repo.Region,
			Resources: []string{repoOf(e.repo).arn(e.repo.Name)}, Detail: b})
	}
	return s.publish(ctx, tx, out...)
}

// putRequest is a manifest to store, from docker or PutImage.
type putRequest struct {
	repo        registry.Repo
	body        []byte
	contentType string
	// digest, when set, is the digest the manifest must have (a push by
	// digest, or PutImage's imageDigest); its algorithm is used.
	digest string
	tags   []string
	// strict makes a push that changes nothing an error, as PutImage's
	// ImageAlreadyExistsException; docker's pushes are idempotent.
	strict bool
}

type putResult struct {
	digest   string
	manifest *registry.Manifest
	image    image
}

// putImage stores a manifest and moves its tags, checking what ECR checks:
// the repository exists, every blob (or, for an index, every manifest) is
// in it, immutable tags stay.
func (s *Service) putImage(ctx context.Context, p putRequest) (putResult, error) {
	if len(p.body) > registry.MaxManifestSize {
		return putResult{}, derr(kindManifestInvalid, "manifest is larger than %d bytes", registry.MaxManifestSize)
	}
	m, err := registry.ParseManifest(p.contentType, p.body)
	if err != nil {
		var re *registry.Error
		if errors.As(err, &re) {
			return putResult{}, derr(kindManifestInvalid, "%s", re.Message)
		}
		return putResult{}, err
	}
	alg := registry.Canonical
	if p.digest != "" {
		want, ok := registry.ParseDigest(p.digest)
		if !ok {
			return putResult{}, derr(kindDigestMismatch, "invalid digest %q", p.digest)
		}
		alg = want.Algorithm()
	}
	d := string(alg.FromBytes(p.body))
	if p.digest != "" && d != p.digest {
		return putResult{}, derr(kindDigestMismatch, "The specified image digest %s does not match the digest %s calculated for the manifest.", p.digest, d)
	}
	for _, t := range p.tags {
		if !registry.ValidTag(t) {
			return putResult{}, derr(kindTagInvalid, "Invalid parameter at 'imageTag' failed to satisfy constraint: 'tag %q must match [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}'", t)
		}
	}
	now := s.Now().UTC()
	var res putResult
	var evs []imageEvent
	var scanned bool
	err = store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		evs, scanned = nil, false
		rec, _, err := getRepo(tx, p.repo)
		if err != nil {
			return err
		}
		img, ver, err := getImage(tx, p.repo, d)
		exists := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if !exists {
			if img, err = s.newImage(tx, p.repo, m, d, int64(len(p.body)), now); err != nil {
				return err
			}
		}
		var moved []string
		for _, tag := range p.tags {
			cur, err := getTag(tx, p.repo, tag)
			switch {
			case errors.Is(err, store.ErrNotFound):
			case err != nil:
				return err
			case cur == d:
				continue
			case rec.immutable(tag):
				return tagImmutable(p.repo, tag)
			}
			if cur != "" {
				if err := untagImage(tx, p.repo, cur, tag); err != nil {
					return err
				}
			}
			if _, err := store.PutJSON(tx, tagsTable, tagKey(p.repo, tag), tagRecord{Digest: d}, store.AnyVersion); err != nil {
				return err
			}
			img.Tags = insertSorted(img.Tags, tag)
			moved = append(moved, tag)
		}
		if exists && len(moved) == 0 {
			if p.strict {
				tag := ""
				if len(p.tags) > 0 {
					tag = p.tags[0]
				}
				return derr(kindImageExists, "Image with digest '%s' and tag '%s' already exists in the repository with name '%s' in registry with id '%s'", d, tag, p.repo.Name, p.repo.Account)
			}
			res = putResult{digest: d, manifest: m, image: img}
			return nil
		}
		if !exists {
			if rec.ScanOnPush {
				img.Scan = &scanResult{CompletedAt: now}
				scanned = true
			}
			val := make([]byte, 0, len(m.MediaType)+1+len(p.body))
			val = append(append(append(val, m.MediaType...), '\n'), p.body...)
			if _, err := tx.Put(manifestsTable, imageKey(p.repo, d), val, store.AnyVersion); err != nil {
				return err
			}
			if m.Subject != nil {
				if err := putReferrer(tx, p.repo, d, m, int64(len(p.body))); err != nil {
					return err
				}
			}
			ver = 0
		}
		if _, err := store.PutJSON(tx, imagesTable, imageKey(p.repo, d), img, ver); err != nil {
			return err
		}
		if len(moved) == 0 {
			evs = append(evs, imageEvent{repo: p.repo, action: "PUSH", digest: d})
		}
		for _, t := range moved {
			evs = append(evs, imageEvent{repo: p.repo, action: "PUSH", digest: d, tag: t})
		}
		if err := s.publishImageEvents(ctx, tx, evs); err != nil {
			return err
		}
		if scanned {
			if err := s.publishScanEvent(ctx, tx, p.repo, img); err != nil {
				return err
			}
		}
		res = putResult{digest: d, manifest: m, image: img}
		return nil
	})
	if err != nil {
		return putResult{}, err
	}
	if len(evs) > 0 || scanned {
		s.notify()
	}
	return res, nil
}

// newImage checks that what the manifest refers to is in the repository
// and builds its record.
func (s *Service) newImage(tx store.Tx, repo registry.Repo, m *registry.Manifest, d string, manifestSize int64, now time.Time) (image, error) {
	// An index has no config, so its ConfigType stays empty.
	img := image{Digest: d, MediaType: m.MediaType, ArtifactType: m.ArtifactType, ConfigType: m.Config.MediaType, ManifestSize: manifestSize, PushedAt: now}
	if m.Subject != nil {
		img.Subject = string(m.Subject.Digest)
	}
	var missing []string
	for _, b := range m.Blobs() {
		ok, err := hasLayer(tx, repo, string(b.Digest))
		if err != nil {
			return img, err
		}
		if !ok {
			missing = append(missing, string(b.Digest))
			continue
		}
		if !slices.Contains(img.Blobs, string(b.Digest)) {
			img.Blobs = append(img.Blobs, string(b.Digest))
		}
	}
	if len(missing) > 0 {
		return img, derr(kindLayersMissing, "Layers with digests '[%s]' required for pushing image into repository with name '%s' in the registry with id '%s' do not exist",
			strings.Join(missing, ", "), repo.Name, repo.Account)
	}
	img.Size = m.LayerSize()
	if m.IsIndex() {
		img.Size = 0
		for _, c := range m.Manifests {
			child, _, err := getImage(tx, repo, string(c.Digest))
			if errors.Is(err, store.ErrNotFound) {
				missing = append(missing, string(c.Digest))
				continue
			}
			if err != nil {
				return img, err
			}
			img.Size = max(img.Size, child.Size)
			img.Children = append(img.Children, string(c.Digest))
		}
		if len(missing) > 0 {
			return img, derr(kindImagesMissing, "Some of the referenced images [%s] do not exist in the repository with name '%s' in the registry with id '%s'",
				strings.Join(missing, ", "), repo.Name, repo.Account)
		}
	}
	return img, nil
}

func insertSorted(list []string, s string) []string {
	i, found := slices.BinarySearch(list, s)
	if found {
		return list
	}
	return slices.Insert(list, i, s)
}

// untagImage drops tag from the record of the image it pointed at.
func untagImage(tx store.Tx, repo registry.Repo, d, tag string) error {
	img, ver, err := getImage(tx, repo, d)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	img.Tags = slices.DeleteFunc(img.Tags, func(t string) bool { return t == tag })
	_, err = store.PutJSON(tx, imagesTable, imageKey(repo, d), img, ver)
	return err
}

// removeTag deletes a tag; it reports whether the tag existed.
func removeTag(tx store.Tx, repo registry.Repo, tag string) (string, bool, error) {
	d, err := getTag(tx, repo, tag)
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if err := tx.Delete(tagsTable, tagKey(repo, tag), store.AnyVersion); err != nil {
		return "", false, err
	}
	return d, true, untagImage(tx, repo, d, tag)
}

// deleteImage deletes an image and its tags (not its blobs: the garbage
// collector reclaims what nothing references).
func (s *Service) deleteImage(tx store.Tx, repo registry.Repo, d string, evs *[]imageEvent) error {
	img, _, err := getImage(tx, repo, d)
	if err != nil {
		return err
	}
	for _, t := range img.Tags {
		if err := tx.Delete(tagsTable, tagKey(repo, t), store.AnyVersion); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	for _, k := range []struct{ table, key string }{
		{imagesTable, imageKey(repo, d)},
		{manifestsTable, imageKey(repo, d)},
	} {
		if err := tx.Delete(k.table, k.key, store.AnyVersion); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	if img.Subject != "" {
		if err := tx.Delete(referrersTable, referrersPrefix(repo, img.Subject)+d, store.AnyVersion); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	tag := ""
	if len(img.Tags) > 0 {
		tag = img.Tags[0]
	}
	*evs = append(*evs, imageEvent{repo: repo, action: "DELETE", digest: d, tag: tag})
	return nil
}

func putReferrer(tx store.Tx, repo registry.Repo, d string, m *registry.Manifest, size int64) error {
	desc := registry.Descriptor{MediaType: m.MediaType, Digest: registry.Digest(d), Size: size, ArtifactType: m.ArtifactType, Annotations: m.Annotations}
	_, err := store.PutJSON(tx, referrersTable, referrersPrefix(repo, string(m.Subject.Digest))+d, desc, store.AnyVersion)
	return err
}

// repoExists tells a missing image from a missing repository.
func (s *Service) repoExists(ctx context.Context, repo registry.Repo) error {
	return s.Store.View(ctx, func(tx store.Tx) error {
		_, _, err := getRepo(tx, repo)
		return err
	})
}

// ----- registry.Backend: manifests

// GetManifest implements registry.Backend.
func (s *Service) GetManifest(ctx context.Context, repo registry.Repo, ref string) (registry.Content, error) {
	var val []byte
	var d string
	err := s.Store.View(ctx, func(tx store.Tx) error {
		d = ref
		if !registry.LooksLikeDigest(ref) {
			var err error
			if d, err = getTag(tx, repo, ref); err != nil {
				return err
			}
		}
		it, err := tx.Get(manifestsTable, imageKey(repo, d))
		val = it.Value
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		if err := s.repoExists(ctx, repo); err != nil {
			return registry.Content{}, registryError(err)
		}
		return registry.Content{}, registry.Errorf(registry.CodeManifestUnknown, "Requested image not found")
	}
	if err != nil {
		return registry.Content{}, err
	}
	mt, body, _ := bytes.Cut(val, []byte{'\n'})
	s.recordPull(imageKey(repo, d), s.Now())
	return registry.Content{MediaType: string(mt), Digest: registry.Digest(d), Body: body}, nil
}

// PutManifest implements registry.Backend.
func (s *Service) PutManifest(ctx context.Context, repo registry.Repo, ref string, tags []string, contentType string, body []byte) (registry.Digest, *registry.Manifest, error) {
	p := putRequest{repo: repo, body: body, contentType: contentType, tags: tags}
	if registry.LooksLikeDigest(ref) {
		if _, ok := registry.ParseDigest(ref); !ok {
			return "", nil, registry.Errorf(registry.CodeDigestInvalid, "invalid digest %q", ref)
		}
		p.digest = ref
	} else {
		if !registry.ValidTag(ref) {
			return "", nil, registry.Errorf(registry.CodeTagInvalid, "invalid tag %q", ref)
		}
		p.tags = append([]string{ref}, tags...)
	}
	res, err := s.putImage(ctx, p)
	if err != nil {
		return "", nil, registryError(err)
	}
	return registry.Digest(res.digest), res.manifest, nil
}

// DeleteManifest implements registry.Backend: by tag it untags, by digest
// it deletes the image and its tags.
func (s *Service) DeleteManifest(ctx context.Context, repo registry.Repo, ref string) error {
	var evs []imageEvent
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		evs = nil
		if _, _, err := getRepo(tx, repo); err != nil {
			return err
		}
		if !registry.LooksLikeDigest(ref) {
			d, ok, err := removeTag(tx, repo, ref)
			if err != nil {
				return err
			}
			if !ok {
				return registry.Errorf(registry.CodeManifestUnknown, "Requested image not found")
			}
			evs = append(evs, imageEvent{repo: repo, action: "DELETE", digest: d, tag: ref})
			return s.publishImageEvents(ctx, tx, evs)
		}
		if _, ok := registry.ParseDigest(ref); !ok {
			return registry.Errorf(registry.CodeDigestInvalid, "invalid digest %q", ref)
		}
		err := s.deleteImage(tx, repo, ref, &evs)
		if errors.Is(err, store.ErrNotFound) {
			return registry.Errorf(registry.CodeManifestUnknown, "Requested image not found")
		}
		if err != nil {
			return err
		}
		return s.publishImageEvents(ctx, tx, evs)
	})
	if err != nil {
		return registryError(err)
	}
	s.notify()
	return nil
}

// Tags implements registry.Backend.
func (s *Service) Tags(ctx context.Context, repo registry.Repo, last string, n int) ([]string, error) {
	tags := []string{}
	err := s.Store.View(ctx, func(tx store.Tx) error {
		if _, _, err := getRepo(tx, repo); err != nil {
			return err
		}
		opt := store.ScanOptions{Prefix: tagsPrefix(repo), Limit: n}
		if last != "" {
			opt.After = tagKey(repo, last)
		}
		return tx.Scan(tagsTable, opt, func(it store.Item) error {
			tags = append(tags, strings.TrimPrefix(it.Key, tagsPrefix(repo)))
			return nil
		})
	})
	if err != nil {
		return nil, registryError(err)
	}
	return tags, nil
}

// Referrers implements registry.Backend.
func (s *Service) Referrers(ctx context.Context, repo registry.Repo, d registry.Digest) ([]registry.Descriptor, error) {
	var out []registry.Descriptor
	err := s.Store.View(ctx, func(tx store.Tx) error {
		if _, _, err := getRepo(tx, repo); err != nil {
			return err
		}
		return store.ScanJSON(tx, referrersTable, store.ScanOptions{Prefix: referrersPrefix(repo, string(d))}, func(_ string, desc registry.Descriptor, _ int64) error {
			out = append(out, desc)
			return nil
		})
	})
	if err != nil {
		return nil, registryError(err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Digest < out[j].Digest })
	return out, nil
}
