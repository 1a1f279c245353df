package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/moby/moby/api/pkg/authconfig"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/client"
)

// Credentials log the engine in to a registry for one pull.
type Credentials struct {
	Username string
	Password string
	// ServerAddress is the registry's host[:port]; empty means the one in
	// the reference.
	ServerAddress string
}

// RegistryAuth lets the registry overcast serves (ECR) hand the engine a
// pullable reference and a token for its own image URIs, without this
// package knowing ECR. ECR's repository URIs (127.0.0.1:4566/name:tag, and
// later <acct>.dkr.ecr.<region>.amazonaws.com/name:tag) resolve to the
// local registry, with username "AWS" and a fresh authorization token.
type RegistryAuth interface {
	// Resolve returns ok=false for images it does not serve: they are
	// pulled as named, from wherever the engine can reach. With ok=true,
	// ref is what the engine pulls and auth (nil for anonymous) how it logs
	// in.
	Resolve(ctx context.Context, image string) (ref string, auth *Credentials, ok bool, err error)
}

// Image is what the engine knows about a local image.
type Image struct {
	ID           string
	RepoTags     []string
	RepoDigests  []string
	Created      time.Time
	Size         int64
	OS           string
	Architecture string
	Labels       map[string]string
	Entrypoint   []string
	Cmd          []string
	Env          []string
	WorkingDir   string
	User         string
	// ExposedPorts are "port/proto", sorted.
	ExposedPorts []string
}

// resolve applies a (else the Engine's RegistryAuth), if any, to image.
func (e *Engine) resolve(ctx context.Context, image string, a RegistryAuth) (string, *Credentials, error) {
	if a == nil {
		a = e.registryAuth()
	}
	if a == nil {
		return image, nil, nil
	}
	ref, creds, ok, err := a.Resolve(ctx, image)
	if err != nil {
		return "", nil, &Error{Op: "resolve " + image, Kind: kindOf(err), Err: err}
	}
	if !ok {
		return image, nil, nil
	}
	return ref, creds, nil
}

// PullImage pulls image and returns the reference it now has locally,
// which differs from image when the RegistryAuth rewrote it: create
// containers from the returned reference.
func (e *Engine) PullImage(ctx context.Context, image string) (string, error) {
	ref, creds, err := e.resolve(ctx, image, nil)
	if err != nil {
		return "", err
	}
	if err := e.pull(ctx, ref, creds); err != nil {
		return "", err
	}
	return ref, nil
}

// EnsureImage is PullImage when the image is not already local (ECS's
// "prefer cached" pull behaviour); it returns the local reference.
func (e *Engine) EnsureImage(ctx context.Context, image string) (string, error) {
	return e.EnsureImageWith(ctx, image, nil)
}

// EnsureImageWith is EnsureImage resolving image with auth instead of the
// Engine's RegistryAuth (nil: the Engine's): an ECS task's private
// registry credentials hold for that task's pulls alone.
func (e *Engine) EnsureImageWith(ctx context.Context, image string, auth RegistryAuth) (string, error) {
	ref, creds, err := e.resolve(ctx, image, auth)
	if err != nil {
		return "", err
	}
	switch ok, err := e.ImageExists(ctx, ref); {
	case err != nil:
		return "", err
	case ok:
		return ref, nil
	}
	if err := e.pull(ctx, ref, creds); err != nil {
		return "", err
	}
	return ref, nil
}

func (e *Engine) pull(ctx context.Context, ref string, creds *Credentials) error {
	op := "pull " + ref
	var opts client.ImagePullOptions
	if creds != nil {
		enc, err := authconfig.Encode(registry.AuthConfig{
			Username:      creds.Username,
			Password:      creds.Password,
			ServerAddress: creds.ServerAddress,
		})
		if err != nil {
			return wrap(op, err)
		}
		opts.RegistryAuth = enc
	}
	resp, err := e.api.ImagePull(ctx, ref, opts)
	if err == nil {
		// Once the pull is under way the engine reports failures inside
		// its progress stream.
		err = resp.Wait(ctx)
		resp.Close()
	}
	if err == nil {
		return nil
	}
	return &Error{Op: op, Kind: pullKind(err), Err: err}
}

