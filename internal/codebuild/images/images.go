// Package images maps AWS's curated CodeBuild image names
// (aws/codebuild/standard:7.0, aws/codebuild/amazonlinux2-x86_64-standard:5.0
// ...) to an image overcast builds on the local engine, since none of AWS's
// images can be pulled here. The stand-in is Debian bookworm, bootstrapped
// with debootstrap and imported, with the tools a standard image's buildspec
// commonly uses installed on top (bash, git, curl, zip, jq, python3, the aws
// CLI, the docker client). It is built once, the first time a build asks for
// it, and kept on the engine under a tag derived from its recipe, so that a
// restart (or a second overcast on the engine) reuses it and a changed
// recipe builds a new one.
//
// Any other image name (an ECR URI, a local image) passes through as is.
package images

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"

	"overcast/internal/docker"
)

// Owner is the service the images are labelled with.
const Owner = "codebuild"

// Repository is the local repository the stand-in image is tagged in.
const Repository = "overcast/codebuild-standard"

// baseRepository holds the bare debootstrapped system the stand-in is
// built from; keeping it makes a recipe change cost an apt-get, not a
// debootstrap.
const baseRepository = "overcast/codebuild-base"

// suite is the Debian release the stand-in is made of.
const suite = "bookworm"

// DefaultMirror is where debootstrap and apt-get fetch Debian from.
const DefaultMirror = "http://deb.debian.org/debian"

// packages are installed on top of the minimal system: what AWS's standard
// images carry that buildspecs lean on most. docker.io brings the docker
// client a privileged build talks to the engine with.
var packages = []string{
	"awscli", "bash", "ca-certificates", "curl", "docker.io", "file", "git", "gnupg", "gzip", "jq",
	"less", "make", "openssh-client", "procps", "python3", "python3-pip", "python3-venv",
	"tar", "unzip", "wget", "xz-utils", "zip",
}

// awsWrapper stands before Debian's aws CLI (2.9), which predates
// AWS_ENDPOINT_URL: buildspecs call `aws ...` with no --endpoint-url, and
// the AWS images' current CLI takes the endpoint from that variable, so the
// wrapper passes it on unless the command names one itself.
const awsWrapper = `#!/bin/sh
# overcast: Debian's aws CLI ignores AWS_ENDPOINT_URL; pass it on.
if [ -n "$AWS_ENDPOINT_URL" ]; then
  case " $* " in
    *" --endpoint-url"*) ;;
    *) exec /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" "$@" ;;
  esac
fi
exec /usr/bin/aws "$@"
`

// dockerfile builds the stand-in FROM the bootstrapped base.
func dockerfile(base string) string {
	return "FROM " + base + `
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends ` + strings.Join(packages, " ") + ` \
 && rm -rf /var/lib/apt/lists/*
COPY aws /usr/local/bin/aws
RUN chmod 0755 /usr/local/bin/aws && mkdir -p /codebuild/output
WORKDIR /codebuild/output
CMD ["bash"]
`
}

// recipeHash names what the images are made of: the same recipe always
// gives the same tags, a changed one new tags.
func recipeHash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s\n", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// The tags of the base and of the stand-in, from their recipes.
var (
	baseTag     = baseRepository + ":" + recipeHash("debootstrap --variant=minbase", suite)
	standardTag = Repository + ":" + recipeHash(baseTag, dockerfile(baseTag), awsWrapper)
)

// StandardImage is the tag of the stand-in for every curated Linux image.
func StandardImage() string { return standardTag }

// curatedName is AWS's curated image names: aws/codebuild/ and a
// repository (standard, amazonlinux2-x86_64-standard,
// amazonlinux-aarch64-standard, amazonlinux-x86_64-lambda-standard, ...),
// with a tag (5.0, 7.0, corretto11, 2019-3.0 ...). Every Linux one maps to
// the stand-in, the aarch64 ones included: the engine runs its own
// architecture.
var curatedName = regexp.MustCompile(`^aws/codebuild/[a-z0-9][a-z0-9._-]*(:[A-Za-z0-9._-]+)?$`)

