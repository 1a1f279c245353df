// Command ecr benchmarks overcast's registry side by side with the
// reference registry (distribution 2.8, Debian's docker-registry, filesystem
// storage, no auth) in one run on this machine:
//
//   - push and pull of an image with one 200 MB layer, and of an image of 50
//     layers of 1 MB, with go-containerregistry (crane's library: the same
//     client, with the same parallelism, for both);
//   - GET of the 200 MB layer with plain net/http, not hashing: the
//     server's own speed, which the pulls above (crane verifies every
//     digest, as docker does) hide behind the client's hashing;
//   - manifest GET by tag under 16 connections (wrk, 2 threads), overcast
//     with a valid token in a Basic Authorization header.
//
// Each figure is the median of the rounds; layers are fresh random bytes
// for every push so nothing is deduplicated.
//
// Usage: go run ./bench/ecr [-rounds 5] [-big-mb 200] [-layers 50] [-layer-mb 1] [-seconds 5]
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

type server struct {
	name string
	host string
	auth authn.Authenticator
	// prepare makes a repository ready to receive a push.
	prepare func(repo string) error
	// header is the Authorization header for wrk, if any.
	header string
	proc   *exec.Cmd
}

func main() {
	rounds := flag.Int("rounds", 5, "rounds; figures are medians")
	bigMB := flag.Int("big-mb", 200, "size of the single-layer image, MB")
	layers := flag.Int("layers", 50, "layers of the many-layer image")
	layerMB := flag.Int("layer-mb", 1, "size of each of those layers, MB")
	seconds := flag.Int("seconds", 5, "seconds of each wrk run")
	overcastBin := flag.String("overcast", "bin/overcast", "overcast binary")
	registryBin := flag.String("registry", "/usr/bin/docker-registry", "reference registry binary")
	flag.Parse()

	tmp, err := os.MkdirTemp("", "ecrbench")
	check(err)
	defer os.RemoveAll(tmp)
	oc, err := startOvercast(*overcastBin, tmp)
	check(err)
	defer stop(oc)
	ref, err := startReference(*registryBin, tmp)
	check(err)
	defer stop(ref)
	servers := []*server{oc, ref}
	fmt.Fprintf(os.Stderr, "overcast at %s, docker-registry at %s\n", oc.host, ref.host)

	type figures map[string][]float64
	results := map[string]figures{oc.name: {}, ref.name: {}}
	metrics := []string{}
	add := func(s *server, metric string, v float64) {
		if !slices.Contains(metrics, metric) {
			metrics = append(metrics, metric)
		}
		results[s.name][metric] = append(results[s.name][metric], v)
	}
	for round := range *rounds {
		for _, s := range servers {
			repo := fmt.Sprintf("bench/big-%d", round)
			img := randomImage(1, int64(*bigMB)<<20)
			push, pull, err := pushPull(s, repo, img)
			check(err)
			add(s, fmt.Sprintf("push 1 x %d MB (s)", *bigMB), push)
			add(s, fmt.Sprintf("pull 1 x %d MB (s)", *bigMB), pull)
			raw, err := rawGet(s, repo, img)
			check(err)
			add(s, fmt.Sprintf("GET %d MB layer, raw HTTP, no hashing (s)", *bigMB), raw)

			repo = fmt.Sprintf("bench/many-%d", round)
			img = randomImage(*layers, int64(*layerMB)<<20)
			push, pull, err = pushPull(s, repo, img)
			check(err)
			add(s, fmt.Sprintf("push %d x %d MB (s)", *layers, *layerMB), push)
			add(s, fmt.Sprintf("pull %d x %d MB (s)", *layers, *layerMB), pull)
		}
		fmt.Fprintf(os.Stderr, "round %d done\n", round+1)
	}
	// Manifest GETs of the last many-layer image, by tag.
	for range *rounds {
		for _, s := range servers {
			rps, p50, p99, err := wrk(s, fmt.Sprintf("/v2/bench/many-%d/manifests/latest", *rounds-1), *seconds)
			check(err)
			add(s, "manifest GET req/s (16 conns)", rps)
			add(s, "manifest GET p50 (ms)", p50)
			add(s, "manifest GET p99 (ms)", p99)
		}
	}

	fmt.Printf("| metric | overcast | docker-registry 2.8 | ratio |\n|---|---|---|---|\n")
	for _, m := range metrics {
		o, r := median(results[oc.name][m]), median(results[ref.name][m])
		ratio := ""
		switch {
		case strings.Contains(m, "req/s"):
			ratio = fmt.Sprintf("%.2fx", o/r)
		default: // times: higher ratio is better for overcast
			ratio = fmt.Sprintf("%.2fx", r/o)
		}
		format := "| %s | %.3f | %.3f | %s |\n"
		if strings.Contains(m, "req/s") {
			format = "| %s | %.0f | %.0f | %s |\n"
		}
		fmt.Printf(format, m, o, r, ratio)
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "ecrbench:", err)
		os.Exit(1)
	}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitFor(url string, want int) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == want {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer %d", url, want)
}

