// Package dockertest helps the tests of packages that run containers:
// it connects to the engine (skipping without one, unless
// OVERCAST_TEST_DOCKER=1), labels and cleans up what a test creates, and
// builds the test app that test images are made of, since no registry can
// be reached to pull one.
package dockertest

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"overcast/internal/docker"
	"overcast/internal/service/servicetest"
)

// Engine connects to the engine at DOCKER_HOST, skipping the test when
// none answers, unless OVERCAST_TEST_DOCKER=1 says one must.
func Engine(t testing.TB) *docker.Engine {
	t.Helper()
	e, err := docker.New(docker.Options{})
	if err != nil {
		t.Fatalf("docker.New: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.Ping(ctx); err != nil {
		if os.Getenv("OVERCAST_TEST_DOCKER") == "1" {
			t.Fatalf("no Docker engine at %s (%v) and OVERCAST_TEST_DOCKER=1", e.Host(), err)
		}
		t.Skipf("no Docker engine at %s (%v); set OVERCAST_TEST_DOCKER=1 to make this a failure", e.Host(), err)
	}
	return e
}

// RandomHex is n random bytes in hex: an ID that sets one run's names
// apart from another's on a shared engine.
func RandomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Labels are the labels of everything one test creates: overcast.test is
// runID and the test's name. The cleanup it registers removes all of it,
// whatever the test's outcome, and fails the test if anything is left.
func Labels(t testing.TB, e *docker.Engine, runID string) map[string]string {
	t.Helper()
	labels := map[string]string{docker.LabelTest: runID + "-" + strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := e.Purge(ctx, labels); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		inv, err := e.Inventory(ctx, labels)
		if err != nil || len(inv.Containers)+len(inv.Networks)+len(inv.Volumes)+len(inv.Images) != 0 {
			t.Errorf("cleanup left %+v (%v)", inv, err)
		}
	})
	return labels
}

var app struct {
	once    sync.Once
	program []byte
	err     error
}

// App returns the test app (internal/docker/testdata/testapp) built as a
// static Linux binary, once per test process. Its first argument picks a
// behaviour: serve ADDR, exit CODE, get URL, copy SRC DST, cat FILE, ...
func App() ([]byte, error) {
	app.once.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		source := filepath.Join(filepath.Dir(file), "..", "testdata", "testapp")
		dir, err := os.MkdirTemp("", "overcast-testapp")
		if err != nil {
			app.err = err
			return
		}
		defer os.RemoveAll(dir)
		bin := filepath.Join(dir, "app")
		build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-trimpath", "-ldflags=-s -w", "-o", bin, ".")
		build.Dir = source
		build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
		if out, err := build.CombinedOutput(); err != nil {
			app.err = fmt.Errorf("building the test app: %v\n%s", err, out)
			return
		}
		app.program, app.err = os.ReadFile(bin)
	})
	return app.program, app.err
}

// Tar is a tar of files, for ImportImage; those named app are executable.
func Tar(files map[string][]byte) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		mode := int64(0o644)
		if filepath.Base(name) == "app" {
			mode = 0o755
		}
		// Writing to memory cannot fail.
		tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(files[name])), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)})
		tw.Write(files[name])
	}
	tw.Close()
	return buf.Bytes()
}

// ImportApp imports the test app as image ref: /app, its entrypoint,
// serving HTTP on :8080 unless given another command, and files next to
// it; labels go on the image.
func ImportApp(ctx context.Context, e *docker.Engine, ref string, files map[string][]byte, labels map[string]string) error {
	program, err := App()
	if err != nil {
		return err
	}
	all := map[string][]byte{"app": program}
	maps.Copy(all, files)
	_, err = e.ImportImage(ctx, "dockertest", bytes.NewReader(Tar(all)), ref, docker.ImageConfig{
		Entrypoint: []string{"/app"}, Cmd: []string{"serve", ":8080"}, Labels: labels,
	})
	return err
}

// Get is the body of url once it answers 200 OK: a container's server,
// which may still be starting. The test fails if it never answers.
func Get(t testing.TB, url string) string {
	t.Helper()
	var body string
	servicetest.WaitForEvery(t, "an answer from "+url, 50*time.Millisecond, 20*time.Second, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == http.StatusOK
	})
	return body
}

// OnceImage is a test image that a test process imports once, on first
// use, for all of its tests.
type OnceImage struct {
	once sync.Once
	ref  string
	err  error
}

// Get returns the image's reference, importing it on the first call with
// importImage; an import that failed fails every test that asks.
func (o *OnceImage) Get(t testing.TB, importImage func(ctx context.Context) (ref string, err error)) string {
	t.Helper()
	o.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		ref, err := importImage(ctx)
		if err != nil {
			o.err = err
			return
		}
		o.ref = ref
	})
	if o.err != nil {
		t.Fatalf("making the test image: %v", o.err)
	}
	return o.ref
}

// Ref is the image's reference once imported: "" before, or when the
// import failed.
func (o *OnceImage) Ref() string { return o.ref }
