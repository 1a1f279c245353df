package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"overcast/internal/codebuild/runner"
	"overcast/internal/docker"
)

// codebuild runs `overcast codebuild <subcommand>`.
func codebuild(args []string) error {
	if len(args) == 0 || args[0] != "run" {
		return errors.New("usage: overcast codebuild run [-d dir] [-b buildspec] [-i image] [-p] [-e VAR=value ...] [-a artifactsDir] [-c cacheDir]")
	}
	return codebuildRun(args[1:], os.Stdout)
}

// envFlags collects repeated -e VAR=value flags.
type envFlags []runner.EnvVar

func (e *envFlags) String() string { return fmt.Sprint(*e) }

func (e *envFlags) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("%q is not VAR=value", s)
	}
	*e = append(*e, runner.EnvVar{Name: name, Value: value, Type: runner.EnvPlaintext})
	return nil
}

// codebuildRun is a local build of a working directory with its buildspec,
// the log streamed to stdout: what AWS's local agent (codebuild_build.sh)
// does, without the API.
func codebuildRun(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("codebuild run", flag.ContinueOnError)
	dir := fs.String("d", ".", "the source directory")
	spec := fs.String("b", "", "the buildspec: a file path (default buildspec.yml in the source directory)")
	image := fs.String("i", "aws/codebuild/standard:7.0", "the build image")
	artifacts := fs.String("a", "", "where artifacts land (default: none are kept)")
	cacheDir := fs.String("c", "", "a directory for the buildspec's cache paths (default: no cache)")
	timeout := fs.Duration("t", 60*time.Minute, "the build timeout")
	privileged := fs.Bool("p", false, "privileged mode: the build can use the Docker engine")
	var env envFlags
	fs.Var(&env, "e", "an environment variable VAR=value (repeatable)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	src, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	b := runner.Build{
		ID: "local:" + fmt.Sprint(time.Now().UnixNano()), Project: "local", Number: 1,
		Image: *image, Env: env, Timeout: *timeout, Privileged: *privileged,
		System: map[string]string{"CODEBUILD_INITIATOR": "local"},
	}
	if *spec != "" {
		data, err := os.ReadFile(*spec)
		if err != nil {
			return err
		}
		b.Buildspec = string(data)
	}
	hooks := runner.LocalHooks{SourceDir: src, Log: func(format string, a ...any) { fmt.Fprintf(stdout, format+"\n", a...) }}
	if *artifacts != "" {
		if hooks.ArtifactsDir, err = filepath.Abs(*artifacts); err != nil {
			return err
		}
		if rel, err := filepath.Rel(src, hooks.ArtifactsDir); err == nil && filepath.IsLocal(rel) {
			hooks.Skip = rel
		}
		b.Artifacts = []runner.ArtifactTarget{{Type: "S3", Packaging: "ZIP", Name: "artifacts.zip", OverrideArtifactName: true}}
	}
	if *cacheDir != "" {
		abs, err := filepath.Abs(*cacheDir)
		if err != nil {
			return err
		}
		b.Cache = runner.Cache{Type: "LOCAL", Modes: []string{"LOCAL_CUSTOM_CACHE"}, LocalDir: abs}
	}
	work, err := os.MkdirTemp("", "overcast-codebuild-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	b.WorkDir = work

	engine, err := docker.New(docker.Options{})
	if err != nil {
		return err
	}
	defer engine.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := localEnvironment(ctx, engine, &b); err != nil {
		return err
	}
	res, err := runner.New(engine, "codebuild-local").Run(ctx, b, hooks, runner.WriterObserver{W: stdout})
	if err != nil {
		return err
	}
	for _, v := range res.ExportedVariables {
		fmt.Fprintf(stdout, "Exported variable %s=%s\n", v.Name, v.Value)
	}
	fmt.Fprintf(stdout, "Build %s\n", res.Status)
	if res.Status != runner.StatusSucceeded {
		return fmt.Errorf("build %s", strings.ToLower(res.Status))
	}
	return nil
}
