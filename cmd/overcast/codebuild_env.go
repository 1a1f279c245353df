package main

import (
	"context"
	"log/slog"
	"os"

	"overcast/internal/codebuild/buildenv"
	"overcast/internal/codebuild/runner"
	"overcast/internal/codebuild/vpc"
	"overcast/internal/docker"
)

// localEnvironment resolves the build's image as the service does (AWS's
// curated names run on the local stand-in, built on first use) and, for a
// privileged build, hands it the engine.
func localEnvironment(ctx context.Context, engine *docker.Engine, b *runner.Build) error {
	env := buildenv.New(buildenv.Options{Engine: engine, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	image, note, err := env.Resolve(ctx, b.Image)
	if err != nil {
		return err
	}
	b.Image, b.ImageNote = image, note
	return env.Apply(ctx, "", "", b, vpc.Config{})
}
