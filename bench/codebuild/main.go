// Command codebuild benchmarks the CodeBuild runner on this machine's
// Docker engine, with an image of the host's static busybox (Debian's
// busybox-static):
//
//   - start → first command running: from Runner.Run to the output of the
//     buildspec's first command (echo) reaching the log, which covers
//     provisioning the container, DOWNLOAD_SOURCE and the shell agent;
//   - StartBuild → first command running: the same through the API of an
//     `overcast up`, from sending StartBuild to the first command calling
//     back to this process;
//   - per-command overhead: a BUILD phase of 200 `true` commands, its
//     duration divided by 200;
//   - for reference, `docker run --rm <image> true` and one `docker exec`
//     (what a runner that execs per command would pay for each).
//
// Each figure is the median of the rounds.
//
// Usage: go run ./bench/codebuild [-rounds 5] [-commands 200]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"overcast/internal/codebuild/runner"
	"overcast/internal/docker"
	"overcast/internal/docker/dockertest"
)

type observer struct {
	mu         sync.Mutex
	start      time.Time
	firstShown time.Duration
	build      time.Duration
}

func (o *observer) Phase(p runner.Phase) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if p.Type == runner.PhaseBuild && p.Status != "" {
		o.build = p.End.Sub(p.Start)
	}
}

func (o *observer) Log(p []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.firstShown == 0 && bytes.Equal(p, []byte("first\n")) {
		o.firstShown = time.Since(o.start)
	}
}

type noHooks struct{ runner.LocalHooks }

func (noHooks) DownloadSource(ctx context.Context, dirs map[string]string) (runner.Sources, error) {
	return runner.Sources{}, nil
}

func median(xs []time.Duration) time.Duration {
	slices.Sort(xs)
	return xs[len(xs)/2]
}

func timeCmd(name string, args ...string) (time.Duration, error) {
	start := time.Now()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return time.Since(start), nil
}

func main() {
	rounds := flag.Int("rounds", 5, "rounds")
	commands := flag.Int("commands", 200, "commands in the per-command build")
	flag.Parse()
	if err := run(*rounds, *commands); err != nil {
		fmt.Fprintln(os.Stderr, "bench/codebuild:", err)
		os.Exit(1)
	}
}

func run(rounds, commands int) error {
	ctx := context.Background()
	e, err := docker.New(docker.Options{})
	if err != nil {
		return err
	}
	defer e.Close()
	ref := fmt.Sprintf("overcast-bench/codebuild-shell:%d", os.Getpid())
	labels := map[string]string{docker.LabelTest: "bench-codebuild"}
	if err := dockertest.ImportBusybox(ctx, e, ref, labels); err != nil {
		return err
	}
	defer e.Purge(context.Background(), labels)

	var spec strings.Builder
	spec.WriteString("version: 0.2\nphases:\n  install:\n    commands:\n      - echo first\n  build:\n    commands:\n")
	for range commands {
		spec.WriteString("      - \"true\"\n")
	}
	r := runner.New(e, "codebuild-bench")
	var first, perCommand, dockerRun, dockerExec []time.Duration
	for i := 0; i < rounds; i++ {
		work, err := os.MkdirTemp("", "bench-codebuild-")
		if err != nil {
			return err
		}
		o := &observer{start: time.Now()}
		res, err := r.Run(ctx, runner.Build{ID: "bench:1", Project: "bench", Image: ref, Buildspec: spec.String(), WorkDir: work, Labels: labels}, noHooks{}, o)
		os.RemoveAll(work)
		if err != nil {
			return err
		}
		if res.Status != runner.StatusSucceeded {
			return fmt.Errorf("build %s", res.Status)
		}
		first = append(first, o.firstShown)
		perCommand = append(perCommand, o.build/time.Duration(commands))

		d, err := timeCmd("docker", "run", "--rm", "--label", "overcast.test=bench-codebuild", ref, "true")
		if err != nil {
			return err
		}
		dockerRun = append(dockerRun, d)
		name := fmt.Sprintf("bench-codebuild-%d-%d", os.Getpid(), i)
		if _, err := timeCmd("docker", "run", "-d", "--name", name, "--label", "overcast.test=bench-codebuild", ref, "sleep", "60"); err != nil {
			return err
		}
		d, err = timeCmd("docker", "exec", name, "true")
		exec.Command("docker", "rm", "-f", name).Run()
		if err != nil {
			return err
		}
		dockerExec = append(dockerExec, d)
	}
	api, err := startToFirstCommand(ctx, ref, rounds)
	if err != nil {
		return fmt.Errorf("through the API: %w", err)
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }
	fmt.Printf("| metric (median of %d) | ms | target |\n|---|---|---|\n", rounds)
	fmt.Printf("| StartBuild → first command running (API, `overcast up`) | %s | < 1500 |\n", ms(median(api)))
	fmt.Printf("| Run → first command's output | %s | < 1500 |\n", ms(median(first)))
	fmt.Printf("| per-command overhead (%d commands) | %s | < 20 |\n", commands, ms(median(perCommand)))
	fmt.Printf("| reference: docker run --rm image true | %s | |\n", ms(median(dockerRun)))
	fmt.Printf("| reference: one docker exec | %s | |\n", ms(median(dockerExec)))
	return nil
}