// pullKind classifies a failed pull. Engines before 23.0 answer 500 to
// most registry failures, so the registry's verdict survives only in the
// message; these are the distribution spec's error messages and the
// engine's own wording around them.
func pullKind(err error) error {
	if k := kindOf(err); k != nil {
		return k
	}
	msg := strings.ToLower(err.Error())
	for _, s := range []string{"manifest unknown", "not found", "name unknown", "repository does not exist"} {
		if strings.Contains(msg, s) {
			return ErrNotFound
		}
	}
	for _, s := range []string{"unauthorized", "authentication required", "no basic auth credentials", "denied"} {
		if strings.Contains(msg, s) {
			return ErrUnauthorized
		}
	}
	return nil
}

// InspectImage describes a local image by reference or ID.
func (e *Engine) InspectImage(ctx context.Context, ref string) (Image, error) {
	r, err := e.api.ImageInspect(ctx, ref)
	if err != nil {
		return Image{}, wrap("inspect image "+ref, err)
	}
	img := Image{
		ID:           r.ID,
		RepoTags:     r.RepoTags,
		RepoDigests:  r.RepoDigests,
		Created:      parseTime(r.Created),
		Size:         r.Size,
		OS:           r.Os,
		Architecture: r.Architecture,
	}
	if c := r.Config; c != nil {
		img.Labels = c.Labels
		img.Entrypoint = c.Entrypoint
		img.Cmd = c.Cmd
		img.Env = c.Env
		img.WorkingDir = c.WorkingDir
		img.User = c.User
		img.ExposedPorts = slices.Sorted(maps.Keys(c.ExposedPorts))
	}
	return img, nil
}

