package ecr_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"overcast/internal/awstest"
	"overcast/internal/clock"
)

// env is a running overcast with an ECR client and registry credentials.
type env struct {
	t     *testing.T
	srv   *awstest.Server
	c     *ecr.Client
	clock *clock.Fake
	// auth is the Basic Authorization header of a token of the default
	// account.
	auth string
}

func start(t *testing.T) *env {
	t.Helper()
	clk := clock.NewFake(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	srv := awstest.Start(t, awstest.Clock(clk))
	e := &env{t: t, srv: srv, c: ecr.NewFromConfig(srv.Config()), clock: clk}
	e.auth = e.basicAuth(e.c)
	return e
}

// basicAuth logs in as c's caller: what `aws ecr get-login-password |
// docker login` does.
func (e *env) basicAuth(c *ecr.Client) string {
	e.t.Helper()
	out, err := c.GetAuthorizationToken(context.Background(), &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		e.t.Fatalf("GetAuthorizationToken: %v", err)
	}
	return "Basic " + aws.ToString(out.AuthorizationData[0].AuthorizationToken)
}

func (e *env) createRepo(name string, opts ...func(*ecr.CreateRepositoryInput)) {
	e.t.Helper()
	in := &ecr.CreateRepositoryInput{RepositoryName: aws.String(name)}
	for _, o := range opts {
		o(in)
	}
	if _, err := e.c.CreateRepository(context.Background(), in); err != nil {
		e.t.Fatalf("CreateRepository %s: %v", name, err)
	}
}

// response is a registry answer, body read.
type response struct {
	status int
	header http.Header
	body   []byte
}

// code is the first OCI error code of the body.
func (r response) code() string {
	var env struct {
		Errors []struct{ Code, Message string }
	}
	json.Unmarshal(r.body, &env)
	if len(env.Errors) == 0 {
		return ""
	}
	return env.Errors[0].Code + ": " + env.Errors[0].Message
}

// do sends a registry request; path starts with /v2/.
func (e *env) do(auth, method, path string, body []byte, header ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if body == nil {
		req.Body = http.NoBody
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading: %v", method, path, err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// pushBlob uploads a blob as docker does (POST, then a streamed PATCH, then
// PUT with the digest) and returns its digest.
func (e *env) pushBlob(auth, repo string, data []byte) string {
	e.t.Helper()
	d := digestOf(data)
	r := e.do(auth, "POST", "/v2/"+repo+"/blobs/uploads/", nil)
	if r.status != http.StatusAccepted {
		e.t.Fatalf("POST upload to %s: got %d %s, want 202", repo, r.status, r.code())
	}
	loc := r.header.Get("Location")
	r = e.do(auth, "PATCH", loc, data, "Content-Type", "application/octet-stream")
	if r.status != http.StatusAccepted {
		e.t.Fatalf("PATCH: got %d %s, want 202", r.status, r.code())
	}
	loc = r.header.Get("Location")
	r = e.do(auth, "PUT", loc+"?digest="+d, nil)
	if r.status != http.StatusCreated {
		e.t.Fatalf("PUT upload: got %d %s, want 201", r.status, r.code())
	}
	return d
}

// image is a Docker image made of layers: its config and manifest.
type image struct {
	layers   [][]byte
	config   []byte
	manifest []byte
	digest   string
}

const (
	dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	dockerConfig   = "application/vnd.docker.container.image.v1+json"
	dockerLayer    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
)

func makeImage(layers ...[]byte) image {
	var diffIDs []string
	for _, l := range layers {
		diffIDs = append(diffIDs, digestOf(l))
	}
	config, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux",
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs}, "config": map[string]any{}})
	type desc struct {
		MediaType string `json:"mediaType"`
		Size      int    `json:"size"`
		Digest    string `json:"digest"`
	}
	m := struct {
		SchemaVersion int    `json:"schemaVersion"`
		MediaType     string `json:"mediaType"`
		Config        desc   `json:"config"`
		Layers        []desc `json:"layers"`
	}{2, dockerManifest, desc{dockerConfig, len(config), digestOf(config)}, []desc{}}
	for _, l := range layers {
		m.Layers = append(m.Layers, desc{dockerLayer, len(l), digestOf(l)})
	}
	manifest, _ := json.MarshalIndent(m, "", "   ")
	return image{layers: layers, config: config, manifest: manifest, digest: digestOf(manifest)}
}

// push uploads an image's blobs and its manifest under ref, returning the
// manifest PUT's response.
func (e *env) push(auth, repo, ref string, img image) response {
	e.t.Helper()
	for _, b := range append([][]byte{img.config}, img.layers...) {
		e.pushBlob(auth, repo, b)
	}
	return e.do(auth, "PUT", "/v2/"+repo+"/manifests/"+ref, img.manifest, "Content-Type", dockerManifest)
}

func (e *env) mustPush(repo, ref string, img image) {
	e.t.Helper()
	if r := e.push(e.auth, repo, ref, img); r.status != http.StatusCreated {
		e.t.Fatalf("push %s:%s: got %d %s, want 201", repo, ref, r.status, r.code())
	}
}

func randomBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) ^ seed
	}
	copy(b, fmt.Sprintf("layer-%d-%d", seed, n))
	return b
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
