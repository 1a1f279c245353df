package git

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

// ServeOptions are what a served git process sees besides its repository.
type ServeOptions struct {
	// HooksDir, when set, is the core.hooksPath of the repository: the
	// pre-receive hook there refuses what the server refuses.
	HooksDir string
	// Env is added to the process's environment (for the hooks).
	Env []string
	// Logger receives what git writes to its standard error over HTTP.
	Logger *slog.Logger
}

// env is the process environment for o, with config (key, value pairs)
// set as git configuration.
func (o ServeOptions) env(config ...string) []string {
	env := append(baseEnv(), o.Env...)
	if o.HooksDir != "" {
		config = append(config, "core.hooksPath", o.HooksDir)
	}
	for i := 0; i+1 < len(config); i += 2 {
		n := strconv.Itoa(i / 2)
		env = append(env, "GIT_CONFIG_KEY_"+n+"="+config[i], "GIT_CONFIG_VALUE_"+n+"="+config[i+1])
	}
	return append(env, "GIT_CONFIG_COUNT="+strconv.Itoa(len(config)/2))
}

// HTTPBackend serves git's smart HTTP protocol for the bare repository
// dir through `git http-backend`, for requests whose path is root followed
// by the path within the repository ("/info/refs", "/git-receive-pack").
// Bodies stream both ways: a push of any size is never held in memory.
// The caller has authenticated the request.
func HTTPBackend(dir, root string, o ServeOptions) http.Handler {
	// http.receivepack enables pushes for every caller, not only those the
	// web server authenticated (REMOTE_USER): overcast authenticated them.
	env := append(o.env("http.receivepack", "true"), "GIT_PROJECT_ROOT="+dir, "GIT_HTTP_EXPORT_ALL=1")
	h := &cgi.Handler{Path: gitPath(), Args: []string{"http-backend"}, Root: root, Env: env,
		Stderr: io.Discard}
	if o.Logger != nil {
		h.Stderr = logWriter{o.Logger}
	}
	return h
}

// ServePack runs git-upload-pack or git-receive-pack (service) on the
// bare repository dir over stdin and stdout, as an SSH session does. An
// exit status other than 0 comes back as an *exec.ExitError.
func ServePack(ctx context.Context, service, dir string, stdin io.Reader, stdout, stderr io.Writer, o ServeOptions) error {
	var sub string
	switch service {
	case "git-upload-pack":
		sub = "upload-pack"
	case "git-receive-pack":
		sub = "receive-pack"
	default:
		return fmt.Errorf("git: cannot serve %q", service)
	}
	cmd := exec.CommandContext(ctx, gitPath(), sub, dir)
	cmd.Env = o.env()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	return cmd.Run()
}

// WriteHook writes an executable hook script named name (pre-receive...)
// into dir, replacing what is there.
func WriteHook(dir, name, script string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, []byte(script), 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, name))
}

// gitPath is the git binary on PATH: a CGI handler runs a path, not a name.
func gitPath() string {
	if p, err := exec.LookPath("git"); err == nil {
		return p
	}
	return "git"
}

// logWriter logs each write of a process's standard error.
type logWriter struct{ l *slog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.l.Warn("git", "stderr", string(bytes.TrimSpace(p)))
	return len(p), nil
}