// ImageExists reports whether ref is a local image.
func (e *Engine) ImageExists(ctx context.Context, ref string) (bool, error) {
	_, err := e.InspectImage(ctx, ref)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// ListImages lists local images carrying the selector's labels (a key with
// an empty value matches any value).
func (e *Engine) ListImages(ctx context.Context, selector map[string]string) ([]Image, error) {
	r, err := e.api.ImageList(ctx, client.ImageListOptions{Filters: labelFilters(selector)})
	return listed("list images", r.Items, err, func(s image.Summary) Image {
		return Image{ID: s.ID, RepoTags: s.RepoTags, RepoDigests: s.RepoDigests,
			Created: time.Unix(s.Created, 0).UTC(), Size: s.Size, Labels: s.Labels}
	})
}

// listed converts what an engine list call returned to overcast's types,
// or wraps its error as op's.
func listed[S, T any](op string, items []S, err error, of func(S) T) ([]T, error) {
	if err != nil {
		return nil, wrap(op, err)
	}
	out := make([]T, 0, len(items))
	for _, s := range items {
		out = append(out, of(s))
	}
	return out, nil
}

// TagImage gives source (a reference or ID) the reference target.
func (e *Engine) TagImage(ctx context.Context, source, target string) error {
	_, err := e.api.ImageTag(ctx, client.ImageTagOptions{Source: source, Target: target})
	return wrap("tag "+source+" "+target, err)
}

// RemoveImage untags ref, deleting the image when no tag is left. force
// also removes it from under stopped containers and other tags.
func (e *Engine) RemoveImage(ctx context.Context, ref string, force bool) error {
	_, err := e.api.ImageRemove(ctx, ref, client.ImageRemoveOptions{Force: force, PruneChildren: true})
	return wrap("remove image "+ref, err)
}

// LoadImage loads a `docker save` archive and returns the references (or,
// for untagged images, IDs) it loaded.
func (e *Engine) LoadImage(ctx context.Context, archive io.Reader) ([]string, error) {
	r, err := e.api.ImageLoad(ctx, archive, client.ImageLoadWithQuiet(true))
	if err != nil {
		return nil, wrap("load image", err)
	}
	defer r.Close()
	var loaded []string
	err = readJSONStream(r, func(m jsonstream.Message) {
		// "Loaded image: name:tag" or "Loaded image ID: sha256:..."
		for _, prefix := range []string{"Loaded image: ", "Loaded image ID: "} {
			if s, ok := strings.CutPrefix(strings.TrimSpace(m.Stream), prefix); ok {
				loaded = append(loaded, s)
			}
		}
	})
	return loaded, wrap("load image", err)
}

// ImageConfig is the runtime configuration given to an imported image,
// as `docker import --change` would.
type ImageConfig struct {
	Entrypoint []string
	Cmd        []string
	Env        map[string]string
	WorkingDir string
	User       string
	Labels     map[string]string
	// ExposedPorts are "port" or "port/proto".
	ExposedPorts []string
}

// ImportImage creates the image ref (a one-layer image) from a tar of a
// root filesystem, the way `docker import` does: tests make images from a
// static binary this way, where nothing can be pulled. The image carries
// the managed labels of owner. It returns the new image's ID.
func (e *Engine) ImportImage(ctx context.Context, owner string, rootfs io.Reader, ref string, cfg ImageConfig) (string, error) {
	op := "import " + ref
	if err := requireOwner(op, owner); err != nil {
		return "", err
	}
	cfg.Labels = ManagedLabels(owner, cfg.Labels)
	changes, err := importChanges(cfg)
	if err != nil {
		return "", invalid(op, err.Error())
	}
	r, err := e.api.ImageImport(ctx, client.ImageImportSource{Source: rootfs, SourceName: "-"}, ref, client.ImageImportOptions{Changes: changes})
	if err != nil {
		return "", wrap(op, err)
	}
	defer r.Close()
	var id string
	err = readJSONStream(r, func(m jsonstream.Message) {
		if s := strings.TrimSpace(m.Status); strings.HasPrefix(s, "sha256:") {
			id = s
		}
	})
	if err != nil {
		return "", wrap(op, err)
	}
	return id, nil
}

// importChanges writes cfg as Dockerfile instructions, quoted so that no
// value can break out of its instruction or expand a variable.
func importChanges(cfg ImageConfig) ([]string, error) {
	var out []string
	array := func(v []string) string { b, _ := json.Marshal(v); return string(b) }
	if cfg.Entrypoint != nil {
		out = append(out, "ENTRYPOINT "+array(cfg.Entrypoint))
	}
	if cfg.Cmd != nil {
		out = append(out, "CMD "+array(cfg.Cmd))
	}
	for _, k := range slices.Sorted(maps.Keys(cfg.Env)) {
		if k == "" || strings.ContainsAny(k, "= \t\n") {
			return nil, fmt.Errorf("invalid environment variable name %q", k)
		}
		v, err := dockerfileQuote(cfg.Env[k])
		if err != nil {
			return nil, err
		}
		out = append(out, "ENV "+k+"="+v)
	}
	if cfg.WorkingDir != "" {
		out = append(out, "WORKDIR "+cfg.WorkingDir)
	}
	if cfg.User != "" {
		out = append(out, "USER "+cfg.User)
	}
	for _, k := range slices.Sorted(maps.Keys(cfg.Labels)) {
		qk, err := dockerfileQuote(k)
		if err != nil {
			return nil, err
		}
		qv, err := dockerfileQuote(cfg.Labels[k])
		if err != nil {
			return nil, err
		}
		out = append(out, "LABEL "+qk+"="+qv)
	}
	for _, p := range cfg.ExposedPorts {
		if _, err := parsePort(p); err != nil {
			return nil, err
		}
		out = append(out, "EXPOSE "+p)
	}
	return out, nil
}

// dockerfileQuote double-quotes s for the Dockerfile word lexer: inside
// double quotes a backslash escapes '"', '\' and '$'. A newline would end
// the instruction, so it is refused.
func dockerfileQuote(s string) (string, error) {
	if strings.ContainsAny(s, "\r\n") {
		return "", fmt.Errorf("value %q spans lines", s)
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' || r == '$' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String(), nil
}

// readJSONStream decodes the engine's progress stream (pull, build, import,
// load), handing each message to fn, and returns the first error the
// engine reported in it.
func readJSONStream(r io.Reader, fn func(jsonstream.Message)) error {
	dec := json.NewDecoder(r)
	for {
		var m jsonstream.Message
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if m.Error != nil {
			return m.Error
		}
		fn(m)
	}
}

// parseTime reads the engine's RFC 3339 times; the zero time stays zero
// (the engine writes 0001-01-01T00:00:00Z for "never").
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() <= 1 {
		return time.Time{}
	}
	return t
}
