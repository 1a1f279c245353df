package docker_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"overcast/internal/docker"
	"overcast/internal/docker/dockertest"
	"overcast/internal/service/servicetest"
)

// runID tells this test process's engine objects from any other's (a
// parallel `go test`, or leftovers of a killed run).
var runID = randomHex(4)

// testOwner is the overcast.owner of everything the tests create.
const testOwner = "docker-test"

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func TestMain(m *testing.M) {
	code := m.Run()
	// The shared test image is the one object no single test owns.
	if app.Ref() != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := app.engine.Purge(ctx, map[string]string{docker.LabelTest: runID}); err != nil {
			fmt.Fprintln(os.Stderr, "removing the test image:", err)
		}
		cancel()
		app.engine.Close()
	}
	os.Exit(code)
}

// newEngine connects to the engine at DOCKER_HOST (dockertest.Engine).
func newEngine(t testing.TB) *docker.Engine { return dockertest.Engine(t) }

// engineTest begins a test against the engine, in parallel with the
// others: it returns the engine, a context bounding the test's calls
// (testCtx) and the labels of what the test creates (testLabels).
func engineTest(t *testing.T) (*docker.Engine, context.Context, map[string]string) {
	t.Helper()
	t.Parallel()
	e := newEngine(t)
	return e, testCtx(t), testLabels(t, e)
}

// testCtx bounds a test's engine calls, so that a hung engine fails the
// test instead of the whole run.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// testLabels are the labels of everything one test creates; the cleanup it
// registers removes all of it, whatever the test's outcome.
func testLabels(t testing.TB, e *docker.Engine) map[string]string {
	return dockertest.Labels(t, e, runID)
}

// app is the test image: testdata/testapp, built static, as the single file
// /app of an imported root filesystem. It is made once per test process.
var app struct {
	dockertest.OnceImage
	engine *docker.Engine
	binary []byte // the program, for tests that package it themselves
}

// appBinary builds testdata/testapp as a static Linux binary.
func appBinary(t testing.TB) []byte {
	t.Helper()
	appImage(t)
	return app.binary
}

// appImage returns the test image's reference; its entrypoint is /app and
// its default command serves HTTP on :8080.
func appImage(t testing.TB) string {
	t.Helper()
	newEngine(t) // skips without an engine
	return app.Get(t, func(ctx context.Context) (string, error) {
		var err error
		if app.binary, err = dockertest.App(); err != nil {
			return "", err
		}
		// The engine outlives the test that happened to build the image:
		// TestMain removes the image with it.
		if app.engine, err = docker.New(docker.Options{}); err != nil {
			return "", err
		}
		ref := "overcast-test/app:" + runID
		_, err = app.engine.ImportImage(ctx, testOwner, bytes.NewReader(rootfsTar(app.binary, "app")), ref, docker.ImageConfig{
			Entrypoint:   []string{"/app"},
			Cmd:          []string{"serve", ":8080"},
			Labels:       map[string]string{docker.LabelTest: runID},
			ExposedPorts: []string{"8080/tcp"},
		})
		return ref, err
	})
}

// rootfsTar is a root filesystem holding the program as /app, and a file
// /id whose content sets the layer apart: the engine (20.10) can deadlock
// when one layer is imported, loaded and pulled at once, which production
// does not do but parallel tests would.
func rootfsTar(program []byte, id string) []byte {
	return tarOf(map[string][]byte{"app": program, "id": []byte(id + "-" + runID)})
}

// tarOf is a tar of files; those named app are executable.
func tarOf(files map[string][]byte) []byte { return dockertest.Tar(files) }

// run creates and starts a container of the test image with the test's
// labels, and returns its ID.
func run(t testing.TB, e *docker.Engine, labels map[string]string, spec docker.ContainerSpec) string {
	t.Helper()
	id := create(t, e, labels, spec)
	if err := e.StartContainer(testCtx(t), id); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	return id
}

func create(t testing.TB, e *docker.Engine, labels map[string]string, spec docker.ContainerSpec) string {
	t.Helper()
	if spec.Image == "" {
		spec.Image = appImage(t)
	}
	if spec.Owner == "" {
		spec.Owner = testOwner
	}
	spec.Labels = merge(spec.Labels, labels)
	id, err := e.CreateContainer(testCtx(t), spec)
	if err != nil {
		t.Fatalf("CreateContainer: %v", err)
	}
	return id
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// waitFor polls cond until it holds or 20 seconds pass, at a pace the
// engine does not notice.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	servicetest.WaitForEvery(t, what, 50*time.Millisecond, 20*time.Second, cond)
}
