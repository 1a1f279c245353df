package main

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"overcast/internal/docker/dockertest"
)

func TestCodebuildRunUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"start"}} {
		if err := codebuild(args); err == nil || !strings.Contains(err.Error(), "usage: overcast codebuild run") {
			t.Errorf("codebuild(%q) = %v, want the usage", args, err)
		}
	}
	var env envFlags
	if err := env.Set("NOEQUALS"); err == nil {
		t.Errorf("-e NOEQUALS was accepted")
	}
}

// TestCodebuildRun builds a directory with its buildspec in a busybox image
// and finds the log on stdout and the artifact in -a.
func TestCodebuildRun(t *testing.T) {
	if _, err := dockertest.BusyboxTar(); err != nil {
		t.Skipf("%v; the local build needs a shell image", err)
	}
	e := dockertest.Engine(t)
	runID := fmt.Sprint(time.Now().UnixNano())
	labels := dockertest.Labels(t, e, runID)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ref := "overcast-test/codebuild-run:" + runID
	if err := dockertest.ImportBusybox(ctx, e, ref, labels); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.RemoveImage(context.Background(), ref, true) })

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "VERSION"), []byte("3\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "buildspec.yml"), []byte(`version: 0.2
env:
  exported-variables: [TAG]
phases:
  build:
    commands:
      - TAG=v$(cat VERSION)
      - mkdir -p dist && echo "built $TAG with $GREETING" > dist/app.txt
artifacts:
  base-directory: dist
  files: ['**/*']
  name: app-$TAG.zip
`), 0o644)
	out := filepath.Join(dir, "out")
	var stdout bytes.Buffer
	if err := codebuildRun([]string{"-d", dir, "-i", ref, "-e", "GREETING=hello", "-a", out}, &stdout); err != nil {
		t.Fatalf("codebuild run: %v\n%s", err, stdout.String())
	}
	for _, want := range []string{"Running command TAG=v$(cat VERSION)\n", "Phase complete: BUILD State: SUCCEEDED\n", "Exported variable TAG=v3\n", "Build SUCCEEDED\n"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
		}
	}
	zr, err := zip.OpenReader(filepath.Join(out, "app-v3.zip"))
	if err != nil {
		t.Fatalf("the artifact: %v", err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "app.txt" {
		t.Errorf("got zip entries %v, want app.txt", zr.File)
	}
}