// unsupported are curated images of other operating systems.
var unsupported = regexp.MustCompile(`^aws/codebuild/(windows|macos)`)

// ErrUnsupported is a curated image of an OS overcast cannot run (Windows,
// macOS).
var ErrUnsupported = errors.New("codebuild images: no stand-in for this curated image")

// Curated reports whether name is one of AWS's curated CodeBuild images.
func Curated(name string) bool {
	return curatedName.MatchString(name)
}

// Engine is what building the stand-in needs from the Docker engine.
type Engine interface {
	ImageExists(ctx context.Context, ref string) (bool, error)
	ImportImage(ctx context.Context, owner string, rootfs io.Reader, ref string, cfg docker.ImageConfig) (string, error)
	Build(ctx context.Context, spec docker.BuildSpec) (string, error)
}

// Options configure a Resolver.
type Options struct {
	// Mirror is the Debian mirror (DefaultMirror when empty).
	Mirror string
	// TempDir is where debootstrap makes the root filesystem before it is
	// imported (the system's temporary directory when empty); it needs
	// room for ~200 MB and must allow device files and executables.
	TempDir string
	// Proxy is handed to debootstrap and to the image build: the
	// http_proxy, https_proxy and no_proxy settings (either case). Nil
	// takes them from overcast's own environment.
	Proxy  map[string]string
	Logger *slog.Logger
	// Debootstrap is the program that makes the root filesystem
	// ("debootstrap" on PATH when empty).
	Debootstrap string
}

// Resolver maps image names to local images, building the stand-in on
// first use. It is safe for concurrent use: builds asking for the stand-in
// while it is being made wait for that one build.
type Resolver struct {
	engine Engine
	opts   Options

	mu       sync.Mutex
	building *call // the stand-in's build in flight, if any
}

// call is one build of the stand-in that every waiter shares.
type call struct {
	done chan struct{}
	err  error
}

