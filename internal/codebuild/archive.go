package codebuild

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"

	"overcast/internal/codebuild/runner"
	"overcast/internal/docker"
)

// unzip unpacks a zip read from r into dir; an entry that escapes dir
// refuses the whole archive, as CodeBuild refuses such a source.
func unzip(r io.Reader, dir string) error {
	f, err := os.CreateTemp("", "codebuild-source-*.zip")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	size, err := io.Copy(f, r)
	if err != nil {
		return err
	}
	zr, err := zip.NewReader(f, size)
	if err != nil {
		return fmt.Errorf("the source is not a zip archive: %w", err)
	}
	for _, e := range zr.File {
		target, err := within(dir, e.Name)
		if err != nil {
			return err
		}
		if e.FileInfo().IsDir() {
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			continue
		}
		rc, err := e.Open()
		if err != nil {
			return err
		}
		err = runner.WriteFile(target, rc, e.Mode().Perm()|0o600)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// tarDir writes dir as a gzipped tar: a cache's contents.
func tarDir(w io.Writer, dir string) error {
	gz := gzip.NewWriter(w)
	if err := docker.TarDir(gz, dir); err != nil {
		return err
	}
	return gz.Close()
}

// untar unpacks what tarDir wrote into dir.
func untar(r io.Reader, dir string) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		target, err := within(dir, hdr.Name)
		if err != nil {
			return err
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(target, 0o755)
		case tar.TypeReg:
			err = runner.WriteFile(target, tr, fs.FileMode(hdr.Mode).Perm()|0o600)
		}
		if err != nil {
			return err
		}
	}
}
