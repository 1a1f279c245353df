package registry

import (
	"encoding/json"
	"mime"
	"strings"
)

// Manifest media types the registry stores.
const (
	MediaTypeOCIManifest        = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeOCIIndex           = "application/vnd.oci.image.index.v1+json"
	MediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeDockerSchema1      = "application/vnd.docker.distribution.manifest.v1+json"
	MediaTypeDockerSchema1JWS   = "application/vnd.docker.distribution.manifest.v1+prettyjws"
)

// MaxManifestSize bounds a manifest body: the spec asks registries to take
// at least 4 MiB.
const MaxManifestSize = 4 << 20

// Descriptor points at content, as manifests and the referrers API write it.
type Descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       Digest            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	URLs         []string          `json:"urls,omitempty"`
	Platform     *Platform         `json:"platform,omitempty"`
}

// Platform is an index entry's platform.
type Platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Variant      string `json:"variant,omitempty"`
}

// Manifest is what the registry (and ECR's PutImage) needs to know of a
// manifest or index: what it refers to and how it is typed.
type Manifest struct {
	MediaType    string
	ArtifactType string // manifest's own, or its config's media type
	Config       *Descriptor
	Layers       []Descriptor
	Manifests    []Descriptor // an index's entries
	Subject      *Descriptor
	Annotations  map[string]string
}

// IsIndex reports whether the manifest is an index (manifest list).
func (m *Manifest) IsIndex() bool {
	return m.MediaType == MediaTypeOCIIndex || m.MediaType == MediaTypeDockerManifestList
}

// Blobs are the blobs the manifest needs in its repository: the config and
// the layers, except non-distributable layers, which live elsewhere by
// definition.
func (m *Manifest) Blobs() []Descriptor {
	var out []Descriptor
	if m.Config != nil {
		out = append(out, *m.Config)
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

// rawManifest is the union of the fields of every manifest type.
type rawManifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	ArtifactType  string            `json:"artifactType"`
	Config        *Descriptor       `json:"config"`
	Layers        []Descriptor      `json:"layers"`
	Manifests     []Descriptor      `json:"manifests"`
	Subject       *Descriptor       `json:"subject"`
	Annotations   map[string]string `json:"annotations"`
	FSLayers      json.RawMessage   `json:"fsLayers"`
}

// ParseManifest checks a manifest body sent with contentType (which may be
// empty or generic, in which case the body's mediaType decides).
func ParseManifest(contentType string, body []byte) (*Manifest, error) {
	var raw rawManifest
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
			mt = MediaTypeOCIIndex
		case raw.Config != nil:
			mt = MediaTypeOCIManifest
		}
	}
	m := &Manifest{MediaType: mt, ArtifactType: raw.ArtifactType, Subject: raw.Subject, Annotations: raw.Annotations}
	switch mt {
	case MediaTypeOCIManifest, MediaTypeDockerManifest:
		if raw.SchemaVersion != 2 {
			return nil, Errorf(CodeManifestInvalid, "manifest invalid: schemaVersion must be 2")
		}
		if raw.Config == nil {
			return nil, Errorf(CodeManifestInvalid, "manifest invalid: config descriptor is missing")
		}
		m.Config, m.Layers = raw.Config, raw.Layers
		if m.ArtifactType == "" {
			m.ArtifactType = raw.Config.MediaType
		}
	case MediaTypeOCIIndex, MediaTypeDockerManifestList:
		if raw.SchemaVersion != 2 {
			return nil, Errorf(CodeManifestInvalid, "manifest invalid: schemaVersion must be 2")
		}
		m.Manifests = raw.Manifests
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
	if m.Config != nil {
		out = append(out, *m.Config)
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
