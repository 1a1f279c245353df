package docker

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
)

// BuildSpec describes an image build.
type BuildSpec struct {
	// Owner is the service building (required); the image carries its
	// managed labels.
	Owner string
	// Context is a tar stream of the build context; ContextDir a directory
	// to send instead. Exactly one is set.
	Context    io.Reader
	ContextDir string
	// Dockerfile is the Dockerfile's path inside the context ("Dockerfile"
	// when empty).
	Dockerfile string
	Tags       []string
	Args       map[string]string
	Labels     map[string]string
	// Target is the stage of a multi-stage Dockerfile to stop at.
	Target string
	// NoCache rebuilds every step; Pull refreshes base images.
	NoCache bool
	Pull    bool
	// NetworkMode is the network RUN steps use ("" is the default bridge).
	NetworkMode string
	ExtraHosts  []string
	// Output receives the build's log as the engine prints it
	// ("Step 1/3 : FROM scratch" ...); nil discards it.
	Output io.Writer
}

// Build builds an image and returns its ID. A failing step is
// ErrBuildFailed, with the engine's message; the log up to the failure
// went to spec.Output.
//
// Builds use the engine's classic builder: BuildKit's session protocol is
// not spoken here, and the classic builder is what every engine has.
// .dockerignore is not applied to ContextDir.
func (e *Engine) Build(ctx context.Context, spec BuildSpec) (string, error) {
	const op = "build"
	opts, err := spec.buildOptions()
	if err != nil {
		return "", err
	}
	body := spec.Context
	if spec.ContextDir != "" {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(TarDir(pw, spec.ContextDir)) }()
		defer pr.Close()
		body = pr
	}
	r, err := e.api.ImageBuild(ctx, body, opts)
	if err != nil {
		return "", wrap(op, err)
	}
	defer r.Body.Close()
	out := writerOrDiscard(spec.Output)
	var id string
	err = readJSONStream(r.Body, func(m jsonstream.Message) {
		if m.Stream != "" {
			io.WriteString(out, m.Stream)
		}
		if m.Aux != nil {
			var aux struct{ ID string }
			if json.Unmarshal(*m.Aux, &aux) == nil && aux.ID != "" {
				id = aux.ID
			}
		}
	})
	if ctx.Err() != nil {
		return "", wrap(op, ctx.Err())
	}
	var jerr *jsonstream.Error
	if errors.As(err, &jerr) {
		return "", &Error{Op: op, Kind: ErrBuildFailed, Err: err}
	}
	if err != nil {
		return "", wrap(op, err)
	}
	if id == "" {
		return "", &Error{Op: op, Kind: ErrBuildFailed, Err: errors.New("the engine reported no image ID")}
	}
	return id, nil
}

func (s BuildSpec) buildOptions() (client.ImageBuildOptions, error) {
	const op = "build"
	if err := requireOwner(op, s.Owner); err != nil {
		return client.ImageBuildOptions{}, err
	}
	if (s.Context == nil) == (s.ContextDir == "") {
		return client.ImageBuildOptions{}, invalid(op, "give exactly one of a context stream and a context directory")
	}
	opts := client.ImageBuildOptions{
		Tags:        s.Tags,
		Dockerfile:  s.Dockerfile,
		Labels:      ManagedLabels(s.Owner, s.Labels),
		Target:      s.Target,
		NoCache:     s.NoCache,
		PullParent:  s.Pull,
		NetworkMode: s.NetworkMode,
		ExtraHosts:  s.ExtraHosts,
		// Intermediate containers of the classic builder carry no labels:
		// remove them even when a step fails, or nobody will.
		Remove:      true,
		ForceRemove: true,
	}
	if len(s.Args) > 0 {
		opts.BuildArgs = make(map[string]*string, len(s.Args))
		for k, v := range s.Args {
			opts.BuildArgs[k] = &v
		}
	}
	return opts, nil
}

// TarDir writes dir as a tar stream with paths relative to dir. Symbolic
// links are stored as links, never followed, so nothing outside dir is
// sent.
func TarDir(w io.Writer, dir string) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		var link string
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(path); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		hdr.Name = filepath.ToSlash(rel)
		if info.IsDir() && !strings.HasSuffix(hdr.Name, "/") {
			hdr.Name += "/"
		}
		// Owners on this host mean nothing in the image.
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
