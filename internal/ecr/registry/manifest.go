package registry

import (
	"encoding/json"
	"mime"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Docker's manifest media types, which image-spec does not define (the OCI
// ones are ocispec.MediaTypeImageManifest and ocispec.MediaTypeImageIndex).
const (
	MediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeDockerSchema1      = "application/vnd.docker.distribution.manifest.v1+json"
	MediaTypeDockerSchema1JWS   = "application/vnd.docker.distribution.manifest.v1+prettyjws"
)

// MaxManifestSize bounds a manifest body: the spec asks registries to take
// at least 4 MiB.
const MaxManifestSize = 4 << 20

// Descriptor is image-spec's, named here for package ecr like Digest.
type Descriptor = ocispec.Descriptor

// Manifest is a manifest or an index, which one value holds: image-spec's
// image manifest (Docker's schema 2 has the same shape) and an index's
// entries (image-spec's Index.Manifests, Docker's manifest list). An index
// has no config or layers, an image manifest no entries.
type Manifest struct {
	ocispec.Manifest
	Manifests []Descriptor `json:"manifests"`
}

// IsIndex reports whether the manifest is an index (manifest list).
func (m *Manifest) IsIndex() bool {
	return m.MediaType == ocispec.MediaTypeImageIndex || m.MediaType == MediaTypeDockerManifestList
}

// Blobs are the blobs the manifest needs in its repository: the config and
// the layers, except non-distributable layers, which live elsewhere by
// definition.
func (m *Manifest) Blobs() []Descriptor {
	var out []Descriptor
	if !m.IsIndex() {
		out = append(out, m.Config)
	}
	for _, l := range m.Layers {
		if nonDistributable(l.MediaType) {
			continue
		}
		out = append(out, l)
	}
	return out
}

func nonDistributable(mediaType string) bool {
	return strings.Contains(mediaType, ".nondistributable.") ||
		strings.Contains(mediaType, ".rootfs.foreign.")
}

// LayerSize is the sum of the layer sizes: what ECR reports as an image's
// size.
func (m *Manifest) LayerSize() int64 {
	var n int64
	for _, l := range m.Layers {
		n += l.Size
	}
	return n
}

// manifestBody reads any manifest body: the config through a pointer, so
// that a missing one is told from an empty one, and schema 1's layer list,
// which gives that format away.
type manifestBody struct {
	Manifest
	Config   *Descriptor     `json:"config"`
	FSLayers json.RawMessage `json:"fsLayers"`
}

// ParseManifest checks a manifest body sent with contentType (which may be
// empty or generic, in which case the body's mediaType decides). The result
// has the media type the manifest was taken as, and an image manifest
// without an artifactType has its config's media type there, which is what
// the referrers API and ECR report.
func ParseManifest(contentType string, body []byte) (*Manifest, error) {
	var raw manifestBody
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, Errorf(CodeManifestInvalid, "manifest invalid: %v", err)
	}
	if raw.SchemaVersion == 1 || raw.FSLayers != nil {
		return nil, Errorf(CodeManifestInvalid, "Docker image manifest schema 1 is not supported; push with a current client (schema 2 or OCI)")
	}
	mt := baseMediaType(contentType)
	switch {
	case mt == "" || mt == "application/json" || mt == "application/octet-stream":
		mt = raw.MediaType
	case raw.MediaType != "" && raw.MediaType != mt:
		return nil, Errorf(CodeManifestInvalid, "manifest invalid: mediaType %q in the body does not match Content-Type %q", raw.MediaType, mt)
	}
	if mt == "" {
		switch {
		case raw.Manifests != nil:
			mt = ocispec.MediaTypeImageIndex
		case raw.Config != nil:
			mt = ocispec.MediaTypeImageManifest
		}
	}
	m := &raw.Manifest
	m.MediaType = mt
	switch mt {
	case ocispec.MediaTypeImageManifest, MediaTypeDockerManifest:
		if m.SchemaVersion != 2 {
			return nil, Errorf(CodeManifestInvalid, "manifest invalid: schemaVersion must be 2")
		}
		if raw.Config == nil {
			return nil, Errorf(CodeManifestInvalid, "manifest invalid: config descriptor is missing")
		}
		m.Config, m.Manifests = *raw.Config, nil
		if m.ArtifactType == "" {
			m.ArtifactType = m.Config.MediaType
		}
	case ocispec.MediaTypeImageIndex, MediaTypeDockerManifestList:
		if m.SchemaVersion != 2 {
			return nil, Errorf(CodeManifestInvalid, "manifest invalid: schemaVersion must be 2")
		}
		m.Layers = nil
	case MediaTypeDockerSchema1, MediaTypeDockerSchema1JWS:
		return nil, Errorf(CodeManifestInvalid, "Docker image manifest schema 1 is not supported; push with a current client (schema 2 or OCI)")
	default:
		return nil, Errorf(CodeManifestInvalid, "manifest invalid: unsupported media type %q", mt)
	}
	for _, d := range m.descriptors() {
		if _, ok := ParseDigest(string(d.Digest)); !ok {
			return nil, Errorf(CodeManifestInvalid, "manifest invalid: descriptor digest %q is not a valid digest", d.Digest)
		}
		if d.Size < 0 {
			return nil, Errorf(CodeManifestInvalid, "manifest invalid: descriptor %s has a negative size", d.Digest)
		}
	}
	return m, nil
}

func (m *Manifest) descriptors() []Descriptor {
	out := append([]Descriptor(nil), m.Layers...)
	out = append(out, m.Manifests...)
	if !m.IsIndex() {
		out = append(out, m.Config)
	}
	if m.Subject != nil {
		out = append(out, *m.Subject)
	}
	return out
}

func baseMediaType(ct string) string {
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.TrimSpace(strings.ToLower(ct))
	}
	return mt
}