// New returns a Resolver building on e.
func New(e Engine, opts Options) *Resolver {
	if opts.Mirror == "" {
		opts.Mirror = DefaultMirror
	}
	if opts.Proxy == nil {
		opts.Proxy = ProxyEnv()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Debootstrap == "" {
		opts.Debootstrap = "debootstrap"
	}
	return &Resolver{engine: e, opts: opts}
}

// Resolve returns the image the engine runs for name, and, when name is a
// curated image, the note the build log states it with. Other names come
// back unchanged with no note: pulling them is the runner's business.
func (r *Resolver) Resolve(ctx context.Context, name string) (image, note string, err error) {
	repo, _, _ := strings.Cut(name, ":")
	if unsupported.MatchString(repo) {
		return "", "", fmt.Errorf("%w: %s needs %s, which cannot run on this machine's Docker engine", ErrUnsupported, name, osOf(repo))
	}
	if !Curated(name) {
		return name, "", nil
	}
	if err := r.ensure(ctx); err != nil {
		return "", "", fmt.Errorf("codebuild images: preparing the local stand-in for %s: %w", name, err)
	}
	note = fmt.Sprintf("Image %s is AWS's curated image, which cannot be pulled here; running %s instead "+
		"(Debian %s with bash, git, curl, zip, jq, python3, the aws CLI and the docker client), built locally", name, standardTag, suite)
	return standardTag, note, nil
}

func osOf(repo string) string {
	if strings.HasPrefix(repo, "aws/codebuild/windows") {
		return "Windows"
	}
	return "macOS"
}

// ensure makes the stand-in exist, sharing one build among concurrent
// callers. A caller whose ctx ends stops waiting; the build goes on for the
// others (and is never half-tagged: the engine tags a build that finished).
func (r *Resolver) ensure(ctx context.Context) error {
	if ok, err := r.engine.ImageExists(ctx, standardTag); err != nil || ok {
		return err
	}
	r.mu.Lock()
	c := r.building
	if c == nil {
		c = &call{done: make(chan struct{})}
		r.building = c
		go func() {
			c.err = r.build(context.WithoutCancel(ctx))
			r.mu.Lock()
			r.building = nil
			r.mu.Unlock()
			close(c.done)
		}()
	}
	r.mu.Unlock()
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// build makes the base (unless it exists) and the stand-in on top of it.
func (r *Resolver) build(ctx context.Context) error {
	log := r.opts.Logger
	switch ok, err := r.engine.ImageExists(ctx, baseTag); {
	case err != nil:
		return err
	case !ok:
		log.Info("codebuild: bootstrapping Debian for the curated image stand-in", "image", baseTag, "mirror", r.opts.Mirror)
		if err := r.bootstrap(ctx); err != nil {
			return err
		}
	}
	log.Info("codebuild: building the curated image stand-in", "image", standardTag)
	var out bytes.Buffer
	_, err := r.engine.Build(ctx, docker.BuildSpec{
		Owner:   Owner,
		Context: bytes.NewReader(buildContext(dockerfile(baseTag), awsWrapper)),
		Tags:    []string{standardTag},
		Args:    r.opts.Proxy,
		// The host's network: a proxy the host reaches on its loopback
		// (http_proxy=http://127.0.0.1:3128) is reachable from RUN steps.
		NetworkMode: "host",
		Output:      &out,
	})
	if err != nil {
		return fmt.Errorf("%w\n%s", err, tail(out.String(), 40))
	}
	return nil
}

// bootstrap runs debootstrap into a temporary directory and imports it as
// the base image.
func (r *Resolver) bootstrap(ctx context.Context) error {
	prog, err := exec.LookPath(r.opts.Debootstrap)
	if err != nil {
		return fmt.Errorf("building it needs %s (the Debian package debootstrap: apt-get install debootstrap): %w", r.opts.Debootstrap, err)
	}
	dir, err := os.MkdirTemp(r.opts.TempDir, "overcast-codebuild-rootfs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cmd := exec.CommandContext(ctx, prog, "--variant=minbase", suite, dir, r.opts.Mirror)
	cmd.Env = append(os.Environ(), envList(r.opts.Proxy)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w\n%s", prog, err, tail(string(out), 40))
	}
	// tar keeps what a root filesystem needs and Go's archive/tar walk
	// would have to redo: owners, device files, hard links.
	tarCmd := exec.CommandContext(ctx, "tar", "--numeric-owner", "-C", dir, "--exclude=./dev/*", "--exclude=./proc/*", "--exclude=./sys/*", "-cf", "-", ".")
	stdout, err := tarCmd.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	tarCmd.Stderr = &stderr
	if err := tarCmd.Start(); err != nil {
		return err
	}
	_, importErr := r.engine.ImportImage(ctx, Owner, stdout, baseTag, docker.ImageConfig{Cmd: []string{"bash"}})
	if importErr != nil {
		io.Copy(io.Discard, stdout)
	}
	if err := tarCmd.Wait(); err != nil {
		return fmt.Errorf("tar of the root filesystem: %w: %s", err, stderr.String())
	}
	return importErr
}

// buildContext is a tar of the Dockerfile and the aws wrapper.
func buildContext(dockerfile, wrapper string) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct{ name, body string }{{"Dockerfile", dockerfile}, {"aws", wrapper}} {
		// Writing to memory cannot fail.
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o755, Size: int64(len(f.body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(f.body))
	}
	tw.Close()
	return buf.Bytes()
}

// proxyVars are the proxy settings passed into builds, in both cases as
// tools read either.
var proxyVars = []string{"http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"}

// ProxyEnv is the proxy settings of overcast's own environment: a container
// gets none of the host's unless overcast hands them in, so image builds
// and builds receive these.
func ProxyEnv() map[string]string {
	out := map[string]string{}
	for _, k := range proxyVars {
		if v, ok := os.LookupEnv(k); ok && v != "" {
			out[k] = v
		}
	}
	return out
}

func envList(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
