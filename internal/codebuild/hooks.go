package codebuild

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	api "overcast/internal/api/codebuild"
	"overcast/internal/awsproto"
	"overcast/internal/codebuild/runner"
	"overcast/internal/service"
)

// hooks are a build's runner.Hooks against overcast's services, acting as
// the project's account.
type hooks struct {
	s  *Service
	b  *build
	sc scope
}

var _ runner.Hooks = (*hooks)(nil)

// errMissing is a hook whose service overcast was built without.
func errMissing(what string) error { return fmt.Errorf("%s is not available to builds", what) }

func (h *hooks) DownloadSource(ctx context.Context, dirs map[string]string) (runner.Sources, error) {
	pb := h.b.Build
	resolved := map[string]string{}
	v, err := h.download(ctx, *pb.Source, service.Deref(pb.SourceVersion), dirs[""])
	if err != nil {
		return runner.Sources{}, err
	}
	resolved[""] = v
	for _, src := range pb.SecondarySources {
		id := *src.SourceIdentifier
		v, err := h.download(ctx, src, secondaryVersion(pb, id, src), dirs[id])
		if err != nil {
			return runner.Sources{}, fmt.Errorf("secondary source %s: %w", id, err)
		}
		resolved[id] = v
	}
	return runner.Sources{ResolvedVersions: resolved}, nil
}

// download fetches one source into dir and returns the version it got.
func (h *hooks) download(ctx context.Context, src api.ProjectSource, version, dir string) (string, error) {
	location := service.Deref(src.Location)
	switch *src.Type {
	case "NO_SOURCE":
		return "", nil
	case "S3", "CODEPIPELINE":
		if location == "" {
			return "", errors.New("the source has no S3 location")
		}
		return h.downloadS3(ctx, location, dir)
	case "CODECOMMIT":
		if h.s.opts.Repositories == nil {
			return "", errMissing("CodeCommit")
		}
		_, name, ok := strings.Cut(location, "/v1/repos/")
		if !ok {
			return "", fmt.Errorf("%s is not a CodeCommit repository URL", location)
		}
		repo, err := h.s.opts.Repositories.RepositoryDir(ctx, h.sc.Account, h.sc.Region, strings.Trim(name, "/"))
		if err != nil {
			return "", err
		}
		return gitClone(ctx, repo, version, dir, 0)
	default: // GITHUB, GITHUB_ENTERPRISE, BITBUCKET, GITLAB: any git URL this machine reaches
		return gitClone(ctx, location, version, dir, int(service.Deref(src.GitCloneDepth)))
	}
}

// gitClone clones url into dir at version (a branch, a tag, a commit or
// refs/...; "" for the default branch) and returns the commit it got.
func gitClone(ctx context.Context, url, version, dir string, depth int) (string, error) {
	args := []string{"clone", "--quiet"}
	if depth > 0 && version == "" {
		args = append(args, "--depth", fmt.Sprint(depth))
	}
	if _, err := git(ctx, "", append(args, url, dir)...); err != nil {
		return "", err
	}
	if version != "" {
		ref := strings.TrimPrefix(strings.TrimPrefix(version, "refs/heads/"), "refs/tags/")
		if _, err := git(ctx, dir, "checkout", "--quiet", ref); err != nil {
			return "", fmt.Errorf("reference %s: %w", version, err)
		}
	}
	commit, err := git(ctx, dir, "rev-parse", "HEAD")
	return strings.TrimSpace(commit), err
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// downloadS3 fetches bucket/key.zip, unpacked into dir, or every object
// under bucket/prefix/.
func (h *hooks) downloadS3(ctx context.Context, location, dir string) (string, error) {
	objects := h.s.opts.Objects
	if objects == nil {
		return "", errMissing("S3")
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(location, "arn:aws:s3:::"), "/")
	if key == "" || strings.HasSuffix(key, "/") {
		keys, err := objects.ListObjects(ctx, h.sc.Account, h.sc.Region, bucket, key)
		if err != nil {
			return "", err
		}
		for _, k := range keys {
			if strings.HasSuffix(k, "/") {
				continue
			}
			if err := h.getTo(ctx, bucket, k, dir, strings.TrimPrefix(k, key)); err != nil {
				return "", err
			}
		}
		return "", nil
	}
	body, version, err := objects.GetObject(ctx, h.sc.Account, h.sc.Region, bucket, key)
	if err != nil {
		return "", fmt.Errorf("s3://%s/%s: %w", bucket, key, err)
	}
	defer body.Close()
	if err := unzip(body, dir); err != nil {
		return "", fmt.Errorf("s3://%s/%s: %w", bucket, key, err)
	}
	return version, nil
}

// getTo writes object bucket/key to dir/rel.
func (h *hooks) getTo(ctx context.Context, bucket, key, dir, rel string) error {
	target, err := within(dir, rel)
	if err != nil {
		return err
	}
	body, _, err := h.s.opts.Objects.GetObject(ctx, h.sc.Account, h.sc.Region, bucket, key)
	if err != nil {
		return err
	}
	defer body.Close()
	return runner.WriteFile(target, body, 0o644)
}

func (h *hooks) Parameter(ctx context.Context, name string) (string, error) {
	if h.s.opts.Parameters == nil {
		return "", errMissing("Parameter Store")
	}
	return h.s.opts.Parameters.Parameter(ctx, h.sc.Account, h.sc.Region, name)
}

func (h *hooks) Secret(ctx context.Context, ref runner.SecretRef) (string, error) {
	if h.s.opts.Secrets == nil {
		return "", errMissing("Secrets Manager")
	}
	return h.s.opts.Secrets.Secret(ctx, h.sc.Account, h.sc.Region, ref)
}

// UploadArtifact stores a zip as one object, an unpackaged artifact as an
// object per file, at path/[build UUID/]name in the target's bucket.
func (h *hooks) UploadArtifact(ctx context.Context, a runner.Artifact) (string, error) {
	t := a.Target
	if t.Type != "S3" {
		return "", nil
	}
	if h.s.opts.Objects == nil {
		return "", errMissing("S3")
	}
	name := a.Name
	if name == "" {
		name = *h.b.Build.ProjectName
	}
	parts := []string{strings.Trim(t.Path, "/")}
	if t.NamespaceType == "BUILD_ID" {
		parts = append(parts, strings.TrimPrefix(*h.b.Build.Id, *h.b.Build.ProjectName+":"))
	}
	key := strings.Trim(path.Join(append(parts, strings.Trim(a.S3Prefix, "/"), name)...), "/")
	info, err := os.Stat(a.Path)
	if err != nil {
		return "", err
	}
	if !info.IsDir() {
		if err := h.put(ctx, t.Location, key, a.Path); err != nil {
			return "", err
		}
		return "arn:aws:s3:::" + t.Location + "/" + key, nil
	}
	err = filepath.WalkDir(a.Path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(a.Path, p)
		if err != nil {
			return err
		}
		return h.put(ctx, t.Location, key+"/"+filepath.ToSlash(rel), p)
	})
	if err != nil {
		return "", err
	}
	return "arn:aws:s3:::" + t.Location + "/" + key, nil
}