func stop(s *server) {
	if s.proc != nil && s.proc.Process != nil {
		s.proc.Process.Kill()
		s.proc.Wait()
	}
}

// ecrCall calls an ECR API operation unsigned (overcast serves unsigned
// requests as the default account outside --strict).
func ecrCall(host, op string, in, out any) error {
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest("POST", "http://"+host+"/", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921."+op)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: %d %s", op, resp.StatusCode, body)
	}
	if out != nil {
		return json.Unmarshal(body, out)
	}
	return nil
}

func startOvercast(bin, tmp string) (*server, error) {
	port := freePort()
	host := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, "up", "--addr", host, "--data-dir", filepath.Join(tmp, "overcast"))
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{name: "overcast", host: host, proc: cmd}
	if err := waitFor("http://"+host+"/_overcast/health", 200); err != nil {
		return s, err
	}
	var tok struct {
		AuthorizationData []struct {
			AuthorizationToken string `json:"authorizationToken"`
		} `json:"authorizationData"`
	}
	if err := ecrCall(host, "GetAuthorizationToken", map[string]any{}, &tok); err != nil {
		return s, err
	}
	raw, err := base64.StdEncoding.DecodeString(tok.AuthorizationData[0].AuthorizationToken)
	if err != nil {
		return s, err
	}
	user, pass, _ := strings.Cut(string(raw), ":")
	s.auth = authn.FromConfig(authn.AuthConfig{Username: user, Password: pass})
	s.header = "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	s.prepare = func(repo string) error {
		return ecrCall(host, "CreateRepository", map[string]string{"repositoryName": repo}, nil)
	}
	return s, nil
}

