package images

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"overcast/internal/docker"
	"overcast/internal/tabletest"
)

func TestCurated(t *testing.T) {
	tabletest.Run(t, "Curated", Curated, map[string]bool{
		"aws/codebuild/standard:7.0":                                        true,
		"aws/codebuild/standard:5.0":                                        true,
		"aws/codebuild/amazonlinux2-x86_64-standard:5.0":                    true,
		"aws/codebuild/amazonlinux-x86_64-standard:corretto21":              true,
		"aws/codebuild/amazonlinux2-aarch64-standard:3.0":                   true,
		"aws/codebuild/amazonlinux-aarch64-standard:3.0":                    true,
		"aws/codebuild/amazonlinux-x86_64-lambda-standard:python3.12":       true,
		"aws/codebuild/windows-base:2019-3.0":                               true,
		"127.0.0.1:4566/000000000000.dkr.ecr.us-east-1.amazonaws.com/app:1": false,
		"public.ecr.aws/codebuild/amazonlinux-x86_64-standard:5.0":          false,
		"debian:bookworm": false,
		"aws/codebuild":   false,
	})
}

// fakeEngine records builds; images it built exist.
type fakeEngine struct {
	mu       sync.Mutex
	images   map[string]bool
	imports  int
	builds   int
	gate     chan struct{} // when set, Build waits for it
	buildErr error
}

func (f *fakeEngine) ImageExists(_ context.Context, ref string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.images[ref], nil
}

func (f *fakeEngine) ImportImage(_ context.Context, _ string, rootfs io.Reader, ref string, _ docker.ImageConfig) (string, error) {
	io.Copy(io.Discard, rootfs)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.imports++
	f.images[ref] = true
	return "sha256:base", nil
}

func (f *fakeEngine) Build(_ context.Context, spec docker.BuildSpec) (string, error) {
	if f.gate != nil {
		<-f.gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.builds++
	if f.buildErr != nil {
		return "", f.buildErr
	}
	for _, tag := range spec.Tags {
		f.images[tag] = true
	}
	return "sha256:standard", nil
}

func TestResolvePassesOtherImagesThrough(t *testing.T) {
	r := New(&fakeEngine{images: map[string]bool{}}, Options{})
	for _, name := range []string{"debian:bookworm", "127.0.0.1:4566/000000000000.dkr.ecr.us-east-1.amazonaws.com/app:1"} {
		image, note, err := r.Resolve(context.Background(), name)
		if err != nil || image != name || note != "" {
			t.Errorf("Resolve(%q): got (%q, %q, %v), want (%q, \"\", nil)", name, image, note, err, name)
		}
	}
}

func TestResolveRefusesOtherOperatingSystems(t *testing.T) {
	r := New(&fakeEngine{images: map[string]bool{}}, Options{})
	for _, name := range []string{"aws/codebuild/windows-base:2019-3.0", "aws/codebuild/macos-arm-base:14"} {
		if _, _, err := r.Resolve(context.Background(), name); !errors.Is(err, ErrUnsupported) {
			t.Errorf("Resolve(%q): got %v, want ErrUnsupported", name, err)
		}
	}
}

func TestResolveNamesTheMissingDebootstrap(t *testing.T) {
	r := New(&fakeEngine{images: map[string]bool{}}, Options{Debootstrap: "overcast-no-such-debootstrap"})
	_, _, err := r.Resolve(context.Background(), "aws/codebuild/standard:7.0")
	if err == nil || !strings.Contains(err.Error(), "the Debian package debootstrap") {
		t.Fatalf("got %v, want an error naming the debootstrap package", err)
	}
}

// A base that exists skips debootstrap; the stand-in is built once however
// many builds ask for it at the same time, and never again once it exists.
func TestResolveBuildsTheStandInOnce(t *testing.T) {
	f := &fakeEngine{images: map[string]bool{baseTag: true}, gate: make(chan struct{})}
	r := New(f, Options{Debootstrap: "overcast-no-such-debootstrap"})
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for range 5 {
		wg.Go(func() {
			image, note, err := r.Resolve(context.Background(), "aws/codebuild/amazonlinux2-x86_64-standard:5.0")
			if err == nil && (image != StandardImage() || !strings.Contains(note, StandardImage())) {
				err = errors.New("got image " + image + ", note " + note)
			}
			errs <- err
		})
	}
	close(f.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if _, _, err := r.Resolve(context.Background(), "aws/codebuild/standard:6.0"); err != nil {
		t.Fatal(err)
	}
	if f.builds != 1 || f.imports != 0 {
		t.Errorf("got %d builds and %d imports, want 1 build and no import", f.builds, f.imports)
	}
}

func TestResolveReportsABuildFailureAndRetries(t *testing.T) {
	f := &fakeEngine{images: map[string]bool{baseTag: true}, buildErr: errors.New("apt-get failed")}
	r := New(f, Options{})
	if _, _, err := r.Resolve(context.Background(), "aws/codebuild/standard:7.0"); err == nil || !strings.Contains(err.Error(), "apt-get failed") {
		t.Fatalf("got %v, want the build's failure", err)
	}
	f.buildErr = nil
	if _, _, err := r.Resolve(context.Background(), "aws/codebuild/standard:7.0"); err != nil {
		t.Fatalf("second Resolve: %v", err)
	}
	if f.builds != 2 {
		t.Errorf("got %d builds, want 2", f.builds)
	}
}

func TestRecipeChangesTheTag(t *testing.T) {
	if a, b := recipeHash("x", "y"), recipeHash("xy"); a == b {
		t.Errorf("recipeHash(x, y) == recipeHash(xy) == %s", a)
	}
	if !strings.HasPrefix(StandardImage(), Repository+":") {
		t.Errorf("got %s, want a tag in %s", StandardImage(), Repository)
	}
}
