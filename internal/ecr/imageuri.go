package ecr

import (
	"net"
	"strings"

	"overcast/internal/ecr/registry"
)

// ImageRef is an image in an ECR repository, as a task definition, a
// Beanstalk Dockerrun file or a buildspec names it.
type ImageRef struct {
	Account, Region string
	Repository      string
	// Tag or Digest (one of them; Tag is "latest" when the URI names
	// neither).
	Tag    string
	Digest string
}

// ParseImageURI reads an image URI that names an ECR repository, in
// either form overcast accepts:
//
//	<account>.dkr.ecr.<region>.amazonaws.com/<name>[:tag|@digest]   AWS's form
//	127.0.0.1:4566/<name>[:tag|@digest]                              overcast's repositoryUri (any loopback host:port)
//	127.0.0.1:4566/<account>.dkr.ecr.<region>.amazonaws.com/<name>   another registry through overcast's
//
// The short local form belongs to defaultAccount and defaultRegion (the
// caller's). ok is false for images that are not in ECR (docker.io/nginx,
// public.ecr.aws/...), which callers pull as they are.
func ParseImageURI(uri, defaultAccount, defaultRegion string) (ref ImageRef, ok bool) {
	host, path, found := strings.Cut(uri, "/")
	if !found || path == "" {
		return ImageRef{}, false
	}
	if account, region, isECR := registry.ParseRegistryHost(host); isECR {
		ref.Account, ref.Region = account, region
	} else if isLocalRegistry(host) {
		ref.Account, ref.Region = defaultAccount, defaultRegion
		if first, rest, nested := strings.Cut(path, "/"); nested {
			if account, region, isECR := registry.ParseRegistryHost(first); isECR {
				ref.Account, ref.Region, path = account, region, rest
			}
		}
	} else {
		return ImageRef{}, false
	}
	name := path
	if at := strings.IndexByte(path, '@'); at >= 0 {
		name, ref.Digest = path[:at], path[at+1:]
		if _, valid := registry.ParseDigest(ref.Digest); !valid {
			return ImageRef{}, false
		}
		// "name:tag@digest": the digest decides, as docker does.
		if c := strings.LastIndexByte(name, ':'); c >= 0 {
			name = name[:c]
		}
	} else if c := strings.LastIndexByte(path, ':'); c >= 0 {
		name, ref.Tag = path[:c], path[c+1:]
		if !registry.ValidTag(ref.Tag) {
			return ImageRef{}, false
		}
	} else {
		ref.Tag = "latest"
	}
	if !registry.ValidRepositoryName(name) {
		return ImageRef{}, false
	}
	ref.Repository = name
	return ref, true
}

// isLocalRegistry reports whether host is a registry on this machine: a
// loopback address or localhost, with a port.
func isLocalRegistry(host string) bool {
	h, port, err := net.SplitHostPort(host)
	if err != nil || port == "" {
		return false
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// URI is the image's AWS-shaped URI.
func (r ImageRef) URI() string {
	return registry.RegistryHost(r.Account, r.Region) + "/" + r.Repository + r.suffix()
}

func (r ImageRef) suffix() string {
	if r.Digest != "" {
		return "@" + r.Digest
	}
	return ":" + r.Tag
}

// PullReference is what a Docker engine on this machine pulls to get the
// image from overcast's registry at registryHost (Service.RegistryHost):
// the repository qualified with its registry, which the registry resolves
// whatever account the pull's token belongs to. Authenticate the pull with
// Service.RegistryCredentials(r.Account, r.Region).
func (r ImageRef) PullReference(registryHost string) string {
	return registryHost + "/" + registry.RegistryHost(r.Account, r.Region) + "/" + r.Repository + r.suffix()
}