func startReference(bin, tmp string) (*server, error) {
	port := freePort()
	host := fmt.Sprintf("127.0.0.1:%d", port)
	dir := filepath.Join(tmp, "registry")
	config := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
`, dir, host)
	cfg := filepath.Join(tmp, "config.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", cfg)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{name: "docker-registry", host: host, proc: cmd, auth: authn.Anonymous, prepare: func(string) error { return nil }}
	return s, waitFor("http://"+host+"/v2/", 200)
}

// randomImage is an image of n layers of size random bytes each, typed as
// gzip layers (registries do not look inside), so the client spends no
// time compressing.
func randomImage(n int, size int64) v1.Image {
	var seed [32]byte
	binaryRand(seed[:])
	r := rand.NewChaCha8(seed)
	var layers []v1.Layer
	for range n {
		b := make([]byte, size)
		r.Read(b)
		layers = append(layers, static.NewLayer(b, types.DockerLayer))
	}
	img, err := mutate.AppendLayers(empty.Image, layers...)
	check(err)
	img = mutate.MediaType(img, types.DockerManifestSchema2)
	img = mutate.ConfigMediaType(img, types.DockerConfigJSON)
	return img
}

func binaryRand(b []byte) {
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
}

var transport = &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}

// pushPull pushes img as repo:latest and pulls it back (manifest, config
// and every layer, 4 at a time, read to the end and verified).
func pushPull(s *server, repo string, img v1.Image) (push, pull float64, err error) {
	if err := s.prepare(repo); err != nil {
		return 0, 0, err
	}
	ref, err := name.ParseReference(s.host + "/" + repo + ":latest")
	if err != nil {
		return 0, 0, err
	}
	opts := []remote.Option{remote.WithAuth(s.auth), remote.WithTransport(transport), remote.WithJobs(4), remote.WithContext(context.Background())}
	t0 := time.Now()
	if err := remote.Write(ref, img, opts...); err != nil {
		return 0, 0, fmt.Errorf("%s push: %w", s.name, err)
	}
	push = time.Since(t0).Seconds()

	t0 = time.Now()
	got, err := remote.Image(ref, opts...)
	if err != nil {
		return 0, 0, fmt.Errorf("%s pull: %w", s.name, err)
	}
	if _, err := got.RawConfigFile(); err != nil {
		return 0, 0, err
	}
	ls, err := got.Layers()
	if err != nil {
		return 0, 0, err
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(ls))
	sem := make(chan struct{}, 4)
	for _, l := range ls {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			rc, err := l.Compressed()
			if err != nil {
				errs <- err
				return
			}
			defer rc.Close()
			if _, err := io.Copy(io.Discard, rc); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return 0, 0, fmt.Errorf("%s pull: %w", s.name, err)
	}
	return push, time.Since(t0).Seconds(), nil
}

// rawGet downloads the image's first layer with plain net/http, reading to
// io.Discard without hashing: the server's own speed, which a client that
// verifies digests (crane, docker) hides behind its hashing.
func rawGet(s *server, repo string, img v1.Image) (float64, error) {
	ls, err := img.Layers()
	if err != nil {
		return 0, err
	}
	d, err := ls[0].Digest()
	if err != nil {
		return 0, err
	}
	req, _ := http.NewRequest("GET", "http://"+s.host+"/v2/"+repo+"/blobs/"+d.String(), nil)
	if s.header != "" {
		req.Header.Set("Authorization", strings.TrimPrefix(s.header, "Authorization: "))
	}
	t0 := time.Now()
	resp, err := (&http.Client{Transport: transport}).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	buf := make([]byte, 1<<20)
	n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{resp.Body}, buf)
	if err != nil || resp.StatusCode != 200 {
		return 0, fmt.Errorf("%s raw GET: %d, %d bytes, %v", s.name, resp.StatusCode, n, err)
	}
	return time.Since(t0).Seconds(), nil
}

var (
	rpsRE     = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	latencyRE = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)`)
)

// wrk runs wrk against path with 16 connections and returns req/s, p50
// and p99 latency in ms.
func wrk(s *server, path string, seconds int) (rps, p50, p99 float64, err error) {
	args := []string{"-t2", "-c16", "-d" + strconv.Itoa(seconds) + "s", "--latency",
		"-H", "Accept: application/vnd.docker.distribution.manifest.v2+json"}
	if s.header != "" {
		args = append(args, "-H", s.header)
	}
	args = append(args, "http://"+s.host+path)
	out, err := exec.Command("wrk", args...).CombinedOutput()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "Non-2xx") {
		return 0, 0, 0, fmt.Errorf("%s: wrk saw errors:\n%s", s.name, out)
	}
	m := rpsRE.FindSubmatch(out)
	if m == nil {
		return 0, 0, 0, fmt.Errorf("wrk output: %s", out)
	}
	rps, _ = strconv.ParseFloat(string(m[1]), 64)
	for _, l := range latencyRE.FindAllSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(string(l[2]), 64)
		switch string(l[3]) {
		case "us":
			v /= 1000
		case "s":
			v *= 1000
		}
		if string(l[1]) == "50" {
			p50 = v
		} else {
			p99 = v
		}
	}
	return rps, p50, p99, nil
}
