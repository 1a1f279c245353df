// Package privileged gives a CodeBuild build in privileged mode
// (environment.privilegedMode) a Docker engine, so that its buildspec can
// `docker build`, `docker login` to overcast's ECR and `docker push`, as on
// AWS; a build without privileged mode gets no engine.
//
// The engine is the one overcast runs builds on, its socket mounted where
// the docker CLI looks, rather than a dockerd started inside the build
// container (Docker-in-Docker, as AWS's images do in their entrypoint). The
// registry address overcast reports for ECR (127.0.0.1:4566/...) is on the
// host's loopback: the host's engine reaches it, and trusts it without TLS
// as it trusts every loopback registry, while a dockerd inside the build
// would see the container's own loopback, where nothing listens. The host's
// engine also starts at once, needs no image carrying dockerd, and keeps
// its layer cache from build to build (what LOCAL_DOCKER_LAYER_CACHE asks
// for). The cost: what the build runs with docker shares the host's engine,
// as with CodeBuild's local agent, which mounts the socket the same way.
//
// The build container itself runs without --privileged: talking to an
// engine through its socket needs no kernel privileges, and engines inside
// VMs (this project's CI among them) refuse to start privileged containers.
package privileged

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"

	"overcast/internal/codebuild/runner"
)

// SocketTarget is where the engine's socket appears in the build
// container: the docker CLI's default.
const SocketTarget = "/var/run/docker.sock"

// Apply gives b, if it is privileged, the engine at engineHost (a
// DOCKER_HOST address, docker.Host()): a unix socket is mounted at
// SocketTarget; a TCP address is handed in as DOCKER_HOST, unless it is on
// loopback, which the container cannot reach. A build that is not
// privileged is left as it is.
func Apply(b *runner.Build, engineHost string) error {
	if !b.Privileged {
		return nil
	}
	u, err := url.Parse(engineHost)
	if err != nil {
		return fmt.Errorf("privileged mode: the engine's address %q: %w", engineHost, err)
	}
	switch u.Scheme {
	case "unix":
		b.Mounts = append(b.Mounts, runner.Mount{Source: u.Path, Target: SocketTarget})
		return nil
	case "tcp":
		host, _, _ := net.SplitHostPort(u.Host)
		if a, err := netip.ParseAddr(host); (err == nil && a.IsLoopback()) || strings.EqualFold(host, "localhost") {
			return fmt.Errorf("privileged mode: the Docker engine at %s is on loopback, which a build container cannot reach; serve it on a unix socket", engineHost)
		}
		if b.System == nil {
			b.System = map[string]string{}
		}
		b.System["DOCKER_HOST"] = engineHost
		return nil
	}
	return fmt.Errorf("privileged mode: cannot hand the Docker engine at %s to a build", engineHost)
}
