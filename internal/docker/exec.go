package docker

import (
	"bytes"
	"context"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// ExecSpec is a command to run inside a running container (ECS Exec,
// CodeDeploy hooks, health probes).
type ExecSpec struct {
	Cmd        []string
	Env        map[string]string
	WorkingDir string
	User       string
	// Stdout and Stderr, when set, receive the output as it comes instead
	// of ExecResult collecting it.
	Stdout io.Writer
	Stderr io.Writer
}

// ExecResult is how an exec ended.
type ExecResult struct {
	ExitCode int
	// Stdout and Stderr are the collected output, for the streams that had
	// no writer in the spec.
	Stdout []byte
	Stderr []byte
}

// Exec runs spec.Cmd in a running container and waits for it to end.
// Cancelling ctx abandons the command (the engine cannot kill an exec; it
// dies with its container).
func (e *Engine) Exec(ctx context.Context, id string, spec ExecSpec) (ExecResult, error) {
	op := "exec in " + id
	if len(spec.Cmd) == 0 {
		return ExecResult{}, invalid(op, "a command is required")
	}
	env := make([]string, 0, len(spec.Env))
	for _, k := range slices.Sorted(maps.Keys(spec.Env)) {
		env = append(env, k+"="+spec.Env[k])
	}
	created, err := e.api.ExecCreate(ctx, id, client.ExecCreateOptions{
		Cmd:          spec.Cmd,
		Env:          env,
		WorkingDir:   spec.WorkingDir,
		User:         spec.User,
		AttachStdout: true,
		AttachStderr: true,
	})
	if err != nil {
		return ExecResult{}, wrap(op, err)
	}
	att, err := e.api.ExecAttach(ctx, created.ID, client.ExecAttachOptions{})
	if err != nil {
		return ExecResult{}, wrap(op, err)
	}
	defer att.Close()

	var res ExecResult
	var outBuf, errBuf bytes.Buffer
	stdout, stderr := spec.Stdout, spec.Stderr
	if stdout == nil {
		stdout = &outBuf
	}
	if stderr == nil {
		stderr = &errBuf
	}
	_, err = stdcopy.StdCopy(stdout, stderr, att.Reader)
	if ctx.Err() != nil {
		return ExecResult{}, wrap(op, ctx.Err())
	}
	if err != nil {
		return ExecResult{}, wrap(op, err)
	}
	res.Stdout, res.Stderr = outBuf.Bytes(), errBuf.Bytes()

	// The stream closes when the process's output does; the engine records
	// the exit code a moment later.
	for delay := time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		st, err := e.api.ExecInspect(ctx, created.ID, client.ExecInspectOptions{})
		if err != nil {
			return ExecResult{}, wrap(op, err)
		}
		if !st.Running {
			res.ExitCode = st.ExitCode
			return res, nil
		}
		select {
		case <-ctx.Done():
			return ExecResult{}, wrap(op, ctx.Err())
		case <-time.After(delay):
		}
	}
}
