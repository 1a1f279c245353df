package dockertest

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"overcast/internal/docker"
)

// busyboxPath is Debian's static busybox (package busybox-static).
const busyboxPath = "/bin/busybox"

// ErrNoBusybox says the host has no static busybox to make a shell image of.
var ErrNoBusybox = errors.New("no static busybox at " + busyboxPath + " (apt-get install busybox-static)")

// BusyboxTar is a root filesystem with a POSIX shell and the usual
// utilities: the host's static busybox as /bin/busybox, a symlink per
// applet, /etc/passwd with root and builder (uid 1000), /tmp and /root.
// Tests of packages that run shell commands (CodeBuild) make images of it.
func BusyboxTar() ([]byte, error) {
	program, err := os.ReadFile(busyboxPath)
	if err != nil {
		return nil, ErrNoBusybox
	}
	if !bytes.HasPrefix(program, []byte("\x7fELF")) {
		return nil, ErrNoBusybox
	}
	list, err := exec.Command(busyboxPath, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoBusybox, err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0)
	for _, dir := range []string{"bin/", "etc/", "root/", "home/builder/"} {
		tw.WriteHeader(&tar.Header{Name: dir, Mode: 0o755, Typeflag: tar.TypeDir, ModTime: epoch})
	}
	tw.WriteHeader(&tar.Header{Name: "tmp/", Mode: 0o1777, Typeflag: tar.TypeDir, ModTime: epoch})
	tw.WriteHeader(&tar.Header{Name: "bin/busybox", Mode: 0o755, Size: int64(len(program)), Typeflag: tar.TypeReg, ModTime: epoch})
	tw.Write(program)
	for _, applet := range strings.Fields(string(list)) {
		if applet == "busybox" {
			continue
		}
		tw.WriteHeader(&tar.Header{Name: "bin/" + applet, Linkname: "busybox", Mode: 0o777, Typeflag: tar.TypeSymlink, ModTime: epoch})
	}
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nbuilder:x:1000:1000:builder:/home/builder:/bin/sh\n",
		"etc/group":  "root:x:0:\nbuilder:x:1000:\n",
	}
	for name, content := range files {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg, ModTime: epoch})
		tw.Write([]byte(content))
	}
	tw.Close()
	return buf.Bytes(), nil
}

// ImportBusybox imports BusyboxTar as image ref with PATH set; labels go
// on the image.
func ImportBusybox(ctx context.Context, e *docker.Engine, ref string, labels map[string]string) error {
	rootfs, err := BusyboxTar()
	if err != nil {
		return err
	}
	_, err = e.ImportImage(ctx, "dockertest", bytes.NewReader(rootfs), ref, docker.ImageConfig{
		Cmd:    []string{"/bin/sh"},
		Env:    map[string]string{"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		Labels: labels,
	})
	return err
}

// ShellImage is a busybox image (ImportBusybox) that a test process
// imports once, on first use, for all of its tests: the shell that
// CodeBuild's tests run builds in.
type ShellImage struct {
	OnceImage
	name, runID string
	engine      *docker.Engine
}

// NewShellImage is the shell image overcast-test/<name>:<runID>, labelled
// with runID as its overcast.test label.
func NewShellImage(name, runID string) *ShellImage {
	return &ShellImage{name: name, runID: runID}
}

// Get returns the image's reference, importing it on first use. Without a
// static busybox the test is skipped, or fails under OVERCAST_TEST_DOCKER=1;
// without an engine, see Engine.
func (s *ShellImage) Get(t testing.TB) string {
	t.Helper()
	engine := Engine(t)
	if _, err := BusyboxTar(); err != nil {
		if os.Getenv("OVERCAST_TEST_DOCKER") == "1" {
			t.Fatalf("%v; the test needs a shell image", err)
		}
		t.Skipf("%v; the test needs a shell image", err)
	}
	return s.OnceImage.Get(t, func(ctx context.Context) (string, error) {
		// The engine Engine returned closes with the test that happened
		// to import the image; Remove needs one of its own.
		var err error
		if s.engine, err = docker.New(docker.Options{}); err != nil {
			return "", err
		}
		ref := "overcast-test/" + s.name + ":" + s.runID
		return ref, ImportBusybox(ctx, engine, ref, map[string]string{docker.LabelTest: s.runID})
	})
}

// Main is a TestMain for the tests of a package that use the image: it runs
// them, then removes the image.
func (s *ShellImage) Main(m *testing.M) {
	code := m.Run()
	s.Remove()
	os.Exit(code)
}

// Remove removes the image if it was imported; TestMain calls it after the
// tests ran.
func (s *ShellImage) Remove() {
	if s.Ref() == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s.engine.Purge(ctx, map[string]string{docker.LabelTest: s.runID})
	s.engine.Close()
}
