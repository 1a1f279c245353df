package runner

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"overcast/internal/codebuild/buildspec"
)

// errEscapes is a path that leads out of the directory it must stay in.
var errEscapes = errors.New("escapes its directory")

// file is one file an artifact or report holds: where it is on the host
// and its name in the artifact.
type file struct {
	host, name string
	mode       fs.FileMode
	link       string // the target, for a symlink kept as one
}

// match says whether rel (slash-separated, relative) matches pattern, where
// "**" stands for any number of directories, including none.
func match(pattern, rel string) bool {
	return matchSegments(strings.Split(pattern, "/"), strings.Split(rel, "/"))
}

func matchSegments(pat, segs []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(segs); i++ {
				if matchSegments(pat[1:], segs[i:]) {
					return true
				}
			}
			return false
		}
		if len(segs) == 0 {
			return false
		}
		if ok, err := path.Match(pat[0], segs[0]); err != nil || !ok {
			return false
		}
		pat, segs = pat[1:], segs[1:]
	}
	return len(segs) == 0
}

// localPattern cleans a files or exclude-paths pattern and refuses one that
// leads out of the base directory.
func localPattern(p string) (string, error) {
	clean := path.Clean(strings.TrimPrefix(p, "./"))
	if !filepath.IsLocal(clean) && clean != "." {
		return "", fmt.Errorf("%s %w", p, errEscapes)
	}
	return clean, nil
}

// collect finds the files under base (a host directory) matching patterns
// and not excludes. A pattern matching a directory takes all of it. Files
// whose real path leaves root (a host directory holding base) are refused:
// a symlink cannot smuggle host files into an artifact. With keepLinks,
// symlinks are kept as symlinks; otherwise they are followed.
func collect(root, base string, patterns, excludes []string, discardPaths, keepLinks bool) ([]file, error) {
	var pats, excl []string
	for _, p := range patterns {
		clean, err := localPattern(p)
		if err != nil {
			return nil, err
		}
		pats = append(pats, clean)
	}
	for _, p := range excludes {
		clean, err := localPattern(p)
		if err != nil {
			return nil, err
		}
		excl = append(excl, clean)
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, err
	}
	matched := func(rel string, list []string) bool {
		for _, p := range list {
			if p == "." || match(p, rel) || match(p+"/**", rel) {
				return true
			}
		}
		return false
	}
	var files []file
	seen := map[string]bool{}
	err = filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == base || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(base, p)
		rel = filepath.ToSlash(rel)
		if !matched(rel, pats) || matched(rel, excl) {
			return nil
		}
		f := file{host: p, name: rel}
		if discardPaths {
			f.name = path.Base(rel)
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		f.mode = info.Mode()
		if info.Mode()&fs.ModeSymlink != 0 {
			target, err := filepath.EvalSymlinks(p)
			if err != nil {
				return nil // a dangling link carries nothing
			}
			if !within(realRoot, target) {
				return fmt.Errorf("%s %w", rel, errEscapes)
			}
			if keepLinks {
				f.link, _ = os.Readlink(p)
			} else if st, err := os.Stat(target); err != nil || st.IsDir() {
				return nil
			} else {
				f.mode = st.Mode()
			}
		}
		if seen[f.name] {
			return nil // discard-paths: the first file of a name wins
		}
		seen[f.name] = true
		files = append(files, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(files, func(a, b file) int { return strings.Compare(a.name, b.name) })
	return files, nil
}

func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && filepath.IsLocal(rel)
}

// baseDir is the host directory of an artifact's base-directory, refusing
// one that leaves the source directory.
func baseDir(srcHost, baseDirectory string) (string, error) {
	if baseDirectory == "" {
		return srcHost, nil
	}
	clean := path.Clean(strings.TrimPrefix(baseDirectory, "./"))
	if clean != "." && !filepath.IsLocal(clean) {
		return "", fmt.Errorf("base directory %s %w", baseDirectory, errEscapes)
	}
	dir := filepath.Join(srcHost, clean)
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", fmt.Errorf("base directory %s does not exist", baseDirectory)
	}
	realSrc, _ := filepath.EvalSymlinks(srcHost)
	if real != realSrc && !within(realSrc, real) {
		return "", fmt.Errorf("base directory %s %w", baseDirectory, errEscapes)
	}
	return real, nil
}

