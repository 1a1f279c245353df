package registry

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"overcast/internal/tabletest"
)

func TestParseRange(t *testing.T) {
	tests := []struct {
		header           string
		size             int64
		wantOff, wantLen int64
		wantOK           bool
	}{
		{"bytes=500-1499", 2048, 500, 1000, true},
		{"bytes=500-", 2048, 500, 1548, true},
		{"bytes=-500", 2048, 1548, 500, true},
		{"bytes=2000-5000", 2048, 2000, 48, true},
		{"bytes=500-0", 2048, 0, 0, false},
		{"bytes=5000-10000", 2048, 0, 0, false},
		{"bytes=0-1,5-6", 2048, 0, 0, false},
		{"items=0-1", 2048, 0, 0, false},
		{"bytes=-0", 2048, 0, 0, false},
	}
	for _, tt := range tests {
		off, n, ok := parseRange(tt.header, tt.size)
		if ok != tt.wantOK || (ok && (off != tt.wantOff || n != tt.wantLen)) {
			t.Errorf("parseRange(%q, %d): got %d+%d %v, want %d+%d %v", tt.header, tt.size, off, n, ok, tt.wantOff, tt.wantLen, tt.wantOK)
		}
	}
}

func TestParseManifest(t *testing.T) {
	const d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	const d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	docker := `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
		"config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":10,"digest":"` + d1 + `"},
		"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":20,"digest":"` + d2 + `"},
		          {"mediaType":"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip","size":30,"digest":"` + d2 + `"}]}`
	tests := []struct {
		name, contentType, body string
		wantType, wantArtifact  string
		wantBlobs               int
		wantErr                 bool
	}{
		{"docker schema 2", MediaTypeDockerManifest, docker, MediaTypeDockerManifest, "application/vnd.docker.container.image.v1+json", 2, false},
		{"type from the body", "", docker, MediaTypeDockerManifest, "application/vnd.docker.container.image.v1+json", 2, false},
		{"content type with parameters", MediaTypeDockerManifest + "; charset=utf-8", docker, MediaTypeDockerManifest, "application/vnd.docker.container.image.v1+json", 2, false},
		{"mismatched types", ocispec.MediaTypeImageManifest, docker, "", "", 0, true},
		{"OCI artifact", ocispec.MediaTypeImageManifest, `{"schemaVersion":2,"artifactType":"application/x.sbom","config":{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"` + d1 + `"},"layers":[]}`,
			ocispec.MediaTypeImageManifest, "application/x.sbom", 1, false},
		{"index", ocispec.MediaTypeImageIndex, `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":5,"digest":"` + d1 + `","platform":{"os":"linux","architecture":"arm64"}}]}`,
			ocispec.MediaTypeImageIndex, "", 0, false},
		{"schema 1", MediaTypeDockerSchema1JWS, `{"schemaVersion":1,"fsLayers":[]}`, "", "", 0, true},
		{"bad digest", ocispec.MediaTypeImageManifest, `{"schemaVersion":2,"config":{"mediaType":"x","size":2,"digest":"sha256:nope"}}`, "", "", 0, true},
		{"no config", ocispec.MediaTypeImageManifest, `{"schemaVersion":2,"layers":[]}`, "", "", 0, true},
		{"not JSON", ocispec.MediaTypeImageManifest, `{`, "", "", 0, true},
		{"unknown type", "application/x-whatever", `{"schemaVersion":2}`, "", "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseManifest(tt.contentType, []byte(tt.body))
			if tt.wantErr {
				if e, ok := err.(*Error); !ok || e.Code != CodeManifestInvalid {
					t.Fatalf("got %v, want MANIFEST_INVALID", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := []any{m.MediaType, m.ArtifactType, len(m.Blobs())}
			if diff := cmp.Diff([]any{tt.wantType, tt.wantArtifact, tt.wantBlobs}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseRepo(t *testing.T) {
	id := Identity{Account: "000000000000", Region: "us-east-1"}
	// A name that is not valid still comes back, for the error to quote.
	type parsed struct {
		Repo  Repo
		Valid bool
	}
	parseRepo := func(path string) parsed {
		r, ok := ParseRepo(path, id)
		return parsed{r, ok}
	}
	tabletest.Run(t, "ParseRepo", parseRepo, map[string]parsed{
		"app":      {Repo{"000000000000", "us-east-1", "app"}, true},
		"team/app": {Repo{"000000000000", "us-east-1", "team/app"}, true},
		"111111111111.dkr.ecr.eu-west-1.amazonaws.com/team/app": {Repo{"111111111111", "eu-west-1", "team/app"}, true},
		"App":  {Repo{"000000000000", "us-east-1", "App"}, false},
		"a":    {Repo{"000000000000", "us-east-1", "a"}, false},
		"a//b": {Repo{"000000000000", "us-east-1", "a//b"}, false},
	})
}

func TestValidTag(t *testing.T) {
	for tag, want := range map[string]bool{"latest": true, "v1.2.3-rc_1": true, "_x": true, ".x": false, "-x": false, "a:b": false, "": false} {
		if got := ValidTag(tag); got != want {
			t.Errorf("ValidTag(%q): got %v, want %v", tag, got, want)
		}
	}
}

func TestParseDigest(t *testing.T) {
	hex64 := strings.Repeat("ab", 32)
	tests := map[string]bool{
		"sha256:" + hex64:                      true,
		"sha512:" + hex64 + hex64:              true,
		"sha384:" + strings.Repeat("ab", 48):   false, // known to go-digest, not registered by the spec
		"sha256:" + strings.ToUpper(hex64):     false,
		"sha256:" + hex64[:62]:                 false,
		"sha256:" + hex64 + ":" + hex64:        false,
		"md5:d41d8cd98f00b204e9800998ecf8427e": false,
		"sha256:":                              false,
		"latest":                               false,
		"":                                     false,
	}
	for s, want := range tests {
		if _, got := ParseDigest(s); got != want {
			t.Errorf("ParseDigest(%q): got %v, want %v", s, got, want)
		}
	}
}

func TestRepoRoutes(t *testing.T) {
	tests := []struct {
		path              string
		wantRoute         int // index in repoRoutes, -1 for none
		wantName, wantArg string
	}{
		{"team/app/tags/list", 0, "team/app", ""},
		{"app/manifests/v1", 1, "app", "v1"},
		{"a/b/c/blobs/uploads/", 2, "a/b/c", ""},
		{"app/blobs/uploads/123", 2, "app", "123"},
		{"app/blobs/uploads", 3, "app", ""},
		{"app/blobs/sha256:ab", 4, "app", "sha256:ab"},
		{"app/referrers/sha256:ab", 5, "app", "sha256:ab"},
		{"tags/list", -1, "", ""},
		{"app/blobs", -1, "", ""},
		{"app/other/x", -1, "", ""},
	}
	for _, tt := range tests {
		segs := strings.Split(tt.path, "/")
		route, name, arg := -1, "", ""
		for i, rt := range repoRoutes {
			if n, a, ok := rt.match(segs); ok {
				route, name, arg = i, n, a
				break
			}
		}
		if route != tt.wantRoute || name != tt.wantName || arg != tt.wantArg {
			t.Errorf("%s: got route %d, name %q, arg %q; want %d, %q, %q", tt.path, route, name, arg, tt.wantRoute, tt.wantName, tt.wantArg)
		}
	}
}
