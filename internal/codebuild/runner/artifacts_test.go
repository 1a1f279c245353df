package runner

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"overcast/internal/tabletest"
)

func TestMatch(t *testing.T) {
	type patternPath struct{ Pattern, Path string }
	tabletest.Run(t, "match", func(in patternPath) bool { return match(in.Pattern, in.Path) }, map[patternPath]bool{
		{"**/*", "a.txt"}:                    true,
		{"**/*", "a/b/c.txt"}:                true,
		{"*.txt", "a/b.txt"}:                 false,
		{"a/**/c.txt", "a/c.txt"}:            true,
		{"a/**/c.txt", "a/x/y/c.txt"}:        true,
		{"a/*/c.txt", "a/x/y/c.txt"}:         false,
		{"target/app.jar", "target/app.jar"}: true,
		{"**/*.tmp", "x/y.tmp"}:              true,
		{"**/*.tmp", "x/y.txt"}:              false,
	})
}

func TestCollect(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{"out/a/one.txt", "out/b/two.txt", "out/b/skip.tmp", "src/main.go"} {
		p := filepath.Join(root, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(f), 0o644)
	}
	os.Symlink("../src/main.go", filepath.Join(root, "out", "link.go"))
	tests := []struct {
		name            string
		base            string
		files, excludes []string
		discard         bool
		want            []string
	}{
		{"all", "", []string{"**/*"}, nil, false, []string{"out/a/one.txt", "out/b/skip.tmp", "out/b/two.txt", "out/link.go", "src/main.go"}},
		{"base and exclude", "out", []string{"**/*"}, []string{"**/*.tmp"}, false, []string{"a/one.txt", "b/two.txt", "link.go"}},
		{"discard paths", "out", []string{"a/*", "b/two.txt"}, nil, true, []string{"one.txt", "two.txt"}},
		{"directory pattern", "", []string{"src"}, nil, false, []string{"src/main.go"}},
		{"dot", "out/a", []string{"."}, nil, false, []string{"one.txt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, err := baseDir(root, tt.base)
			if err != nil {
				t.Fatal(err)
			}
			files, err := collect(root, base, tt.files, tt.excludes, tt.discard, false)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range files {
				got = append(got, f.name)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("collect (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCollectRefusesEscapes(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "src"), 0o755)
	os.Symlink("/etc", filepath.Join(root, "src", "etc"))
	os.Symlink("/etc/hostname", filepath.Join(root, "src", "hostname"))
	src := filepath.Join(root, "src")
	if _, err := baseDir(src, "../"); !errors.Is(err, errEscapes) {
		t.Errorf("base-directory ../: got %v, want errEscapes", err)
	}
	if _, err := baseDir(src, "etc"); !errors.Is(err, errEscapes) {
		t.Errorf("base-directory through a symlink out: got %v, want errEscapes", err)
	}
	if _, err := collect(src, src, []string{"../x"}, nil, false, false); !errors.Is(err, errEscapes) {
		t.Errorf("files ../x: got %v, want errEscapes", err)
	}
	if _, err := collect(src, src, []string{"hostname"}, nil, false, false); !errors.Is(err, errEscapes) {
		t.Errorf("a symlink to a host file: got %v, want errEscapes", err)
	}
}

func TestRelativeToSource(t *testing.T) {
	x := &build{srcDir: "/codebuild/output/src123/src"}
	tests := map[string]string{
		"/codebuild/output/src123/src":      ".",
		"/codebuild/output/src123/src/dist": "./dist",
		"/codebuild/output/src123/srcx":     "/codebuild/output/src123/srcx",
		"dist":                              "dist",
	}
	for in, want := range tests {
		if got := x.relativeToSource(in); got != want {
			t.Errorf("relativeToSource(%q) = %q, want %q", in, got, want)
		}
	}
}
