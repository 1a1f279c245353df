package registry

import (
	"regexp"
	"strings"
)

// repositoryName is ECR's rule for repository names (which the
// distribution spec's name grammar contains).
var repositoryName = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

// RepositoryNamePattern is the rule as ECR words it in errors.
const RepositoryNamePattern = `(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*`

// ValidRepositoryName reports whether name is a valid ECR repository name:
// 2 to 256 characters of the pattern.
func ValidRepositoryName(name string) bool {
	return len(name) >= 2 && len(name) <= 256 && repositoryName.MatchString(name)
}

// ValidTag reports whether tag fits the spec's tag grammar.
func ValidTag(tag string) bool {
	if len(tag) == 0 || len(tag) > 128 {
		return false
	}
	for i := 0; i < len(tag); i++ {
		c := tag[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
		if i > 0 {
			ok = ok || c == '.' || c == '-'
		}
		if !ok {
			return false
		}
	}
	return true
}

var registryHost = regexp.MustCompile(`^([0-9]{12})\.dkr\.ecr(?:-fips)?\.([a-z]{2}(?:-[a-z]+)+-[0-9])\.amazonaws\.com(?:\.cn)?$`)

// ParseRegistryHost reads an ECR registry host name,
// <account>.dkr.ecr.<region>.amazonaws.com.
func ParseRegistryHost(host string) (account, region string, ok bool) {
	m := registryHost.FindStringSubmatch(host)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// RegistryHost is the AWS host name of an account's registry in a region.
func RegistryHost(account, region string) string {
	return account + ".dkr.ecr." + region + ".amazonaws.com"
}

// ParseRepo resolves a repository as a request names it: "name" is the
// token's registry, "<registry host>/name" another one.
func ParseRepo(path string, id Identity) (Repo, bool) {
	if first, rest, ok := strings.Cut(path, "/"); ok {
		if account, region, ok := ParseRegistryHost(first); ok {
			return Repo{Account: account, Region: region, Name: rest}, ValidRepositoryName(rest)
		}
	}
	return Repo{Account: id.Account, Region: id.Region, Name: path}, ValidRepositoryName(path)
}
