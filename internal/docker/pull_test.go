package docker_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"overcast/internal/docker"
)

// testImage is the test program as a registry serves it: a gzipped layer,
// a config and a schema 2 manifest.
type testImage struct {
	layer, config, manifest []byte
	diffID                  string // the uncompressed layer's digest
}

func digestOf(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }

func makeTestImage(t testing.TB, id string, labels map[string]string) testImage {
	t.Helper()
	raw := rootfsTar(appBinary(t), id)
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	zw.Write(raw)
	zw.Close()
	img := testImage{layer: gz.Bytes(), diffID: digestOf(raw)}
	img.config, _ = json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"config":       map[string]any{"Entrypoint": []string{"/app"}, "Cmd": []string{"exit", "0", "pulled"}, "Labels": labels},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{img.diffID}},
	})
	img.manifest, _ = json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.docker.distribution.manifest.v2+json",
		"config":        map[string]any{"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(img.config), "digest": digestOf(img.config)},
		"layers":        []any{map[string]any{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(img.layer), "digest": digestOf(img.layer)}},
	})
	return img
}

// fakeRegistry serves one image as repository "hello", tag "v1", to a
// client that logs in as AWS with the right token, the way overcast's ECR
// data plane does.
type fakeRegistry struct {
	img           testImage
	token         string
	manifestReads atomic.Int32 // HEAD or GET
	authFailures  atomic.Int32
}

func (f *fakeRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if user, pass, ok := r.BasicAuth(); !ok || user != "AWS" || pass != f.token {
		if ok {
			f.authFailures.Add(1)
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"log in"}]}`, http.StatusUnauthorized)
		return
	}
	blobs := map[string][]byte{digestOf(f.img.layer): f.img.layer, digestOf(f.img.config): f.img.config}
	switch p := r.URL.Path; {
	case p == "/v2/":
		w.Write([]byte("{}"))
	case p == "/v2/hello/manifests/v1" || p == "/v2/hello/manifests/"+digestOf(f.img.manifest):
		f.manifestReads.Add(1)
		w.Header().Set("Content-Type", "application/vnd.docker.distribution.manifest.v2+json")
		w.Header().Set("Docker-Content-Digest", digestOf(f.img.manifest))
		w.Header().Set("Content-Length", fmt.Sprint(len(f.img.manifest)))
		w.Write(f.img.manifest)
	case strings.HasPrefix(p, "/v2/hello/blobs/") && blobs[strings.TrimPrefix(p, "/v2/hello/blobs/")] != nil:
		b := blobs[strings.TrimPrefix(p, "/v2/hello/blobs/")]
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.Write(b)
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`))
	}
}

// ecrAuth resolves AWS-style ECR URIs to the fake registry, as ECR's
// RegistryAuth will to overcast's own.
type ecrAuth struct {
	registry string // host:port
	token    string
}

const ecrHost = "000000000000.dkr.ecr.us-east-1.amazonaws.com/"

func (a ecrAuth) Resolve(_ context.Context, image string) (string, *docker.Credentials, bool, error) {
	rest, ok := strings.CutPrefix(image, ecrHost)
	if !ok {
		return "", nil, false, nil
	}
	return a.registry + "/" + rest, &docker.Credentials{Username: "AWS", Password: a.token, ServerAddress: a.registry}, true, nil
}