func (h *hooks) put(ctx context.Context, bucket, key, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	return h.s.opts.Objects.PutObject(ctx, h.sc.Account, h.sc.Region, bucket, key, f, info.Size())
}

// cacheObject is where an S3 cache keeps key: under the cache location.
func (h *hooks) cacheObject(key string) (bucket, object string) {
	bucket, prefix, _ := strings.Cut(service.Deref(h.b.Build.Cache.Location), "/")
	return bucket, strings.Trim(path.Join(prefix, cmp.Or(key, "cache")+".tgz"), "/")
}

func (h *hooks) RestoreCache(ctx context.Context, key, dir string) error {
	if h.s.opts.Objects == nil {
		return errMissing("S3")
	}
	bucket, object := h.cacheObject(key)
	body, _, err := h.s.opts.Objects.GetObject(ctx, h.sc.Account, h.sc.Region, bucket, object)
	if apiErr, ok := awsproto.AsAPIError(err); ok && apiErr.ErrorCode() == "NoSuchKey" {
		return nil // no cache yet
	}
	if err != nil {
		return err
	}
	defer body.Close()
	return untar(body, dir)
}

func (h *hooks) SaveCache(ctx context.Context, key, dir string) error {
	if h.s.opts.Objects == nil {
		return errMissing("S3")
	}
	f, err := os.CreateTemp(h.s.workDir, "cache-*.tgz")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := tarDir(f, dir); err != nil {
		return err
	}
	bucket, object := h.cacheObject(key)
	return h.put(ctx, bucket, object, f.Name())
}

// artifactTargets are the artifacts a build uploads, primary first.
func artifactTargets(primary *api.ProjectArtifacts, secondary api.ProjectArtifactsList) []runner.ArtifactTarget {
	target := func(a api.ProjectArtifacts) runner.ArtifactTarget {
		return runner.ArtifactTarget{Identifier: service.Deref(a.ArtifactIdentifier), Type: *a.Type,
			Packaging: service.DerefOr(a.Packaging, "NONE"), Name: service.Deref(a.Name),
			OverrideArtifactName: service.Deref(a.OverrideArtifactName), Location: service.Deref(a.Location),
			Path: service.Deref(a.Path), NamespaceType: service.DerefOr(a.NamespaceType, "NONE"),
			EncryptionDisabled: service.Deref(a.EncryptionDisabled)}
	}
	var out []runner.ArtifactTarget
	if primary != nil {
		p := target(*primary)
		p.Identifier = ""
		out = append(out, p)
	}
	for _, a := range secondary {
		out = append(out, target(a))
	}
	return out
}

// within is dir/rel, refused when rel escapes dir (an archive entry or an
// object key with "..").
func within(dir, rel string) (string, error) {
	if !filepath.IsLocal(filepath.FromSlash(rel)) {
		return "", fmt.Errorf("%s escapes the source directory", rel)
	}
	return filepath.Join(dir, filepath.FromSlash(rel)), nil
}
