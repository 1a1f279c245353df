package runner

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// LocalHooks are the Hooks of a local build (`overcast codebuild run`):
// the source is a directory of the machine, artifacts land in a directory,
// and nothing talks to AWS.
type LocalHooks struct {
	SourceDir    string // copied into the build, as the local agent does
	ArtifactsDir string // where artifacts land; "" drops them
	// Skip names a directory under SourceDir not to copy (e.g. the
	// artifacts directory).
	Skip string
	// Log receives notes about what the hooks did.
	Log func(format string, args ...any)
}

func (h LocalHooks) logf(format string, args ...any) {
	if h.Log != nil {
		h.Log(format, args...)
	}
}

// DownloadSource copies SourceDir into the build's source directory; the
// resolved version is the git HEAD commit when SourceDir is a repository.
func (h LocalHooks) DownloadSource(ctx context.Context, dirs map[string]string) (Sources, error) {
	if err := copyTree(dirs[""], h.SourceDir, h.Skip); err != nil {
		return Sources{}, err
	}
	var version string
	if out, err := exec.CommandContext(ctx, "git", "-C", h.SourceDir, "rev-parse", "HEAD").Output(); err == nil {
		version = strings.TrimSpace(string(out))
	}
	return Sources{ResolvedVersions: map[string]string{"": version}}, nil
}

func (h LocalHooks) Parameter(ctx context.Context, name string) (string, error) {
	return "", fmt.Errorf("parameter-store is not available in a local build: %s", name)
}

func (h LocalHooks) Secret(ctx context.Context, ref SecretRef) (string, error) {
	return "", fmt.Errorf("secrets-manager is not available in a local build: %s", ref.SecretID)
}

// UploadArtifact copies the artifact into ArtifactsDir under its name
// (identifier/name for secondary artifacts).
func (h LocalHooks) UploadArtifact(ctx context.Context, a Artifact) (string, error) {
	if h.ArtifactsDir == "" {
		return "", nil
	}
	dst := filepath.Join(h.ArtifactsDir, a.Target.Identifier, filepath.Base(a.Name))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	info, err := os.Stat(a.Path)
	if err != nil {
		return "", err
	}
	if info.IsDir() {
		err = copyTree(dst, a.Path, "")
	} else {
		err = copyFile(dst, a.Path, 0o644)
	}
	h.logf("Artifact %s written to %s", orDot(a.Target.Identifier), dst)
	return dst, err
}

// A local build's cache is a host directory (Cache LOCAL_CUSTOM_CACHE); the
// S3 hooks have nothing to do.
func (h LocalHooks) RestoreCache(ctx context.Context, key, dir string) error { return nil }
func (h LocalHooks) SaveCache(ctx context.Context, key, dir string) error    { return nil }

// Reports lists the report files found.
func (h LocalHooks) Reports(ctx context.Context, reports []ReportFiles) error {
	for _, r := range reports {
		h.logf("Report group %s (%s): %d file(s)", r.Group, r.FileFormat, len(r.Files))
	}
	return nil
}

// copyTree copies the directory src into dst, symlinks as symlinks, leaving
// out skip (a path relative to src).
func copyTree(dst, src, skip string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if skip != "" && rel == skip {
			return filepath.SkipDir
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, info.Mode().Perm()|0o700)
		case info.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case info.Mode().IsRegular():
			return copyFile(target, p, info.Mode().Perm())
		}
		return nil // sockets, devices: not sources
	})
}

// WriterObserver is an Observer that streams the log to a writer, as
// `overcast codebuild run` does to stdout.
type WriterObserver struct{ W io.Writer }

func (o WriterObserver) Phase(Phase)  {}
func (o WriterObserver) Log(p []byte) { o.W.Write(p) }