func TestPullWithRegistryAuth(t *testing.T) {
	e, ctx, labels := engineTest(t)
	reg := &fakeRegistry{img: makeTestImage(t, "pull", merge(labels, docker.ManagedLabels(testOwner, nil))), token: "token-" + runID}
	srv := httptest.NewServer(reg)
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	local := host + "/hello:v1"
	t.Cleanup(func() { e.RemoveImage(context.Background(), local, true) })

	e.SetRegistryAuth(ecrAuth{registry: host, token: "wrong"})
	if _, err := e.PullImage(ctx, ecrHost+"hello:v1"); !errors.Is(err, docker.ErrUnauthorized) || reg.authFailures.Load() == 0 {
		t.Errorf("PullImage with a wrong token: got %v after %d refusals, want ErrUnauthorized", err, reg.authFailures.Load())
	}

	e.SetRegistryAuth(ecrAuth{registry: host, token: "token-" + runID})
	reads := reg.manifestReads.Load()
	ref, err := e.EnsureImage(ctx, ecrHost+"hello:v1")
	if err != nil {
		t.Fatalf("EnsureImage: %v", err)
	}
	if ref != local || reg.manifestReads.Load() == reads {
		t.Errorf("EnsureImage: got %q without reading the manifest, want %q pulled", ref, local)
	}
	reads = reg.manifestReads.Load()
	if ref, err = e.EnsureImage(ctx, ecrHost+"hello:v1"); err != nil || ref != local || reg.manifestReads.Load() != reads {
		t.Errorf("EnsureImage of a local image: got %q, %v after %d manifest reads, want no new pull", ref, err, reg.manifestReads.Load()-reads)
	}
	if _, err := e.PullImage(ctx, ecrHost+"hello:v1"); err != nil || reg.manifestReads.Load() == reads {
		t.Errorf("PullImage: got %v without reading the manifest, want it checked again", err)
	}
	if _, err := e.PullImage(ctx, ecrHost+"hello:v2"); !errors.Is(err, docker.ErrNotFound) {
		t.Errorf("PullImage of a missing tag: got %v, want ErrNotFound", err)
	}
	// Images the RegistryAuth does not serve are pulled as named.
	if _, err := e.PullImage(ctx, host+"/hello:v2"); !errors.Is(err, docker.ErrUnauthorized) {
		t.Errorf("PullImage without credentials: got %v, want ErrUnauthorized", err)
	}

	id := run(t, e, labels, docker.ContainerSpec{Image: ref})
	if code, err := e.WaitContainer(ctx, id); code != 0 || err != nil {
		t.Fatalf("WaitContainer: %d, %v", code, err)
	}
	if got := logs(t, e, id).stdout; got != "pulled\n" {
		t.Errorf("output of the pulled image: got %q, want %q", got, "pulled\n")
	}

	// A pull's own credentials (an ECS task's) win over the Engine's.
	e.SetRegistryAuth(ecrAuth{registry: host, token: "wrong"})
	if err := e.RemoveImage(ctx, local, true); err != nil {
		t.Fatalf("RemoveImage: %v", err)
	}
	if got, err := e.EnsureImageWith(ctx, ecrHost+"hello:v1", ecrAuth{registry: host, token: "token-" + runID}); err != nil || got != local {
		t.Errorf("EnsureImageWith the right token: got %q, %v, want %q pulled", got, err, local)
	}
}

// TestLoadImage loads the same image from a `docker save` archive.
func TestLoadImage(t *testing.T) {
	e, ctx, labels := engineTest(t)
	img := makeTestImage(t, "load", merge(labels, docker.ManagedLabels(testOwner, nil)))
	ref := "overcast-test/load:" + runID
	manifest, _ := json.Marshal([]any{map[string]any{"Config": "config.json", "RepoTags": []string{ref}, "Layers": []string{"layer.tar.gz"}}})
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		data []byte
	}{{"manifest.json", manifest}, {"config.json", img.config}, {"layer.tar.gz", img.layer}} {
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data))})
		tw.Write(f.data)
	}
	tw.Close()
	loaded, err := e.LoadImage(ctx, &buf)
	if err != nil {
		t.Fatalf("LoadImage: %v", err)
	}
	if len(loaded) != 1 || loaded[0] != ref {
		t.Errorf("LoadImage: got %q, want [%s]", loaded, ref)
	}
	if ok, err := e.ImageExists(ctx, ref); !ok || err != nil {
		t.Errorf("ImageExists after LoadImage: got %v, %v", ok, err)
	}
}
