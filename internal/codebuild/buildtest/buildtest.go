// Package buildtest runs CodeBuild builds through the runner for the tests
// of the packages that shape a build's environment (images, privileged
// mode, VPC links), without the CodeBuild service.
package buildtest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"overcast/internal/codebuild/runner"
	"overcast/internal/docker"
)

// Source is Hooks whose primary source is a set of files; the builds run
// with it call no other hook.
type Source struct {
	runner.Hooks // nil
	Files        map[string]string
}

// DownloadSource writes the files into the primary source directory.
func (s Source) DownloadSource(_ context.Context, dirs map[string]string) (runner.Sources, error) {
	for name, body := range s.Files {
		if err := os.WriteFile(filepath.Join(dirs[""], name), []byte(body), 0o644); err != nil {
			return runner.Sources{}, err
		}
	}
	return runner.Sources{}, nil
}

// Log is an Observer keeping the build's log.
type Log struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *Log) Phase(runner.Phase) {}

func (l *Log) Log(p []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Write(p)
}

func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Run runs b (in a new WorkDir) with files as its source and returns how
// it ended and its log; a fault of the runner fails the test.
func Run(t testing.TB, ctx context.Context, e *docker.Engine, b runner.Build, files map[string]string) (runner.Result, string) {
	t.Helper()
	if b.WorkDir == "" {
		b.WorkDir = t.TempDir()
	}
	log := &Log{}
	res, err := runner.New(e, "codebuild").Run(ctx, b, Source{Files: files}, log)
	if err != nil {
		t.Fatal(err)
	}
	return res, log.String()
}