// writeZip packs files into a zip archive at dst.
func writeZip(dst string, files []file) error {
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(out)
	for _, f := range files {
		if err := addToZip(zw, f); err != nil {
			out.Close()
			return err
		}
	}
	if err := zw.Close(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func addToZip(zw *zip.Writer, f file) error {
	h := &zip.FileHeader{Name: f.name, Method: zip.Deflate}
	h.SetMode(f.mode)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	if f.link != "" {
		_, err = io.WriteString(w, f.link)
		return err
	}
	in, err := os.Open(f.host)
	if err != nil {
		return err
	}
	defer in.Close()
	_, err = io.Copy(w, in)
	return err
}

// copyFiles copies files into the directory dst (packaging NONE).
func copyFiles(dst string, files []file) error {
	for _, f := range files {
		target := filepath.Join(dst, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if f.link != "" {
			if err := os.Symlink(f.link, target); err != nil {
				return err
			}
			continue
		}
		if err := copyFile(target, f.host, f.mode.Perm()); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(dst, src string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return WriteFile(dst, in, perm)
}

// WriteFile writes what r reads to the file target, with mode, making its
// directory first.
func WriteFile(target string, r io.Reader, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// uploadArtifacts handles UPLOAD_ARTIFACTS: report files, the cache, then
// each artifact the project asks for.
func (x *build) uploadArtifacts() outcome {
	x.reports()
	x.saveCache()
	for _, t := range x.b.Artifacts {
		if t.Type == "NO_ARTIFACTS" {
			continue
		}
		if out := x.artifact(t); out.status != StatusSucceeded {
			return out
		}
	}
	return succeeded
}

// specArtifact is the buildspec's definition of the artifact target t.
func (x *build) specArtifact(t ArtifactTarget) (*buildspec.Artifacts, error) {
	a := x.spec.Artifacts
	if t.Identifier == "" {
		return a, nil
	}
	if a != nil {
		for _, s := range a.Secondary {
			if s.Identifier == t.Identifier {
				return s, nil
			}
		}
	}
	return nil, fmt.Errorf("no definition for secondary artifact %s in buildspec", t.Identifier)
}

func (x *build) artifact(t ArtifactTarget) outcome {
	a, err := x.specArtifact(t)
	if err != nil {
		return failed(codeClientError, "%v", err)
	}
	if a == nil || len(a.Files) == 0 {
		return succeeded // nothing declared: nothing to upload
	}
	srcHost := x.hostPath(x.srcDir)
	x.logf("Expanding base directory path: %s", orDot(a.BaseDirectory))
	base, err := baseDir(srcHost, x.relativeToSource(a.BaseDirectory))
	if err != nil {
		return failed(codeClientError, "%v", err)
	}
	x.logf("Assembling file list")
	for _, p := range a.Files {
		x.logf("Expanding %s", p)
	}
	files, err := collect(srcHost, base, a.Files, a.ExcludePaths, a.DiscardPaths, a.EnableSymlinks)
	if err != nil {
		return failed(codeClientError, "%v", err)
	}
	if len(files) == 0 {
		x.logf("Skipping invalid file path %s", strings.Join(a.Files, ", "))
		return failed(codeClientError, "no matching artifact paths found")
	}
	x.logf("Found %d file(s)", len(files))

	name := t.Name
	if a.Name != "" && (t.OverrideArtifactName || name == "") {
		if name, err = x.expand(a.Name); err != nil {
			return failed(codeClientError, "%v", err)
		}
	}
	if name == "" {
		name = x.b.Project
	}
	id := t.Identifier
	if id == "" {
		id = "primary"
	}
	dir := filepath.Join(x.b.WorkDir, "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return outcome{status: StatusFault, context: PhaseContext{StatusCode: codeClientError, Message: err.Error()}}
	}
	local := filepath.Join(dir, id)
	if t.Packaging == "ZIP" {
		local += ".zip"
		err = writeZip(local, files)
	} else {
		err = copyFiles(local, files)
	}
	if err != nil {
		return outcome{status: StatusFault, context: PhaseContext{StatusCode: codeClientError, Message: err.Error()}}
	}
	location, err := x.h.UploadArtifact(x.ctx, Artifact{Target: t, Name: name, Path: local, S3Prefix: a.S3Prefix})
	if err != nil {
		return failed(codeClientError, "%v", err)
	}
	x.result.ArtifactLocations[t.Identifier] = location
	return succeeded
}

// relativeToSource turns a base-directory written as an absolute path
// inside CODEBUILD_SRC_DIR into the relative one it means; other paths are
// left for baseDir to judge.
func (x *build) relativeToSource(dir string) string {
	if rel, ok := strings.CutPrefix(path.Clean(dir), x.srcDir); ok && (rel == "" || rel[0] == '/') {
		return "." + rel
	}
	return dir
}

func orDot(s string) string {
	if s == "" {
		return "."
	}
	return s
}

// reports hands the report files of each report group to the hooks; a
// report that cannot be read does not fail the build, as on AWS.
func (x *build) reports() {
	if len(x.spec.Reports) == 0 {
		return
	}
	srcHost := x.hostPath(x.srcDir)
	var all []ReportFiles
	for _, r := range x.spec.Reports {
		x.logf("Preparing to copy %s report %s", r.FileFormat, r.Group)
		base, err := baseDir(srcHost, x.relativeToSource(r.BaseDirectory))
		if err != nil {
			x.logf("Error in %s report: %v", r.Group, err)
			continue
		}
		files, err := collect(srcHost, base, r.Files, nil, false, false)
		if err != nil || len(files) == 0 {
			x.logf("Error in %s report: no matching report paths found", r.Group)
			continue
		}
		rf := ReportFiles{Group: r.Group, FileFormat: r.FileFormat}
		for _, f := range files {
			rf.Files = append(rf.Files, f.host)
		}
		all = append(all, rf)
	}
	if len(all) == 0 {
		return
	}
	if err := x.h.Reports(x.ctx, all); err != nil {
		x.logf("Error uploading reports: %v", err)
	}
}
