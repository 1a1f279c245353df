package images_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"overcast/internal/codebuild/images"
	"overcast/internal/docker"
	"overcast/internal/docker/dockertest"
)

// TestStandInRunsBuildspecTools builds (once per engine: the image is kept
// and reused by later runs) the stand-in for AWS's curated images and runs
// the tools buildspecs lean on in it.
func TestStandInRunsBuildspecTools(t *testing.T) {
	e := dockertest.Engine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	r := images.New(e, images.Options{Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	image, note, err := r.Resolve(ctx, "aws/codebuild/standard:7.0")
	if err != nil {
		t.Fatal(err)
	}
	if image != images.StandardImage() || !strings.Contains(note, "aws/codebuild/standard:7.0") {
		t.Fatalf("got (%q, %q), want %s and a note naming the curated image", image, note, images.StandardImage())
	}

	run := make([]byte, 4)
	rand.Read(run)
	labels := dockertest.Labels(t, e, hex.EncodeToString(run))
	id, err := e.CreateContainer(ctx, docker.ContainerSpec{Owner: "codebuild", Labels: labels, Image: image,
		Env: map[string]string{"AWS_ENDPOINT_URL": "http://169.254.170.2"},
		Cmd: []string{"bash", "-ec", `git --version; curl --version | head -1; zip -v | head -2; unzip -v | head -1; jq --version
python3 --version; docker --version; type aws; /usr/bin/aws --version`}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	code, err := e.WaitContainer(ctx, id)
	var out bytes.Buffer
	if lerr := e.Logs(ctx, id, docker.LogsOptions{Stdout: &out, Stderr: &out}); lerr != nil {
		t.Fatal(lerr)
	}
	if err != nil || code != 0 {
		t.Fatalf("tools: exit %d (%v):\n%s", code, err, out.String())
	}
	for _, want := range []string{"git version", "curl ", "jq-", "Python 3", "Docker version", "aws is /usr/local/bin/aws", "aws-cli/2"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
